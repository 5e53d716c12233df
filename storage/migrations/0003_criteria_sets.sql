-- Criteria sets as loaded and validated, and which set each province uses for a year and model.
-- A stored set never changes: registrations keep its id and are assessed against it for good.
CREATE TABLE criteria_sets (
    id TEXT PRIMARY KEY,
    set_key TEXT NOT NULL,
    model_kind TEXT NOT NULL CHECK (model_kind IN ('family', 'clan', 'community', 'unit')),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    source_sha256 TEXT NOT NULL,
    loaded_at TEXT NOT NULL
);
CREATE INDEX criteria_sets_key ON criteria_sets (set_key);
CREATE TRIGGER criteria_sets_no_update BEFORE UPDATE ON criteria_sets
BEGIN SELECT RAISE(ABORT, 'a stored criteria set never changes'); END;
CREATE TRIGGER criteria_sets_no_delete BEFORE DELETE ON criteria_sets
BEGIN SELECT RAISE(ABORT, 'a stored criteria set never changes'); END;

-- One set per province, year and model; a newer activation replaces the older one (the audit
-- log keeps the history).
CREATE TABLE criteria_activations (
    province_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    model_kind TEXT NOT NULL CHECK (model_kind IN ('family', 'clan', 'community', 'unit')),
    criteria_set_id TEXT NOT NULL REFERENCES criteria_sets (id),
    activated_at TEXT NOT NULL,
    PRIMARY KEY (province_code, year, model_kind)
);
