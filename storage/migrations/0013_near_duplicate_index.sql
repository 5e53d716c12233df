-- The near-duplicate index of evidence photos (storage/near_duplicates.py).
-- Photos stored before this migration have no fingerprint yet: run
--     python -m bot reindex-evidence
-- once (it reads the files already in the media folder, nothing is downloaded again; the bot
-- also indexes what is missing in the background when it starts).

-- Per photo: whether it is blank, the 64-bit pHash (signed) and the finer 256-bit hash of
-- its centre (storage/images.py). Read by id only: to confirm candidates, to remove a photo.
CREATE TABLE evidence_fingerprints (
    evidence_id INTEGER PRIMARY KEY REFERENCES evidence (id) ON DELETE CASCADE,
    blank INTEGER NOT NULL,
    hash INTEGER NOT NULL,
    fine BLOB NOT NULL
);

-- Multi-index hashing: one row per band (21, 21, 22 bits) of the hash of each photo that is
-- not blank: key = band << 22 | band value, the whole hash, the photo. Looked up by key only.
CREATE TABLE evidence_bands (
    key INTEGER NOT NULL,
    hash INTEGER NOT NULL,
    evidence_id INTEGER NOT NULL,
    PRIMARY KEY (key, evidence_id)
) WITHOUT ROWID;
