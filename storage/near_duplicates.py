"""The near-duplicate index: every stored photo within a few bits of a new one, without a scan.

Multi-index hashing. The 64-bit hash of each stored photo (storage/images.py) is split into
three bands of 21, 21 and 22 bits, and `evidence_bands` keeps one row per band: (band and its
value, the whole hash, the photo). Two hashes at most 5 bits apart differ in at most one bit
in some band (pigeonhole: 2 + 2 + 2 > 5), so looking up each band's value and its one-bit
neighbours (67 keys per hash) finds every stored hash within NEAR_DUPLICATE_DISTANCE bits of
any of the new photo's probe hashes; the candidates' whole hashes are then compared. The finer
hashes (`evidence_fingerprints`) are read only for the closest candidates, to confirm them.

Blank images are not put in the bands: they are never near-duplicates of anything.
"""

import asyncio
import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from storage.db import Database
from storage.images import (
    CONFIRM_DISTANCE,
    NEAR_DUPLICATE_DISTANCE,
    Fingerprint,
    NotAnImage,
    TooLarge,
    aligned_distances,
    examine,
    in_worker,
)

log = logging.getLogger(__name__)

BANDS = ((0, 21), (21, 21), (42, 22))  # (first bit, bits)
KEY_SHIFT = 22  # key = band << 22 | band value
ALL_BITS = (1 << 64) - 1
CONFIRM_AT_MOST = 5  # candidates confirmed per new photo, closest first
assert 2 * len(BANDS) > NEAR_DUPLICATE_DISTANCE, "one-bit neighbours would miss matches"


@dataclass(frozen=True, order=True)
class Match:
    """A stored photo like the new one: `distance` bits between its hash and the new photo's
    closest probe (`probe`: which of storage.images.HYPOTHESES)."""

    distance: int
    evidence_id: int
    probe: int


def signed(value: int) -> int:
    """A 64-bit unsigned hash as SQLite's signed INTEGER."""
    return value - (1 << 64) if value >= 1 << 63 else value


def band_keys(value: int) -> list[int]:
    """The key of each band of a hash."""
    return [
        band << KEY_SHIFT | (value >> first) & ((1 << bits) - 1)
        for band, (first, bits) in enumerate(BANDS)
    ]


def probe_keys(value: int) -> list[int]:
    """Each band's key and its one-bit neighbours."""
    keys = []
    for key, (_first, bits) in zip(band_keys(value), BANDS, strict=True):
        keys.append(key)
        keys.extend(key ^ (1 << bit) for bit in range(bits))
    return keys


def wanted_keys(probes: tuple[int, ...]) -> dict[int, list[int]]:
    """The keys to look up for all probes, each with the probes it came from."""
    wanted: dict[int, list[int]] = {}
    for index, value in enumerate(probes):
        for key in probe_keys(value):
            wanted.setdefault(key, []).append(index)
    return wanted


def lookup(path: str, probes: tuple[int, ...], limit: int) -> list[Match]:
    """`NearDuplicateIndex.candidates`, on the calling thread."""
    wanted = wanted_keys(probes)
    rows = _read(
        path,
        "SELECT key, hash, evidence_id FROM evidence_bands"
        f" WHERE key IN ({','.join(map(str, sorted(wanted)))})",
    )
    best: dict[int, Match] = {}
    for key, stored, evidence_id in rows:
        for index in wanted[key]:
            distance = (probes[index] ^ stored & ALL_BITS).bit_count()
            if distance > limit:
                continue
            match = Match(distance, evidence_id, index)
            if evidence_id not in best or match < best[evidence_id]:
                best[evidence_id] = match
    return sorted(best.values())


_readers = threading.local()
MMAP_BYTES = 1 << 34  # SQLite caps it at its compile-time maximum


def _read(path: str, sql: str) -> list[tuple]:
    """A query on this worker thread's own read-only connection (WAL lets it read while the
    bot's connection writes), so lookups never queue behind the bot's other statements."""
    conn = getattr(_readers, "conn", None)
    if getattr(_readers, "path", None) != path:
        if conn is not None:
            conn.close()
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        # Memory-mapped: a lookup reads about 2,000 B-tree pages scattered over the index,
        # which through read() calls would cost more than the lookup itself.
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        _readers.conn, _readers.path = conn, path
    return conn.execute(sql).fetchall()


def scan(stored: dict[int, int], probes: tuple[int, ...], limit: int) -> list[Match]:
    """The reference answer, by reading every stored hash (evidence id -> hash): each photo
    within `limit` bits of one of the probes, at its closest. Tests compare the index with it."""
    found = []
    for evidence_id, value in stored.items():
        distance, probe = min(((p ^ value).bit_count(), i) for i, p in enumerate(probes))
        if distance <= limit:
            found.append(Match(distance, evidence_id, probe))
    return sorted(found)


