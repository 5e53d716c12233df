"""Evidence reuse: the near-duplicate index against a full scan, and copies caught (or not)
end to end through the real bot and the fake Bot API."""

import io
import random
import sqlite3

import numpy as np
from PIL import Image
from test_evidence import families, open_indicator  # noqa: F401

from bot.testkit import pictures
from storage.db import Database, _statements, migrations
from storage.evidence import FlagKind
from storage.images import HYPOTHESES, NEAR_DUPLICATE_DISTANCE, Fingerprint
from storage.models import Role
from storage.near_duplicates import (
    BANDS,
    ENTRY,
    Match,
    NearDuplicateIndex,
    band_keys,
    buckets_of,
    scan,
    signed,
)


def near(value: int, bits: int, rng: random.Random) -> int:
    for bit in rng.sample(range(64), bits):
        value ^= 1 << bit
    return value


def full_scan(ids: np.ndarray, hashes: np.ndarray, probes: tuple[int, ...]) -> list[Match]:
    """`scan` (every stored hash against every probe) in NumPy: the same answer, some hundred
    times faster, so that the index is compared with a full scan of 100,000 hashes."""
    distances = np.bitwise_count(hashes[:, None] ^ np.array(probes, dtype=np.uint64)[None, :])
    closest, probe = distances.min(axis=1), distances.argmin(axis=1)  # argmin: first probe
    hits = np.flatnonzero(closest <= NEAR_DUPLICATE_DISTANCE)
    return sorted(Match(int(closest[i]), int(ids[i]), int(probe[i])) for i in hits)


async def test_the_index_finds_exactly_what_a_full_scan_finds(tmp_path):
    rng = random.Random(13)
    stored = {evidence_id: rng.getrandbits(64) for evidence_id in range(1, 100_001)}
    db = await Database.open(tmp_path / "index.sqlite3")
    try:  # a failing test must still close it: aiosqlite's thread would keep pytest from exiting
        await db.migrate()
        async with db.transaction() as conn:
            await NearDuplicateIndex.add_buckets_in(conn, buckets_of(stored.items()))
        await compare_with_full_scans(NearDuplicateIndex(db), stored, rng)
    finally:
        await db.close()


async def compare_with_full_scans(index: NearDuplicateIndex, stored: dict[int, int], rng) -> None:
    ids = np.fromiter(stored, dtype=np.int64)
    hashes = np.fromiter(stored.values(), dtype=np.uint64)
    found_any, keys = 0, sorted(stored)
    for round_ in range(60):
        # probes like a new photo's: some near stored hashes (0-8 bits away), most random
        targets = rng.sample(keys, 4)
        probes = [near(stored[t], rng.randrange(9), rng) for t in targets]
        probes += [rng.getrandbits(64) for _ in range(len(HYPOTHESES) - len(probes))]
        rng.shuffle(probes)
        expected = full_scan(ids, hashes, tuple(probes))
        if round_ == 0:  # the NumPy scan gives the plain one's answer (on a part, for time)
            part = sorted({*range(1, 5001), *targets})
            rows = np.array(part) - 1
            plain = scan({i: stored[i] for i in part}, tuple(probes), NEAR_DUPLICATE_DISTANCE)
            assert plain and full_scan(ids[rows], hashes[rows], tuple(probes)) == plain
        assert await index.candidates(tuple(probes)) == expected
        found_any += len(expected)
    assert found_any > 60  # the comparison covered real matches, not only empty answers


