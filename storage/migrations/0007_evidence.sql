-- Evidence (minh chứng): photos per indicator of a registration, sent by branch chairs and others.
-- A row exists as soon as a photo arrives; until its bytes are on disk it is 'pending_download'
-- and keeps the Telegram file_id, so nothing sent is ever lost.
CREATE TABLE evidence (
    id INTEGER PRIMARY KEY,
    registration_id INTEGER NOT NULL REFERENCES registrations (id),
    indicator_code TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('stored', 'pending_download')),
    media_kind TEXT NOT NULL CHECK (media_kind IN ('photo', 'document')),
    file_id TEXT NOT NULL,
    file_unique_id TEXT NOT NULL,
    sha256 TEXT,
    bytes INTEGER,
    width INTEGER,
    height INTEGER,
    mime_type TEXT,
    path TEXT, -- relative to the media folder: <year>/<registration number>/<sha256>.<ext>
    phash TEXT, -- imagehash.phash as 16 hex digits
    captured_at TEXT, -- EXIF DateTimeOriginal, local time as the camera wrote it
    message_date TEXT NOT NULL,
    uploaded_by INTEGER NOT NULL REFERENCES people (id),
    caption TEXT,
    forwarded INTEGER NOT NULL DEFAULT 0,
    flags TEXT NOT NULL DEFAULT '[]', -- JSON list: duplicates, near-duplicates, capture date
    download_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX evidence_registration ON evidence (registration_id, indicator_code);
CREATE INDEX evidence_sha256 ON evidence (sha256);
CREATE INDEX evidence_file_unique_id ON evidence (file_unique_id);
CREATE INDEX evidence_pending ON evidence (status);

-- What a person is sending evidence for right now (one at a time), kept across restarts.
CREATE TABLE evidence_sessions (
    person_id INTEGER PRIMARY KEY REFERENCES people (id),
    registration_id INTEGER NOT NULL REFERENCES registrations (id),
    indicator_code TEXT,
    stored INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
