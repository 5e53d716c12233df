-- Processed update ids are a bot's own: another bot (the token changed) numbers its updates
-- anew, and those must not be skipped as if seen. The old rows cannot be told apart by bot
-- and are dropped; they only guarded redeliveries of the minutes before the upgrade.
DROP TABLE processed_updates;
CREATE TABLE processed_updates (
    bot_id INTEGER NOT NULL,
    update_id INTEGER NOT NULL,
    processed_at TEXT NOT NULL,
    PRIMARY KEY (bot_id, update_id)
) WITHOUT ROWID;
CREATE INDEX processed_updates_at ON processed_updates (processed_at);
