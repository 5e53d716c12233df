"""The near-duplicate index: every stored photo within a few bits of a new one, without a scan.

Multi-index hashing. Each region hash of a stored photo (64 bits, storage/images.py) is split
into BANDS bands of 16 bits, and `evidence_bands` keeps one row per band: (band and its value,
the whole hash, the photo and region). Two hashes at most 2 * BANDS - 1 bits apart agree
exactly in some band or differ there in one bit (pigeonhole), so looking up each band's value
and its 16 one-bit neighbours (68 B-tree probes) finds every stored hash within
NEAR_DUPLICATE_DISTANCE bits; the candidates' whole hashes are then compared. The finer
hashes (`evidence_fingerprints`) are read only for the closest candidates, to confirm them.

Blank images are not put in the bands: they are never near-duplicates of anything.
"""

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from storage.db import Database
from storage.images import (
    CONFIRM_DISTANCE,
    FULL_FRAME,
    NEAR_DUPLICATE_DISTANCE,
    Fingerprint,
    NotAnImage,
    TooLarge,
    examine,
)

log = logging.getLogger(__name__)

BANDS = 4
BAND_BITS = 16
BAND_MASK = (1 << BAND_BITS) - 1
REGIONS_PER_PHOTO = 8  # ref = evidence id * 8 + region
FINE_BYTES = 32
CONFIRM_AT_MOST = 50  # candidates confirmed per new photo, closest first
assert NEAR_DUPLICATE_DISTANCE <= 2 * BANDS - 1, "one-bit neighbours would miss matches"


@dataclass(frozen=True, order=True)
class Match:
    """A stored photo like the new one: `distance` bits between the new photo's whole frame
    and the stored photo's closest `region` (0: its whole frame)."""

    distance: int
    evidence_id: int
    region: int


def signed(value: int) -> int:
    """A 64-bit unsigned hash as SQLite's signed INTEGER."""
    return value - (1 << 64) if value >= 1 << 63 else value


def unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def band_keys(value: int) -> list[int]:
    """The key (band << 16 | value) of each band of a hash."""
    return [band << BAND_BITS | (value >> (band * BAND_BITS)) & BAND_MASK for band in range(BANDS)]


def probe_keys(value: int) -> list[int]:
    """Each band's key and its one-bit neighbours: 4 x 17 keys."""
    keys = []
    for key in band_keys(value):
        keys.append(key)
        keys.extend(key ^ (1 << bit) for bit in range(BAND_BITS))
    return keys


def fine_distance(first: bytes, second: bytes) -> int:
    return (int.from_bytes(first, "big") ^ int.from_bytes(second, "big")).bit_count()


def pack_hashes(hashes: tuple[int, ...]) -> bytes:
    return b"".join(value.to_bytes(8, "big") for value in hashes)


def unpack_fine(blob: bytes) -> list[bytes]:
    return [blob[i : i + FINE_BYTES] for i in range(0, len(blob), FINE_BYTES)]


def scan(stored: dict[int, tuple[int, ...]], value: int, limit: int) -> list[Match]:
    """The reference answer: every stored photo (id -> region hashes) with a region within
    `limit` bits of `value`, by reading all of them. Tests compare the index with it."""
    found = []
    for evidence_id, hashes in stored.items():
        distances = [(value ^ h).bit_count() for h in hashes]
        best = min(distances)
        if best <= limit:
            found.append(Match(best, evidence_id, distances.index(best)))
    return sorted(found)


class NearDuplicateIndex:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, evidence_id: int, fingerprint: Fingerprint) -> None:
        async with self.db.transaction() as conn:
            await self.add_in(conn, evidence_id, fingerprint)

    @staticmethod
    async def add_in(conn, evidence_id: int, fingerprint: Fingerprint) -> None:
        """Within the caller's transaction."""
        await conn.execute(
            "INSERT OR REPLACE INTO evidence_fingerprints (evidence_id, blank, hashes, fine)"
            " VALUES (?, ?, ?, ?)",
            (
                evidence_id,
                int(fingerprint.blank),
                pack_hashes(fingerprint.hashes),
                b"".join(fingerprint.fine),
            ),
        )
        if fingerprint.blank:
            return
        await conn.executemany(
            "INSERT OR IGNORE INTO evidence_bands (key, hash, ref) VALUES (?, ?, ?)",
            [
                (key, signed(value), evidence_id * REGIONS_PER_PHOTO + region)
                for region, value in enumerate(fingerprint.hashes)
                for key in band_keys(value)
            ],
        )

    @staticmethod
    async def remove_in(conn, evidence_id: int) -> None:
        """Forget a photo about to be deleted, within the caller's transaction (its band rows
        are found from its stored hashes)."""
        cursor = await conn.execute(
            "SELECT hashes FROM evidence_fingerprints WHERE evidence_id = ?", (evidence_id,)
        )
        row = await cursor.fetchone()
        if row is None:
            return
        blob = row[0]
        hashes = [int.from_bytes(blob[i : i + 8], "big") for i in range(0, len(blob), 8)]
        await conn.executemany(
            "DELETE FROM evidence_bands WHERE key = ? AND ref = ?",
            [
                (key, evidence_id * REGIONS_PER_PHOTO + region)
                for region, value in enumerate(hashes)
                for key in band_keys(value)
            ],
        )
        await conn.execute(
            "DELETE FROM evidence_fingerprints WHERE evidence_id = ?", (evidence_id,)
        )

    async def candidates(self, value: int, limit: int = NEAR_DUPLICATE_DISTANCE) -> list[Match]:
        """Every indexed photo with a region within `limit` bits of `value`, closest first
        (one match per photo, its closest region)."""
        keys = probe_keys(value)
        rows = await self.db.conn.execute_fetchall(
            f"SELECT hash, ref FROM evidence_bands WHERE key IN ({','.join(map(str, keys))})"
        )
        best: dict[int, Match] = {}
        query = signed(value)
        for stored, ref in rows:
            distance = (query ^ stored).bit_count()
            if distance > limit:
                continue
            evidence_id, region = divmod(ref, REGIONS_PER_PHOTO)
            match = Match(distance, evidence_id, region)
            if evidence_id not in best or match < best[evidence_id]:
                best[evidence_id] = match
        return sorted(best.values())

    async def confirmed(self, fingerprint: Fingerprint, matches: list[Match]) -> list[Match]:
        """The candidates whose finer hash of the matching region is also close to the new
        photo's: a re-sent copy, not another filled copy of the same printed form."""
        matches = matches[:CONFIRM_AT_MOST]
        if not matches:
            return []
        ids = ",".join(str(m.evidence_id) for m in matches)
        rows = await self.db.conn.execute_fetchall(
            f"SELECT evidence_id, fine FROM evidence_fingerprints WHERE evidence_id IN ({ids})"
        )
        fine = {row[0]: unpack_fine(row[1]) for row in rows}
        mine = fingerprint.fine[FULL_FRAME]
        return [
            m
            for m in matches
            if m.evidence_id in fine
            and fine_distance(mine, fine[m.evidence_id][m.region]) <= CONFIRM_DISTANCE
        ]

    async def similar(self, fingerprint: Fingerprint) -> list[Match]:
        """Confirmed near-duplicates of an image, closest first; none for a blank image."""
        if fingerprint.blank:
            return []
        found = await self.candidates(fingerprint.hashes[FULL_FRAME])
        return await self.confirmed(fingerprint, found)

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
