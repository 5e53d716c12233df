"""Evidence reuse: how well copies are caught, and how fast the index answers at scale.

1. Detection, on a test set generated here (bot/testkit/pictures.py; nothing downloaded):
   photographs and their altered copies (resized, recompressed, re-sent at 1280 px, cropped
   5-12 % at the centre and keeping a corner, 15 % brighter and darker, stored sideways with
   an EXIF orientation tag), and filled forms (one template, different families, flat and
   photographed at an angle) with re-sent copies. Every original is stored in a real index
   (the migrations' schema); each copy and each original is then checked against it.
2. Speed: the index filled with 1, 5 and 10 million synthetic photos; the median time to check
   one new photo (31 probe hashes, as a real photo has), against the old full scan; the
   index's size on disk; and how late the event loop answers while an album of 10 is checked.

    PYTHONPATH=. .venv/bin/python bench/evidence_reuse.py [--photos 60] [--sizes 1,5,10]
"""

import argparse
import asyncio
import itertools
import os
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.testkit import pictures
from storage.db import Database
from storage.images import HYPOTHESES, NEAR_DUPLICATE_DISTANCE, examine, hash_distance
from storage.near_duplicates import KEY_SHIFT, NearDuplicateIndex

ALTERATIONS = {
    "resized to 60 %, JPEG quality 60": lambda im, r: pictures.jpeg(pictures.resized(im, 0.6), 60),
    "recompressed, quality 40": lambda im, r: pictures.jpeg(im, 40),
    "re-sent at 1280 px": lambda im, r: pictures.jpeg(pictures.as_sent(im), 80),
    "cropped 5 % at the centre": lambda im, r: pictures.jpeg(pictures.cropped(im, 0.05)),
    "cropped 8 % at the centre": lambda im, r: pictures.jpeg(pictures.cropped(im, 0.08)),
    "cropped 12 % at the centre": lambda im, r: pictures.jpeg(pictures.cropped(im, 0.12)),
    "cropped 5 % keeping a corner": lambda im, r: pictures.jpeg(
        pictures.cropped(im, 0.05, r.choice(CORNERS))
    ),
    "cropped 8 % keeping a corner": lambda im, r: pictures.jpeg(
        pictures.cropped(im, 0.08, r.choice(CORNERS))
    ),
    "cropped 12 % keeping a corner": lambda im, r: pictures.jpeg(
        pictures.cropped(im, 0.12, r.choice(CORNERS))
    ),
    "15 % brighter": lambda im, r: pictures.jpeg(pictures.brightened(im, 1.15)),
    "15 % darker": lambda im, r: pictures.jpeg(pictures.brightened(im, 0.85)),
    "stored sideways, EXIF orientation": lambda im, r: pictures.stored_sideways(im),
}
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")


async def index_of(path: Path) -> tuple[Database, NearDuplicateIndex]:
    db = await Database.open(path)
    await db.migrate()
    await db.conn.execute("PRAGMA foreign_keys = OFF")  # fingerprints without evidence rows
    return db, NearDuplicateIndex(db)


