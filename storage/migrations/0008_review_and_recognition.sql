-- Staff review of evidence: the latest decision per photo (the audit log keeps every decision).
-- A photo with no row here is unreviewed; a new upload for the indicator has no row either,
-- so after "needs more" the indicator returns to the review queue by itself.
CREATE TABLE evidence_reviews (
    evidence_id INTEGER PRIMARY KEY REFERENCES evidence (id),
    decision TEXT NOT NULL CHECK (decision IN ('accepted', 'needs_more')),
    reason TEXT,
    reviewer_id INTEGER NOT NULL REFERENCES people (id),
    reviewed_at TEXT NOT NULL
);
CREATE INDEX evidence_reviews_decision ON evidence_reviews (decision);

-- The recognition decision on a registration, locked once made; only an admin reopens it.
CREATE TABLE recognitions (
    registration_id INTEGER PRIMARY KEY REFERENCES registrations (id),
    result TEXT NOT NULL CHECK (result IN ('recognised', 'not_recognised')),
    evaluation TEXT NOT NULL, -- JSON: the pass rule's computation, as shown to staff
    decision_number TEXT,
    decision_date TEXT,
    decided_by INTEGER NOT NULL REFERENCES people (id),
    decided_at TEXT NOT NULL,
    locked INTEGER NOT NULL DEFAULT 1
);

-- Reminders sent, so that nobody is reminded twice on one day; and staff digest choices.
CREATE TABLE reminders_sent (
    person_id INTEGER NOT NULL REFERENCES people (id),
    kind TEXT NOT NULL,
    sent_on TEXT NOT NULL, -- local date
    PRIMARY KEY (person_id, kind, sent_on)
);
CREATE TABLE digest_subscriptions (
    person_id INTEGER PRIMARY KEY REFERENCES people (id),
    weekly INTEGER NOT NULL DEFAULT 1
);
