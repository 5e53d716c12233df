-- One evidence-state rule, and tallies kept by the database in the same transaction as every
-- write (issue 12). storage/evidence_state.py documents the rule and is the only Python module
-- that reads it; every report, the recognition list, the reminders and the digest go through it.

-- Every indicator of every stored criteria set, with whether it requires evidence, read from
-- the set's JSON body (stored sets never change, so neither do these rows).
CREATE TABLE set_indicators (
    set_id TEXT NOT NULL REFERENCES criteria_sets (id),
    code TEXT NOT NULL,
    required INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (set_id, code)
) WITHOUT ROWID;
INSERT OR IGNORE INTO set_indicators (set_id, code, required, position)
SELECT s.id, json_extract(i.value, '$.code'),
       COALESCE(json_extract(i.value, '$.evidence_required'), 0), c.key * 1000 + i.key
FROM criteria_sets s, json_each(s.body, '$.criteria') c, json_each(c.value, '$.indicators') i;
CREATE TRIGGER criteria_sets_indicators AFTER INSERT ON criteria_sets
BEGIN
    INSERT OR IGNORE INTO set_indicators (set_id, code, required, position)
    SELECT NEW.id, json_extract(i.value, '$.code'),
           COALESCE(json_extract(i.value, '$.evidence_required'), 0), c.key * 1000 + i.key
    FROM json_each(NEW.body, '$.criteria') c, json_each(c.value, '$.indicators') i;
END;

-- THE RULE, per indicator of a registration's set:
--   accepted    at least one of its photos has an accepted latest decision;
--   needs_more  none accepted, and the latest decision on some photo is "needs more";
--   waiting     photos, none decided;
--   missing     no photo.
CREATE VIEW indicator_states AS
SELECT r.id AS registration_id, q.code AS indicator_code, q.required AS required,
       q.position AS position,
       CASE
           WHEN EXISTS (SELECT 1 FROM evidence e JOIN evidence_reviews v ON v.evidence_id = e.id
                        WHERE e.registration_id = r.id AND e.indicator_code = q.code
                          AND v.decision = 'accepted') THEN 'accepted'
           WHEN EXISTS (SELECT 1 FROM evidence e JOIN evidence_reviews v ON v.evidence_id = e.id
                        WHERE e.registration_id = r.id AND e.indicator_code = q.code
                          AND v.decision = 'needs_more') THEN 'needs_more'
           WHEN EXISTS (SELECT 1 FROM evidence e
                        WHERE e.registration_id = r.id AND e.indicator_code = q.code)
                THEN 'waiting'
           ELSE 'missing'
       END AS state
FROM registrations r JOIN set_indicators q ON q.set_id = r.criteria_set_id;

-- A registration is evidence complete when no required indicator is missing, and assessed
-- when every required indicator is accepted. state: 0 incomplete, 1 complete, 2 assessed.
CREATE VIEW registration_evidence AS
SELECT r.id AS registration_id,
       CASE
           WHEN EXISTS (SELECT 1 FROM indicator_states s WHERE s.registration_id = r.id
                        AND s.required AND s.state = 'missing') THEN 0
           WHEN EXISTS (SELECT 1 FROM indicator_states s WHERE s.registration_id = r.id
                        AND s.required AND s.state != 'accepted') THEN 1
           ELSE 2
       END AS state
FROM registrations r;

-- The rule's result kept on the registration, by the triggers below.
ALTER TABLE registrations ADD COLUMN evidence_state INTEGER NOT NULL DEFAULT 0;
UPDATE registrations SET evidence_state =
    (SELECT x.state FROM registration_evidence x WHERE x.registration_id = registrations.id);
CREATE INDEX registrations_evidence_state ON registrations (year, evidence_state, status);

-- Counts per programme year, area and model kind, at three levels: 'hamlet' (area: the hamlet
-- id, parent: its commune code), 'commune' (area: code, parent: province code) and 'province'
-- (area: code, parent: ''). A summary reads the rows of one parent: as many rows as child areas.
CREATE TABLE tallies (
    year INTEGER NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('province', 'commune', 'hamlet')),
    parent TEXT NOT NULL,
    area TEXT NOT NULL,
    kind TEXT NOT NULL,
    registered INTEGER NOT NULL DEFAULT 0,
    evidence_complete INTEGER NOT NULL DEFAULT 0,
    assessed INTEGER NOT NULL DEFAULT 0,
    recognised INTEGER NOT NULL DEFAULT 0,
    not_recognised INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (year, level, parent, area, kind)
) WITHOUT ROWID;