async def detection(photos: int, forms: int, folder: Path) -> None:
    rng = random.Random(13)
    db, index = await index_of(folder / "detection.sqlite3")
    print(f"## Detection: {photos} photographs, {len(ALTERATIONS)} alterations each")
    originals = [pictures.photograph(seed, (1600, 1200)) for seed in range(photos)]
    stored = []
    for number, image in enumerate(originals, start=1):
        facts = await examine(pictures.jpeg(image, 90))
        await index.add(number, facts.fingerprint)
        stored.append(facts.fingerprint)
    caught_all = copies_all = wrong = 0
    for name, alter in ALTERATIONS.items():
        caught = 0
        for number, image in enumerate(originals, start=1):
            found = await index.similar((await examine(alter(image, rng))).fingerprint)
            caught += bool(found) and found[0].evidence_id == number
            wrong += sum(1 for m in found if m.evidence_id != number)
        caught_all += caught
        copies_all += photos
        print(f"  {name:38} caught {caught}/{photos}")
    pairs = photos * (photos - 1) // 2
    flagged = set()
    for number, fingerprint in enumerate(stored, start=1):
        for match in await index.similar(fingerprint):
            if match.evidence_id != number:
                flagged.add(frozenset((number, match.evidence_id)))
    print(
        f"  altered copies caught (closest match = the original): {caught_all}/{copies_all}"
        f" = {100 * caught_all / copies_all:.1f} % (target at least 95 %)"
    )
    print(
        f"  pairs of different photos flagged: {len(flagged)}/{pairs}"
        f" = {100 * len(flagged) / pairs:.2f} % (target at most 1 %);"
        f" copies also matched to another photo: {wrong}/{copies_all * (photos - 1)}"
    )
    blanks = [
        pictures.blank(c) for c in ((0, 0, 0), (255, 255, 255), (128, 128, 128), (40, 90, 200))
    ]
    blank_facts = [await examine(pictures.jpeg(b)) for b in blanks]
    print(
        f"  blank images detected: {sum(f.fingerprint.blank for f in blank_facts)}/{len(blanks)};"
        f" photographs taken for blank: {sum(f.blank for f in stored)}/{photos}"
    )
    await db.close()

    db, index = await index_of(folder / "forms.sqlite3")
    print(f"## Forms: {forms} families x 2 templates, flat and photographed at an angle")
    filled = [
        (template, family, shot)
        for template in range(2)
        for family in range(forms)
        for shot in (False, True)
    ]
    images = []
    for number, (template, family, shot) in enumerate(filled, start=1):
        page = pictures.form(family + 1000 * shot, template)
        image = pictures.as_sent(pictures.photographed(page, family) if shot else page)
        images.append(image)
        await index.add(number, (await examine(pictures.jpeg(image, 85))).fingerprint)
    flagged, same_template = set(), 0
    for number, image in enumerate(images, start=1):
        fingerprint = (await examine(pictures.jpeg(image, 85))).fingerprint
        for match in await index.similar(fingerprint):
            if match.evidence_id != number:
                flagged.add(frozenset((number, match.evidence_id)))
    for first, second in itertools.combinations(filled, 2):
        same_template += first[0] == second[0]
    print(
        f"  pairs of different filled forms (same template) flagged: {len(flagged)}/"
        f"{same_template} = {100 * len(flagged) / same_template:.2f} % (target at most 2 %)"
    )
    caught = total = 0
    for number, image in enumerate(images, start=1):
        for copy in (
            pictures.jpeg(pictures.resized(image, 0.7), 60),
            pictures.jpeg(pictures.as_sent(image, 1000), 75),
            pictures.jpeg(pictures.cropped(image, 0.06)),
        ):
            found = await index.similar((await examine(copy)).fingerprint)
            caught += bool(found) and found[0].evidence_id == number
            total += 1
    print(
        f"  re-sent copies of a filled form caught: {caught}/{total}"
        f" = {100 * caught / total:.1f} % (target at least 90 %)"
    )
    await db.close()


def fill(path: Path, start: int, count: int, seed: int) -> None:
    """Add `count` synthetic photos (random hashes and finer hashes) with plain sqlite3,
    band rows in key order, as the index would hold them."""
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -1000000")
    step = 1_000_000
    for first in range(start, start + count, step):
        n = min(step, start + count - first)
        hashes = rng.integers(0, 2**63, n, dtype=np.uint64) * 2 + rng.integers(
            0, 2, n, dtype=np.uint64
        )
        ids = np.arange(first, first + n, dtype=np.int64)
        signed_hashes = hashes.view(np.int64)
        keys = []
        for band, (offset, bits) in enumerate(((0, 21), (21, 21), (42, 22))):
            mask = np.uint64((1 << bits) - 1)
            keys.append(((hashes >> np.uint64(offset)) & mask).astype(np.int64) | band << KEY_SHIFT)
        key = np.concatenate(keys)
        order = np.argsort(key, kind="stable")
        rows = zip(
            key[order].tolist(),
            np.tile(signed_hashes, 3)[order].tolist(),
            np.tile(ids, 3)[order].tolist(),
            strict=True,
        )
        conn.executemany(
            "INSERT INTO evidence_bands (key, hash, evidence_id) VALUES (?, ?, ?)", rows
        )
        fines = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        conn.executemany(
            "INSERT INTO evidence_fingerprints (evidence_id, blank, hash, fine)"
            " VALUES (?, 0, ?, ?)",
            zip(ids.tolist(), signed_hashes.tolist(), (bytes(f) for f in fines), strict=True),
        )
        conn.commit()
    conn.close()


