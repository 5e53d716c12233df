-- The near-duplicate index of evidence photos (storage/near_duplicates.py).
-- Photos stored before this migration have no fingerprint yet: run
--     python -m bot reindex-evidence
-- once (it reads the files already in the media folder, nothing is downloaded again; the bot
-- also indexes what is missing in the background when it starts).

-- Per photo: whether it is blank, its six region pHashes (6 x 8 bytes) and finer hashes
-- (6 x 32 bytes). Read only by id: for confirming candidates and for removing a photo.
CREATE TABLE evidence_fingerprints (
    evidence_id INTEGER PRIMARY KEY REFERENCES evidence (id) ON DELETE CASCADE,
    blank INTEGER NOT NULL,
    hashes BLOB NOT NULL,
    fine BLOB NOT NULL
);

-- Multi-index hashing: one row per 16-bit band of each region hash of a photo that is not
-- blank. key = band << 16 | band value; hash = the region's whole 64-bit pHash (signed);
-- ref = evidence id * 8 + region. Looked up by key only.
CREATE TABLE evidence_bands (
    key INTEGER NOT NULL,
    hash INTEGER NOT NULL,
    ref INTEGER NOT NULL,
    PRIMARY KEY (key, ref)
) WITHOUT ROWID;
