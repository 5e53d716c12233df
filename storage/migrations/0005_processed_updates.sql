-- Telegram update ids already processed, so that a redelivered update is not handled twice.
-- Rows older than a week are pruned by the daily job: Telegram redelivers only what was not
-- confirmed, and may restart its id sequence after a week without updates.
CREATE TABLE processed_updates (
    update_id INTEGER PRIMARY KEY,
    processed_at TEXT NOT NULL
);
CREATE INDEX processed_updates_at ON processed_updates (processed_at);