-- Insert a registration's contribution (signed by `sign`) into the three levels of tallies.
CREATE VIEW tally_changes (year, hamlet_id, commune_code, province_code, kind, sign, status,
                           evidence_state) AS
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE TRIGGER tally_changes_apply INSTEAD OF INSERT ON tally_changes
WHEN NEW.status != 'withdrawn'
BEGIN
    INSERT INTO tallies (year, level, parent, area, kind, registered, evidence_complete,
                         assessed, recognised, not_recognised)
    VALUES
        (NEW.year, 'hamlet', NEW.commune_code, CAST(NEW.hamlet_id AS TEXT), NEW.kind, NEW.sign,
         NEW.sign * (NEW.evidence_state >= 1), NEW.sign * (NEW.evidence_state = 2),
         NEW.sign * (NEW.status = 'recognised'), NEW.sign * (NEW.status = 'not_recognised')),
        (NEW.year, 'commune', NEW.province_code, NEW.commune_code, NEW.kind, NEW.sign,
         NEW.sign * (NEW.evidence_state >= 1), NEW.sign * (NEW.evidence_state = 2),
         NEW.sign * (NEW.status = 'recognised'), NEW.sign * (NEW.status = 'not_recognised')),
        (NEW.year, 'province', '', NEW.province_code, NEW.kind, NEW.sign,
         NEW.sign * (NEW.evidence_state >= 1), NEW.sign * (NEW.evidence_state = 2),
         NEW.sign * (NEW.status = 'recognised'), NEW.sign * (NEW.status = 'not_recognised'))
    ON CONFLICT (year, level, parent, area, kind) DO UPDATE SET
        registered = registered + excluded.registered,
        evidence_complete = evidence_complete + excluded.evidence_complete,
        assessed = assessed + excluded.assessed,
        recognised = recognised + excluded.recognised,
        not_recognised = not_recognised + excluded.not_recognised;
END;

-- A registration's state is worked out again whenever its photos, their reviews or its set
-- change; a change of state, status, hamlet, year or kind moves it between tallies.
CREATE TRIGGER registrations_tally_insert AFTER INSERT ON registrations
BEGIN
    INSERT INTO tally_changes VALUES (NEW.year, NEW.hamlet_id, NEW.commune_code,
        NEW.province_code, NEW.kind, 1, NEW.status, NEW.evidence_state);
    UPDATE registrations SET evidence_state =
        (SELECT x.state FROM registration_evidence x WHERE x.registration_id = NEW.id)
    WHERE id = NEW.id;
END;
CREATE TRIGGER registrations_tally_update AFTER UPDATE OF
    status, evidence_state, hamlet_id, commune_code, province_code, year, kind ON registrations
WHEN OLD.status IS NOT NEW.status OR OLD.evidence_state IS NOT NEW.evidence_state
  OR OLD.hamlet_id IS NOT NEW.hamlet_id OR OLD.commune_code IS NOT NEW.commune_code
  OR OLD.province_code IS NOT NEW.province_code OR OLD.year IS NOT NEW.year
  OR OLD.kind IS NOT NEW.kind
BEGIN
    INSERT INTO tally_changes VALUES (OLD.year, OLD.hamlet_id, OLD.commune_code,
        OLD.province_code, OLD.kind, -1, OLD.status, OLD.evidence_state);
    INSERT INTO tally_changes VALUES (NEW.year, NEW.hamlet_id, NEW.commune_code,
        NEW.province_code, NEW.kind, 1, NEW.status, NEW.evidence_state);
END;
CREATE TRIGGER registrations_state_set AFTER UPDATE OF criteria_set_id ON registrations
BEGIN
    UPDATE registrations SET evidence_state =
        (SELECT x.state FROM registration_evidence x WHERE x.registration_id = NEW.id)
    WHERE id = NEW.id;
END;
CREATE TRIGGER registrations_tally_delete AFTER DELETE ON registrations
BEGIN
    INSERT INTO tally_changes VALUES (OLD.year, OLD.hamlet_id, OLD.commune_code,
        OLD.province_code, OLD.kind, -1, OLD.status, OLD.evidence_state);
END;

CREATE TRIGGER evidence_state_insert AFTER INSERT ON evidence
BEGIN
    UPDATE registrations SET evidence_state =
        (SELECT x.state FROM registration_evidence x WHERE x.registration_id = NEW.registration_id)
    WHERE id = NEW.registration_id;
END;
CREATE TRIGGER evidence_state_delete AFTER DELETE ON evidence
BEGIN
    UPDATE registrations SET evidence_state =
        (SELECT x.state FROM registration_evidence x WHERE x.registration_id = OLD.registration_id)
    WHERE id = OLD.registration_id;
END;
CREATE TRIGGER evidence_state_update AFTER UPDATE OF registration_id, indicator_code ON evidence
BEGIN
    UPDATE registrations SET evidence_state =
        (SELECT x.state FROM registration_evidence x WHERE x.registration_id = registrations.id)
    WHERE id IN (OLD.registration_id, NEW.registration_id);
END;

CREATE TRIGGER reviews_state_insert AFTER INSERT ON evidence_reviews
BEGIN
    UPDATE registrations SET evidence_state =
        (SELECT x.state FROM registration_evidence x WHERE x.registration_id = registrations.id)
    WHERE id = (SELECT registration_id FROM evidence WHERE id = NEW.evidence_id);
END;
CREATE TRIGGER reviews_state_update AFTER UPDATE ON evidence_reviews
BEGIN
    UPDATE registrations SET evidence_state =
        (SELECT x.state FROM registration_evidence x WHERE x.registration_id = registrations.id)
    WHERE id IN (SELECT registration_id FROM evidence WHERE id IN (OLD.evidence_id, NEW.evidence_id));
END;
CREATE TRIGGER reviews_state_delete AFTER DELETE ON evidence_reviews
BEGIN
    UPDATE registrations SET evidence_state =
        (SELECT x.state FROM registration_evidence x WHERE x.registration_id = registrations.id)
    WHERE id = (SELECT registration_id FROM evidence WHERE id = OLD.evidence_id);
END;

-- The tallies of the registrations already there.
INSERT INTO tally_changes
SELECT year, hamlet_id, commune_code, province_code, kind, 1, status, evidence_state
FROM registrations;
