-- Learning families and clans registered for a programme year, with their self-assessment.
CREATE TABLE registrations (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('family', 'clan')),
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    hamlet_id INTEGER NOT NULL REFERENCES areas (id),
    commune_code TEXT NOT NULL,
    province_code TEXT NOT NULL,
    criteria_set_id TEXT NOT NULL REFERENCES criteria_sets (id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    head_name TEXT NOT NULL,
    clan_name TEXT,
    branch TEXT,
    members INTEGER,
    school_age_children INTEGER,
    households INTEGER,
    address TEXT,
    phone TEXT,
    status TEXT NOT NULL DEFAULT 'registered'
        CHECK (status IN ('registered', 'withdrawn', 'recognised', 'not_recognised')),
    registered_by INTEGER NOT NULL REFERENCES people (id),
    draft_id INTEGER UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (kind, year, seq)
);
CREATE INDEX registrations_hamlet ON registrations (hamlet_id, year, kind);
CREATE INDEX registrations_commune ON registrations (commune_code, year, kind, status);
CREATE INDEX registrations_province ON registrations (province_code, year, kind, status);
CREATE INDEX registrations_name ON registrations (hamlet_id, year, kind, name_key);

CREATE TABLE self_assessments (
    registration_id INTEGER NOT NULL REFERENCES registrations (id),
    indicator_code TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (registration_id, indicator_code)
);

-- One unfinished registration per person; every answer is written as soon as it is given.
-- AUTOINCREMENT: a draft id is never reused, since registrations.draft_id keys idempotency.
CREATE TABLE registration_drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id INTEGER NOT NULL UNIQUE REFERENCES people (id),
    hamlet_id INTEGER REFERENCES areas (id),
    year INTEGER NOT NULL,
    answers TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- The programme year's dates, per province.
CREATE TABLE programme_years (
    province_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    registration_close TEXT NOT NULL,
    evaluation_lock TEXT NOT NULL,
    recognition TEXT NOT NULL,
    PRIMARY KEY (province_code, year)
);