class NearDuplicateIndex:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.path: str | None = None  # of the database file

    async def _path(self) -> str:
        if self.path is None:
            rows = await self.db.conn.execute_fetchall("PRAGMA database_list")
            self.path = rows[0][2]
        return self.path

    async def add(self, evidence_id: int, fingerprint: Fingerprint) -> None:
        async with self.db.transaction() as conn:
            await self.add_in(conn, evidence_id, fingerprint)

    @staticmethod
    async def add_in(conn, evidence_id: int, fingerprint: Fingerprint) -> None:
        """Within the caller's transaction."""
        await conn.execute(
            "INSERT OR REPLACE INTO evidence_fingerprints (evidence_id, blank, hash, fine)"
            " VALUES (?, ?, ?, ?)",
            (evidence_id, int(fingerprint.blank), signed(fingerprint.hash), fingerprint.fine),
        )
        if not fingerprint.blank:
            await conn.executemany(
                "INSERT OR IGNORE INTO evidence_bands (key, hash, evidence_id) VALUES (?, ?, ?)",
                [
                    (key, signed(fingerprint.hash), evidence_id)
                    for key in band_keys(fingerprint.hash)
                ],
            )

    @staticmethod
    async def remove_in(conn, evidence_id: int) -> None:
        """Forget a photo about to be deleted, within the caller's transaction."""
        cursor = await conn.execute(
            "SELECT hash FROM evidence_fingerprints WHERE evidence_id = ?", (evidence_id,)
        )
        row = await cursor.fetchone()
        if row is None:
            return
        keys = band_keys(row[0] & ALL_BITS)
        await conn.executemany(
            "DELETE FROM evidence_bands WHERE key = ? AND evidence_id = ?",
            [(key, evidence_id) for key in keys],
        )
        await conn.execute(
            "DELETE FROM evidence_fingerprints WHERE evidence_id = ?", (evidence_id,)
        )

    async def candidates(
        self, probes: tuple[int, ...], limit: int = NEAR_DUPLICATE_DISTANCE
    ) -> list[Match]:
        """Every indexed photo within `limit` bits of one of `probes`, closest first (one match
        per photo, at its closest probe). Worked out in the image worker thread."""
        path = await self._path()
        return await in_worker(lambda: lookup(path, probes, limit))

    async def confirmed(self, fingerprint: Fingerprint, matches: list[Match]) -> list[Match]:
        """The closest candidates whose finer hash, aligned, is also close to the new photo's:
        a re-sent copy, not another filled copy of the same printed form."""
        matches = matches[:CONFIRM_AT_MOST]
        if not matches:
            return []
        ids = ",".join(str(m.evidence_id) for m in matches)
        rows = await self.db.conn.execute_fetchall(
            f"SELECT evidence_id, fine FROM evidence_fingerprints WHERE evidence_id IN ({ids})"
        )
        fine = {row[0]: row[1] for row in rows}
        matches = [m for m in matches if m.evidence_id in fine]
        distances = await aligned_distances(
            fingerprint, [(m.probe, fine[m.evidence_id]) for m in matches]
        )
        return [m for m, d in zip(matches, distances, strict=True) if d <= CONFIRM_DISTANCE]

    async def similar(self, fingerprint: Fingerprint) -> list[Match]:
        """Confirmed near-duplicates of an image, closest first; none for a blank image."""
        if fingerprint.blank:
            return []
        return await self.confirmed(fingerprint, await self.candidates(fingerprint.probes))

    async def missing(self, after: int = 0, limit: int = 1000) -> list[tuple[int, str]]:
        """Stored photos not yet in the index, by id from `after`: (evidence id, path)."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT e.id, e.path FROM evidence e WHERE e.status = 'stored'"
            " AND e.id > ? AND e.path IS NOT NULL AND NOT EXISTS"
            " (SELECT 1 FROM evidence_fingerprints f WHERE f.evidence_id = e.id)"
            " ORDER BY e.id LIMIT ?",
            (after, limit),
        )
        return [(row[0], row[1]) for row in rows]


async def reindex(index: NearDuplicateIndex, media_root: Path) -> tuple[int, int]:
    """Fingerprint every stored photo not yet indexed, from its file in the media folder
    (nothing is downloaded); (indexed, unreadable). Unreadable files are logged and left."""
    indexed = unreadable = last = 0
    while batch := await index.missing(after=last):
        last = batch[-1][0]
        for evidence_id, relative in batch:
            try:
                data = await asyncio.to_thread((media_root / relative).read_bytes)
                facts = await examine(data)
            except (OSError, NotAnImage, TooLarge) as error:
                log.warning("evidence %s (%s) not indexed: %s", evidence_id, relative, error)
                unreadable += 1
                continue
            await index.add(evidence_id, facts.fingerprint)
            indexed += 1
    return indexed, unreadable
