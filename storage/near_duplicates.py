"""The near-duplicate index: every stored photo within a few bits of a new one, without a scan.

Multi-index hashing. The 64-bit hash of each stored photo (storage/images.py) is split into
three bands of 21, 21 and 22 bits. Two hashes at most 5 bits apart differ in at most one bit
in some band (pigeonhole: 2 + 2 + 2 > 5), so looking up each band's value and its one-bit
neighbours (67 keys per hash) finds every stored hash within NEAR_DUPLICATE_DISTANCE bits of
any of the new photo's probe hashes; the candidates' whole hashes are then compared.

`evidence_buckets` (migration 0017) holds one row per band value, its key, with every photo
whose hash has that value in that band: 32 hex digits each, the hash and the evidence id. A
lookup is one statement that reads one row per key (about 1,500 B-tree searches for a real
photo's 31 probes) and returns all their entries as one text, compared with every probe at
once in NumPy. In SQLite a B-tree search costs about 50 times more than reading the next row,
so one row per key rather than one per photo and band (0013) is what keeps it fast: at
10 million photos a bucket holds about five. The finer hashes (`evidence_fingerprints`) are
read only for the closest candidates, to confirm them.

Blank images are not put in the buckets: they are never near-duplicates of anything.
"""

import asyncio
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
ENTRY = 32  # hex digits per photo in a bucket: 16 of hash, 16 of evidence id
CONFIRM_AT_MOST = 5  # candidates confirmed per new photo, closest first
assert 2 * len(BANDS) > NEAR_DUPLICATE_DISTANCE, "one-bit neighbours would miss matches"

# For `probe_keys`: where each band starts, its mask, its key's tag, and what to XOR its value
# with: 0 (the value itself) and each one-bit flip (a shorter band repeats 0).
_FIRST = np.array([first for first, _ in BANDS], dtype=np.uint64)
_MASK = np.array([(1 << bits) - 1 for _, bits in BANDS], dtype=np.uint64)
_TAG = np.array([band << KEY_SHIFT for band in range(len(BANDS))], dtype=np.uint64)
_WIDEST = max(bits for _, bits in BANDS)
_FLIPS = np.array(
    [[0] + [1 << bit for bit in range(bits)] + [0] * (_WIDEST - bits) for _, bits in BANDS],
    dtype=np.uint64,
)


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
    """The key of each band of a hash: the buckets a stored photo goes in."""
    return [
        band << KEY_SHIFT | (value >> first) & ((1 << bits) - 1)
        for band, (first, bits) in enumerate(BANDS)
    ]


def probe_keys(probes: tuple[int, ...]) -> list[int]:
    """The buckets to read for these probes: each band's key and its one-bit neighbours,
    without repeats, in order."""
    values = np.array(probes, dtype=np.uint64)[:, None] >> _FIRST & _MASK
    return np.unique(values[:, :, None] ^ _FLIPS | _TAG[:, None]).tolist()


def entry(evidence_id: int, value: int) -> str:
    """A photo in a bucket (as migration 0017 writes it: printf('%016x%016x'))."""
    return f"{value & ALL_BITS:016x}{evidence_id:016x}"


def buckets_of(photos: Iterable[tuple[int, int]]) -> list[tuple[int, str]]:
    """(key, entries) of the buckets that these photos (evidence id, hash) go in, to add to
    `evidence_buckets` in one go (NearDuplicateIndex.add_buckets_in)."""
    buckets: dict[int, list[str]] = {}
    for evidence_id, value in photos:
        for key in band_keys(value):
            buckets.setdefault(key, []).append(entry(evidence_id, value))
    return [(key, "".join(entries)) for key, entries in buckets.items()]


def lookup(path: str, probes: tuple[int, ...], limit: int) -> list[Match]:
    """`NearDuplicateIndex.candidates`, on the calling thread."""
    if not probes:
        return []
    ((text,),) = _read(
        path,
        "SELECT group_concat(entries, '') FROM evidence_buckets"
        " WHERE key IN (SELECT value FROM json_each(?))",
        (json.dumps(probe_keys(probes)),),
    )
    return closest(bytes.fromhex(text or ""), probes, limit)


def closest(entries: bytes, probes: tuple[int, ...], limit: int) -> list[Match]:
    """The photos among `entries` (hash, evidence id: 8 bytes each, big-endian) within `limit`
    bits of a probe, each once, at its closest probe (the first of equally close ones). Every
    entry is compared with every probe: one read through another probe's key is still a true
    answer, and what a full scan would give."""
    table = np.frombuffer(entries, dtype=">u8").reshape(-1, 2)
    distances = np.bitwise_count(table[:, :1] ^ np.array(probes, dtype=np.uint64))
    probe = distances.argmin(axis=1)
    distance = distances[np.arange(len(table)), probe]
    near = np.flatnonzero(distance <= limit)
    return sorted({Match(int(distance[i]), int(table[i, 1]), int(probe[i])) for i in near.tolist()})


_readers = threading.local()
MMAP_BYTES = 1 << 34  # SQLite caps it at its compile-time maximum (2 GB by default)
CACHE_KIB = 65536  # pages beyond the memory-mapped part: the upper B-tree levels stay cached


def _read(path: str, sql: str, params: tuple = ()) -> list[tuple]:
    """A query on this worker thread's own read-only connection (WAL lets it read while the
    bot's connection writes), so lookups never queue behind the bot's other statements."""
    conn = getattr(_readers, "conn", None)
    if getattr(_readers, "path", None) != path:
        if conn is not None:
            conn.close()
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        # Memory-mapped: a lookup reads about 1,500 B-tree pages scattered over the index,
        # which through read() calls would cost more than the lookup itself.
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        _readers.conn, _readers.path = conn, path
    return conn.execute(sql, params).fetchall()


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
        """Within the caller's transaction; a photo added again replaces itself."""
        await NearDuplicateIndex.remove_in(conn, evidence_id)
        await conn.execute(
            "INSERT INTO evidence_fingerprints (evidence_id, blank, hash, fine)"
            " VALUES (?, ?, ?, ?)",
            (evidence_id, int(fingerprint.blank), signed(fingerprint.hash), fingerprint.fine),
        )
        if not fingerprint.blank:
            await NearDuplicateIndex.add_buckets_in(
                conn, buckets_of([(evidence_id, fingerprint.hash)])
            )

    @staticmethod
    async def add_buckets_in(conn, buckets: list[tuple[int, str]]) -> None:
        """Append entries (`buckets_of`) to their buckets, within the caller's transaction."""
        await conn.executemany(
            "INSERT INTO evidence_buckets (key, entries) VALUES (?, ?) ON CONFLICT (key)"
            " DO UPDATE SET entries = entries || excluded.entries",
            buckets,
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
        mine = entry(evidence_id, row[0])
        for key in band_keys(row[0] & ALL_BITS):
            cursor = await conn.execute(
                "SELECT entries FROM evidence_buckets WHERE key = ?", (key,)
            )
            bucket = await cursor.fetchone()
            if bucket is None:
                continue
            kept = "".join(
                e
                for e in (bucket[0][i : i + ENTRY] for i in range(0, len(bucket[0]), ENTRY))
                if e != mine
            )
            if kept:
                await conn.execute(
                    "UPDATE evidence_buckets SET entries = ? WHERE key = ?", (kept, key)
                )
            else:
                await conn.execute("DELETE FROM evidence_buckets WHERE key = ?", (key,))
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
