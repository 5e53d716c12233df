-- The near-duplicate index in buckets (storage/near_duplicates.py): one row per band value
-- instead of one per photo and band, so that a lookup reads one row per probe key.
-- Each bucket's `entries` is 32 hex digits per photo: its 64-bit hash, then its evidence id.
-- The rows of 0013's `evidence_bands` are moved here; nothing is downloaded or read again.
CREATE TABLE evidence_buckets (
    key INTEGER PRIMARY KEY, -- band << 22 | band value
    entries TEXT NOT NULL
);

INSERT INTO evidence_buckets (key, entries)
SELECT key, group_concat(printf('%016x%016x', hash, evidence_id), '')
FROM evidence_bands
GROUP BY key;

DROP TABLE evidence_bands;