async def test_migration_0017_moves_the_0013_index_and_a_removed_photo_leaves_its_buckets(
    tmp_path,
):
    rng = random.Random(17)
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:  # a database at migration 0016, with 0013's rows
        for number, sql in migrations():
            if number <= 16:
                for statement in _statements(sql):
                    conn.execute(statement)
        conn.execute("PRAGMA user_version = 16")
        stored = {i: rng.getrandbits(64) for i in range(1, 3001)}
        for i in range(3001, 3101):  # sharing the first band's value with another photo
            stored[i] = stored[i - 3000] ^ rng.getrandbits(43) << 21
        for i, value in stored.items():
            conn.execute(
                "INSERT INTO evidence_fingerprints VALUES (?, 0, ?, ?)",
                (i, signed(value), bytes(32)),
            )
            conn.executemany(
                "INSERT INTO evidence_bands (key, hash, evidence_id) VALUES (?, ?, ?)",
                [(key, signed(value), i) for key in band_keys(value)],
            )
    db = await Database.open(path)
    assert await db.migrate() >= 17
    await db.conn.execute("PRAGMA foreign_keys = OFF")  # fingerprints without evidence rows
    tables = {row[0] for row in await db.conn.execute_fetchall("SELECT name FROM sqlite_schema")}
    assert "evidence_bands" not in tables
    index = NearDuplicateIndex(db)
    for i in (1, 2, 3001, 2500):
        probes = (near(stored[i], 3, rng), *(rng.getrandbits(64) for _ in range(30)))
        assert await index.candidates(probes) == scan(stored, probes, NEAR_DUPLICATE_DISTANCE)
        assert (await index.candidates(probes))[0].evidence_id == i

    async with db.transaction() as conn:  # photo 1 shares a bucket with photo 3001
        await NearDuplicateIndex.remove_in(conn, 1)
    removed = stored.pop(1)
    assert [m.evidence_id for m in await index.candidates((removed,))] == []
    only_first_band = stored[3001] ^ (1 << 21 | 1 << 22 | 1 << 42 | 1 << 43)
    assert [m.evidence_id for m in await index.candidates((only_first_band,))] == [3001]
    print_ = Fingerprint(hash=stored[2], fine=bytes(32), blank=False)
    await index.add(2, print_)  # added again: still one entry
    await index.add(2, print_)
    assert await index.candidates((stored[2],)) == [Match(0, 2, 0)]
    ((length,),) = await db.conn.execute_fetchall(
        "SELECT SUM(LENGTH(entries)) FROM evidence_buckets"
    )
    assert length == ENTRY * len(BANDS) * len(stored)  # each photo once in each of its buckets
    await db.close()


def sideways_and_cropped_photo(seed: int) -> tuple[bytes, bytes, bytes]:
    original = pictures.photograph(seed, (1200, 900))
    return (
        pictures.jpeg(original),
        pictures.jpeg(pictures.cropped(original, 0.10, "bottom-right")),
        pictures.stored_sideways(original),
    )


async def test_cropped_and_rotated_copies_are_flagged_naming_the_closest(
    bot,
    api,
    storage,
    enrol,
    families,  # noqa: F811
    tmp_path,
):
    await enrol(930, Role.BRANCH_CHAIR, "00070")
    chat = api.person(930)
    hoa, lan = families["hoa"], families["lan"]
    original, crop, sideways = sideways_and_cropped_photo(1)
    other = pictures.jpeg(pictures.photograph(2, (1200, 900)))
    await open_indicator(chat, hoa.number, "GD.1.1")
    await chat.send_photo(other)
    await chat.send_photo(original)
    stored = await storage.evidence.of_registration(hoa.id)

    await open_indicator(chat, lan.number, "GD.1.1")
    *_, reply = await chat.send_photo(crop)  # 10 % cut from the left and the top
    assert f"⚠️ Ảnh này giống một bản sao ảnh của {hoa.number}." in reply.text
    *_, reply = await chat.send_photo(sideways)  # stored rotated, with an orientation tag
    assert f"⚠️ Ảnh này giống một bản sao ảnh của {hoa.number}." in reply.text
    for row in await storage.evidence.of_registration(lan.id):
        (flag,) = row.flags
        assert (flag.kind, flag.evidence_id) == (FlagKind.NEAR_DUPLICATE, stored[1].id)
        assert flag.distance <= NEAR_DUPLICATE_DISTANCE


