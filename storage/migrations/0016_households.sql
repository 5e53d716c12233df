-- The number of households of a hamlet, for the rate of households recognised as learning
-- families (QĐ 387/QĐ-TTg). NULL: not known (never counted as zero).
ALTER TABLE areas ADD COLUMN households INTEGER CHECK (households IS NULL OR households >= 0);
