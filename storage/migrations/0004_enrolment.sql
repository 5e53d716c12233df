-- Failed invite-code attempts, for throttling guessers.
CREATE TABLE enrolment_failures (
    id INTEGER PRIMARY KEY,
    telegram_id INTEGER NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX enrolment_failures_person ON enrolment_failures (telegram_id, at);
