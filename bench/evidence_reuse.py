"""Evidence reuse: how well copies are caught, and how fast the index answers at scale.

1. Detection, on a test set generated here (bot/testkit/pictures.py; nothing downloaded):
   photographs and their altered copies (resized, recompressed, re-sent at 1280 px, cropped
   5-12 % at the centre and keeping a corner, 15 % brighter and darker, stored sideways with
   an EXIF orientation tag), and filled forms (one template, different families, flat and
   photographed at an angle) with re-sent copies. Every original is stored in a real index
   (the migrations' schema); each copy and each original is then checked against it.
2. Speed: the index filled with 1, 5 and 10 million synthetic photos (random hashes); the
   median time to check one new photo (the 31 probe hashes of a generated photograph, and 31
   random hashes), against reading one bucket the same way and the old full scan; the index's
   size on disk; and how late the event loop answers while an album of 10 is checked.

    PYTHONPATH=. .venv/bin/python bench/evidence_reuse.py [--photos 60] [--sizes 1,5,10]
        [--keep /tmp/evidence-scale]   # keep the scale databases for the next run
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
from storage.images import (
    HYPOTHESES,
    NEAR_DUPLICATE_DISTANCE,
    examine,
    hash_distance,
    in_worker,
)
from storage.near_duplicates import (
    ALL_BITS,
    BANDS,
    ENTRY,
    KEY_SHIFT,
    Match,
    NearDuplicateIndex,
    _read,
    probe_keys,
)

BASELINE = "SELECT entries FROM evidence_buckets WHERE key = ?"
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


def fill(path: Path, count: int, seed: int) -> None:
    """An index of `count` synthetic photos (random hashes and finer hashes), written with
    plain sqlite3 in key order, each bucket's entries as `storage.near_duplicates.entry`
    writes them (NumPy: big-endian hash and evidence id, in hex)."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 2**63, count, dtype=np.uint64) * 2 + rng.integers(
        0, 2, count, dtype=np.uint64
    )
    ids = np.arange(1, count + 1, dtype=np.uint64)
    keys = np.concatenate(
        [
            hashes >> np.uint64(first) & np.uint64((1 << bits) - 1) | np.uint64(band << KEY_SHIFT)
            for band, (first, bits) in enumerate(BANDS)
        ]
    )
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    entries = np.empty((len(keys), 2), dtype=">u8")
    entries[:, 0] = np.tile(hashes, len(BANDS))[order]
    entries[:, 1] = np.tile(ids, len(BANDS))[order]
    text = entries.tobytes().hex()
    starts = np.flatnonzero(np.diff(keys, prepend=np.uint64(ALL_BITS))).tolist()
    ends = [*starts[1:], len(keys)]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.executemany(
        "INSERT INTO evidence_buckets (key, entries) VALUES (?, ?)",
        ((int(keys[a]), text[a * ENTRY : b * ENTRY]) for a, b in zip(starts, ends, strict=True)),
    )
    fines = rng.integers(0, 256, (count, 32), dtype=np.uint8)
    conn.executemany(
        "INSERT INTO evidence_fingerprints (evidence_id, blank, hash, fine) VALUES (?, 0, ?, ?)",
        zip(ids.tolist(), hashes.view(np.int64).tolist(), map(bytes, fines), strict=True),
    )
    conn.commit()
    conn.close()


async def real_probes(count: int) -> list[tuple[int, ...]]:
    """The probe hashes of `count` generated photographs, as new photos would bring."""
    photos = (pictures.jpeg(pictures.photograph(900 + i, (1280, 960))) for i in range(count))
    return [(await examine(data)).fingerprint.probes for data in photos]


async def speed(sizes: list[int], folder: Path, keep: Path | None) -> None:
    print("## Speed: checking one new photo against the index")
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    photos = await real_probes(60)
    keys = statistics.median(len(probe_keys(p)) for p in photos)
    print(
        f"  probes per new photo: {len(HYPOTHESES)} hashes, {keys:.0f} buckets to read (median"
        f" of 60 generated photographs; {len(probe_keys((0,))) * len(HYPOTHESES)} for"
        f" {len(HYPOTHESES)} random hashes)"
    )
    for millions in sizes:
        path = (keep or folder) / f"scale-{millions}M.sqlite3"
        began = time.perf_counter()
        if not path.exists():
            db, _index = await index_of(path)
            await db.close()
            fill(path, millions * 1_000_000, seed=millions)
        built = time.perf_counter() - began
        db, index = await index_of(path)
        where = await index._path()
        stored = (
            await db.conn.execute_fetchall(
                "SELECT hash FROM evidence_fingerprints WHERE evidence_id = 12345"
            )
        )[0][0]
        assert await index.candidates((stored & ALL_BITS,)) == [Match(0, 12345, 0)]
        times: dict[str, list[float]] = {"photo": [], "random": [], "key": []}
        found = 0
        for photo in photos:
            random_probes = tuple(rng.getrandbits(64) for _ in HYPOTHESES)
            for kind, probes in (("photo", photo), ("random", random_probes)):
                started = time.perf_counter()
                found += len(await index.candidates(probes))
                times[kind].append(time.perf_counter() - started)
            key = rng.getrandbits(21)
            started = time.perf_counter()
            await in_worker(lambda key=key, where=where: _read(where, BASELINE, (key,)))
            times["key"].append(time.perf_counter() - started)
        median = {kind: statistics.median(t) for kind, t in times.items()}
        rows = await db.conn.execute_fetchall(
            "SELECT name, SUM(pgsize) FROM dbstat WHERE name IN"
            " ('evidence_buckets', 'evidence_fingerprints') GROUP BY name"
        )
        size = {row[0]: row[1] / 1e6 for row in rows}
        await db.close()
        print(
            f"  {millions:>2} million photos: median {1000 * median['photo']:.2f} ms,"
            f" 90th percentile {1000 * sorted(times['photo'])[53]:.2f} ms per new photo;"
            f" 31 random hashes {1000 * median['random']:.2f} ms;"
            f" baseline, one bucket read the same way: {1000 * median['key']:.3f} ms"
            f" (photo / baseline: {median['photo'] / median['key']:.0f}) ({found} chance"
            f" matches); on disk: buckets {size.get('evidence_buckets', 0):,.0f} MB,"
            f" fingerprints {size.get('evidence_fingerprints', 0):,.0f} MB"
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
    options.add_argument(
        "--keep", type=Path, help="a folder to keep the scale databases in, reused next time"
    )
    args = options.parse_args()
    with tempfile.TemporaryDirectory(prefix="evidence-reuse-") as work:
        folder = Path(work)
        if not args.skip_detection:
            await detection(args.photos, args.forms, folder)
            await loop_latency(folder)
        sizes = [int(s) for s in args.sizes.split(",") if s]
        if sizes:
            await full_scan_baseline(sizes[0] * 1_000_000, folder)
            await speed(sizes, folder, args.keep)


if __name__ == "__main__":
    asyncio.run(main())
