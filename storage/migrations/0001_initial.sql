-- Administrative areas: provinces and communes from the official list, hamlets kept by communes.
CREATE TABLE areas (
    id INTEGER PRIMARY KEY,
    level TEXT NOT NULL CHECK (level IN ('province', 'commune', 'hamlet')),
    code TEXT,
    name TEXT NOT NULL,
    name_fold TEXT NOT NULL,
    search_key TEXT NOT NULL,
    parent_id INTEGER REFERENCES areas (id),
    province_code TEXT NOT NULL,
    commune_code TEXT
);
CREATE UNIQUE INDEX areas_official_code ON areas (level, code) WHERE code IS NOT NULL;
CREATE UNIQUE INDEX areas_hamlet_name ON areas (parent_id, name_fold) WHERE level = 'hamlet';
CREATE INDEX areas_parent ON areas (parent_id);
CREATE INDEX areas_commune ON areas (commune_code);

CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    telegram_id INTEGER NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    phone TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'branch_chair', 'hamlet_head')),
    area_id INTEGER REFERENCES areas (id),
    locale TEXT NOT NULL DEFAULT 'vi',
    active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);
CREATE INDEX people_area ON people (area_id);

CREATE TABLE invites (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'staff', 'branch_chair', 'hamlet_head')),
    area_id INTEGER REFERENCES areas (id),
    created_by INTEGER REFERENCES people (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    used_by INTEGER REFERENCES people (id),
    revoked_at TEXT
);

-- Append-only: the triggers below refuse any change to a written entry.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER REFERENCES people (id),
    actor_telegram_id INTEGER,
    action TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id TEXT,
    area_id INTEGER REFERENCES areas (id),
    before TEXT,
    after TEXT
);
CREATE INDEX audit_subject ON audit_log (subject_type, subject_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