async def test_a_copy_for_another_indicator_of_the_same_registration_is_flagged(
    bot,
    api,
    storage,
    enrol,
    families,  # noqa: F811
):
    await enrol(931, Role.BRANCH_CHAIR, "00070")
    chat = api.person(931)
    hoa = families["hoa"]
    original = pictures.photograph(3, (1200, 900))
    await open_indicator(chat, hoa.number, "GD.1.1")
    *_, first = await chat.send_photo(pictures.jpeg(original))
    assert "⚠️" not in first.text
    await open_indicator(chat, hoa.number, "GD.2.1")
    *_, same = await chat.send_photo(pictures.jpeg(original))  # the same bytes
    assert "⚠️ Giống ảnh đã gửi cho chỉ tiêu Trẻ em đi học đúng tuổi." in same.text
    *_, copy = await chat.send_photo(pictures.jpeg(pictures.as_sent(original, 800), 70))
    assert "⚠️ Giống ảnh đã gửi cho chỉ tiêu Trẻ em đi học đúng tuổi." in copy.text
    rows = [
        r for r in await storage.evidence.of_registration(hoa.id) if r.indicator_code != "GD.1.1"
    ]
    assert [[(f.kind, f.indicator_code) for f in r.flags] for r in rows] == [
        [(FlagKind.SAME_REGISTRATION, "GD.1.1")]
    ] * 2
    *_, summary = await chat.send(f"/xemminhchung {hoa.number}", expect=3)
    assert summary.text.count("Giống ảnh đã gửi cho chỉ tiêu Trẻ em đi học đúng tuổi.") == 2
    assert "GD.1.1" not in summary.text  # the flag names the indicator in words


async def test_blank_photos_are_told_blank_and_never_copies_of_each_other(
    bot,
    api,
    storage,
    enrol,
    families,  # noqa: F811
):
    await enrol(932, Role.BRANCH_CHAIR, "00070")
    chat = api.person(932)
    hoa, lan = families["hoa"], families["lan"]
    await open_indicator(chat, hoa.number, "GD.1.1")
    *_, black = await chat.send_photo(pictures.jpeg(pictures.blank((5, 5, 5))))
    assert black.text.startswith("Đã lưu 1 ảnh cho Trẻ em đi học đúng tuổi.")
    assert "⚠️ Ảnh này trông như để trống" in black.text
    await open_indicator(chat, lan.number, "GD.1.1")
    *_, white = await chat.send_photo(pictures.jpeg(pictures.blank((250, 250, 250))))
    assert "bản sao" not in white.text and "⚠️ Ảnh này trông như để trống" in white.text
    (row,) = await storage.evidence.of_registration(lan.id)
    assert [f.kind for f in row.flags] == [FlagKind.BLANK]


async def test_a_different_filled_form_is_not_flagged_and_a_resent_one_is(
    bot,
    api,
    storage,
    enrol,
    families,  # noqa: F811
):
    await enrol(933, Role.BRANCH_CHAIR, "00070")
    chat = api.person(933)
    hoa, lan = families["hoa"], families["lan"]
    hoa_form = pictures.as_sent(pictures.form(family=1))
    await open_indicator(chat, hoa.number, "GD.1.1")
    await chat.send_photo(pictures.jpeg(hoa_form))
    await open_indicator(chat, lan.number, "GD.1.1")
    *_, other = await chat.send_photo(pictures.jpeg(pictures.as_sent(pictures.form(family=2))))
    assert "⚠️" not in other.text
    resent = pictures.jpeg(pictures.resized(hoa_form, 0.7), 60)
    *_, copy = await chat.send_photo(resent)
    assert f"⚠️ Ảnh này giống một bản sao ảnh của {hoa.number}." in copy.text


def huge_png(width: int, height: int, mode: str) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), 0).save(out, "PNG", optimize=mode == "1")
    return out.getvalue()