async def speed(sizes: list[int], folder: Path) -> None:
    print("## Speed: checking one new photo against the index")
    path = folder / "scale.sqlite3"
    db, _index = await index_of(path)
    await db.close()
    rng = random.Random(7)
    filled = 0
    for millions in sizes:
        began = time.perf_counter()
        fill(path, filled + 1, millions * 1_000_000 - filled, seed=millions)
        built = time.perf_counter() - began
        filled = millions * 1_000_000
        db, index = await index_of(path)
        times, found = [], 0
        for _ in range(60):
            probes = tuple(rng.getrandbits(64) for _ in HYPOTHESES)
            started = time.perf_counter()
            found += len(await index.candidates(probes))
            times.append(time.perf_counter() - started)
        rows = await db.conn.execute_fetchall(
            "SELECT name, SUM(pgsize) FROM dbstat WHERE name IN"
            " ('evidence_bands', 'evidence_fingerprints', 'sqlite_autoindex_evidence_bands_1')"
            " GROUP BY name"
        )
        size = {row[0]: row[1] / 1e6 for row in rows}
        bands, prints = size.get("evidence_bands", 0), size.get("evidence_fingerprints", 0)
        await db.close()
        print(
            f"  {millions:>2} million photos: median {1000 * statistics.median(times):.2f} ms,"
            f" 90th percentile {1000 * sorted(times)[53]:.2f} ms per new photo"
            f" ({found} chance matches in 60 checks); on disk: bands {bands:,.0f} MB,"
            f" fingerprints {prints:,.0f} MB"
            f" (filled in {built:.0f} s); file {os.path.getsize(path) / 1e6:,.0f} MB"
        )


async def full_scan_baseline(count: int, folder: Path) -> None:
    """The old check: read every stored photo's hash and compare in Python."""
    path = folder / "scan.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE evidence (id INTEGER PRIMARY KEY, phash TEXT)")
    rng = random.Random(3)
    conn.executemany(
        "INSERT INTO evidence (phash) VALUES (?)",
        ((f"{rng.getrandbits(64):016x}",) for _ in range(count)),
    )
    conn.commit()
    query = f"{rng.getrandbits(64):016x}"
    started = time.perf_counter()
    rows = conn.execute("SELECT id, phash FROM evidence").fetchall()
    hits = [i for i, h in rows if hash_distance(h, query) <= NEAR_DUPLICATE_DISTANCE]
    elapsed = time.perf_counter() - started
    conn.close()
    print(
        f"  baseline, the old full scan of {count:,} photos (one hash, not 31): "
        f"{1000 * elapsed:.0f} ms ({len(hits)} found)"
    )
    return elapsed


async def loop_latency(folder: Path) -> None:
    """How late a 5 ms timer fires on the event loop, idle and while an album of 10 new
    photos is examined and checked against the detection index."""
    db, index = await index_of(folder / "detection.sqlite3")
    album = [pictures.jpeg(pictures.photograph(500 + i, (1280, 960))) for i in range(10)]

    async def lateness(stop: asyncio.Event) -> list[float]:
        late = []
        while not stop.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            late.append(time.perf_counter() - started - 0.005)
        return late

    async def check(data: bytes) -> None:
        await index.similar((await examine(data)).fingerprint)

    for label, work in (("idle", None), ("album of 10 being checked", album)):
        stop = asyncio.Event()
        watcher = asyncio.create_task(lateness(stop))
        started = time.perf_counter()
        if work:
            await asyncio.gather(*(check(d) for d in work))
        else:
            await asyncio.sleep(1.0)
        elapsed = time.perf_counter() - started
        stop.set()
        late = await watcher
        print(
            f"  event loop, {label}: timer late by median {1000 * statistics.median(late):.1f} ms,"
            f" at most {1000 * max(late):.1f} ms ({elapsed:.2f} s)"
        )
    await db.close()


async def main() -> None:
    options = argparse.ArgumentParser()
    options.add_argument("--photos", type=int, default=60)
    options.add_argument("--forms", type=int, default=12)
    options.add_argument("--sizes", default="1,5,10", help="millions of photos in the index")
    options.add_argument("--skip-detection", action="store_true")
    args = options.parse_args()
    with tempfile.TemporaryDirectory(prefix="evidence-reuse-") as work:
        folder = Path(work)
        if not args.skip_detection:
            await detection(args.photos, args.forms, folder)
            await loop_latency(folder)
        sizes = [int(s) for s in args.sizes.split(",") if s]
        if sizes:
            await full_scan_baseline(sizes[0] * 1_000_000, folder)
            await speed(sizes, folder)


if __name__ == "__main__":
    asyncio.run(main())
