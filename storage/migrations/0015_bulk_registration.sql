-- Registrations made many at once: a pasted or uploaded list, or last year's carried over.

-- A registration carried over from last year refers to the one it continues; each of last
-- year's is carried over at most once (a second Confirm finds it taken).
ALTER TABLE registrations ADD COLUMN previous_id INTEGER REFERENCES registrations (id);
CREATE UNIQUE INDEX registrations_previous ON registrations (previous_id)
    WHERE previous_id IS NOT NULL;

-- What someone has entered so far, one per person and mode, until Confirm or cancel: the lines
-- of a list (as typed, so nothing is lost), or the families and clans unticked.
-- AUTOINCREMENT: buttons carry the draft id, so an id is never reused by a later draft.
CREATE TABLE bulk_drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id INTEGER NOT NULL REFERENCES people (id),
    mode TEXT NOT NULL CHECK (mode IN ('list', 'carry')),
    hamlet_id INTEGER REFERENCES areas (id),
    year INTEGER NOT NULL,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (person_id, mode)
);