async def test_images_too_large_are_refused_before_decoding_with_a_second_chance(
    bot,
    api,
    storage,
    enrol,
    families,  # noqa: F811
    tmp_path,
):
    await enrol(934, Role.BRANCH_CHAIR, "00070")
    chat = api.person(934)
    hoa = families["hoa"]
    await open_indicator(chat, hoa.number, "GD.1.1")
    bomb = huge_png(30000, 30000, "1")  # about 110 KB: Pillow refuses it as a bomb
    assert len(bomb) < 200_000
    *_, reply = await chat.send_document(bomb, "scan.png", "image/png")
    too_large = (
        "Ảnh này quá lớn để kiểm tra (hơn 50 megapixel). Xin gửi dạng ảnh (không phải tệp), "
        "hoặc một bản nhỏ hơn.\nGửi thêm ảnh, hoặc bấm Xong."
    )
    assert (reply.text, reply.buttons) == (too_large, [["✅ Xong"]])
    *_, reply = await chat.send_document(huge_png(12000, 12000, "L"), "big.png", "image/png")
    assert reply.text == too_large
    *_, reply = await chat.send_photo(pictures.jpeg(pictures.photograph(4, (800, 600))))
    # The step stayed open.
    assert reply.text.startswith("Đã lưu 1 ảnh cho Trẻ em đi học đúng tuổi.")
    assert len(await storage.evidence.of_registration(hoa.id)) == 1
    with sqlite3.connect(tmp_path / "hoctap.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM evidence_fingerprints").fetchone() == (1,)


async def test_review_shows_a_flagged_photo_beside_the_photo_it_resembles(
    bot,
    api,
    storage,
    enrol,
    families,  # noqa: F811
):
    chair = await enrol(935, Role.BRANCH_CHAIR, "00070")
    await enrol(955, Role.STAFF, "00070")
    chat, reviewer = api.person(935), api.person(955)
    hoa, lan = families["hoa"], families["lan"]
    original = pictures.photograph(5, (1200, 900))
    first, copy = pictures.jpeg(original), pictures.jpeg(pictures.cropped(original, 0.07), 70)
    await open_indicator(chat, hoa.number, "GD.1.1")
    await chat.send_photo(first)
    await open_indicator(chat, lan.number, "GD.2.1")
    await chat.send_photo(copy)

    flagged_photo, resembled, item = await reviewer.send("/duyet", expect=2)  # album, text
    assert flagged_photo.media_group_id and flagged_photo.media_group_id == resembled.media_group_id
    assert flagged_photo.file_bytes() == copy and resembled.file_bytes() == first
    assert flagged_photo.text == (
        f"Ảnh cần duyệt: {lan.number}, chỉ tiêu “Người lớn biết chữ”, gửi bởi {chair.full_name}"
    )
    assert resembled.text == (
        f"Ảnh giống: {hoa.number}, chỉ tiêu “Trẻ em đi học đúng tuổi”, gửi bởi {chair.full_name}"
    )
    assert f"⚠️ Ảnh này giống một bản sao ảnh của {hoa.number}." in item.text
    assert item.buttons[0] == ["✅ Đạt", "📝 Cần bổ sung"]
    await reviewer.press("✅ Đạt", expect=2)
    (row,) = await storage.evidence.of_registration(lan.id)
    assert (await storage.reviews.get(row.id)).decision == "accepted"


async def test_photos_stored_before_the_index_are_indexed_from_their_files(
    bot,
    api,
    storage,
    enrol,
    families,  # noqa: F811
    run_cli,
    cli_env,
    tmp_path,
):
    await enrol(936, Role.BRANCH_CHAIR, "00070")
    chat = api.person(936)
    hoa, lan = families["hoa"], families["lan"]
    original = pictures.photograph(6, (1200, 900))
    await open_indicator(chat, hoa.number, "GD.1.1")
    await chat.send_photo(pictures.jpeg(original))
    with sqlite3.connect(tmp_path / "hoctap.sqlite3") as conn:  # as before migration 0013
        conn.execute("DELETE FROM evidence_buckets")
        conn.execute("DELETE FROM evidence_fingerprints")
    env = cli_env | {
        "HOCTAP_DB_PATH": str(tmp_path / "hoctap.sqlite3"),
        "HOCTAP_MEDIA_DIR": str(tmp_path / "media"),
    }
    result = run_cli("reindex-evidence", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "1 photo(s) indexed, 0 unreadable (see the log)\n"
    await open_indicator(chat, lan.number, "GD.1.1")
    *_, reply = await chat.send_photo(pictures.jpeg(pictures.cropped(original, 0.06)))
    assert f"⚠️ Ảnh này giống một bản sao ảnh của {hoa.number}." in reply.text
    assert run_cli("reindex-evidence", env=env).stdout.startswith("0 photo(s) indexed")
