"""Evidence photos end to end: the real bot, the fake Bot API over HTTP, real image bytes."""

import hashlib
import io
import random
import sqlite3
from datetime import datetime

import pytest
from PIL import Image, ImageDraw

from conversations import evidence_intake
from conversations.evidence_intake import retry_pending_downloads
from storage.criteria import ModelKind
from storage.evidence import FlagKind, MediaFolder
from storage.images import (
    EXIF_IFD,
    HEIC_SUPPORTED,
    NEAR_DUPLICATE_DISTANCE,
    hash_distance,
    inspect,
)
from storage.models import Role

REQUIRED_INDICATORS = 6


def picture(seed: int, size=(320, 240), fmt="JPEG", exif_date: str | None = None) -> bytes:
    """A distinct picture: random shapes on a random background, as JPEG or PNG bytes."""
    rng = random.Random(seed)
    colour = lambda: tuple(rng.randrange(256) for _ in range(3))  # noqa: E731
    image = Image.new("RGB", size, colour())
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        box = [x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 160)]
        (draw.rectangle if rng.random() < 0.5 else draw.ellipse)(box, fill=colour())
    out = io.BytesIO()
    options = {"quality": 90} if fmt == "JPEG" else {}
    if exif_date:
        exif = Image.Exif()
        exif.get_ifd(EXIF_IFD)[36867] = exif_date
        options["exif"] = exif.tobytes()
    image.save(out, fmt, **options)
    return out.getvalue()


def resized_copy(data: bytes) -> bytes:
    """What forwarding through another phone does: smaller, recompressed."""
    with Image.open(io.BytesIO(data)) as image:
        smaller = image.resize((image.width * 7 // 10, image.height * 7 // 10))
    out = io.BytesIO()
    smaller.save(out, "JPEG", quality=55)
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rows(db_path, sql, *params):
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


async def register_family(storage, person, hamlet, head_name, year):
    draft = await storage.registrations.start_draft(person.id, hamlet.id, year)
    criteria = await storage.criteria.in_force(hamlet.province_code, year, ModelKind.FAMILY)
    answers = {
        "kind": "family",
        "criteria_set_id": criteria.set_id,
        "head_name": head_name,
        "members": 4,
        "school_age_children": 2,
        "assessment": {"GD.1.1": 10},
    }
    await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
    draft = await storage.registrations.draft_of(person.id)
    return await storage.registrations.register(draft, hamlet, person.id)


@pytest.fixture
async def families(storage, enrol, hamlets, registration_open):
    """Two families in Thôn Đông (commune 00070) and one in Thôn Bắc (commune 00073)."""
    head = await enrol(890, Role.HAMLET_HEAD, "00070/Thôn Đông")
    other_head = await enrol(891, Role.HAMLET_HEAD, "00073/Thôn Bắc")
    year = registration_open
    return {
        "hoa": await register_family(storage, head, hamlets["Thôn Đông"], "Nguyễn Văn Hoà", year),
        "lan": await register_family(storage, head, hamlets["Thôn Đông"], "Lê Thị Lan", year),
        "bac": await register_family(
            storage, other_head, hamlets["Thôn Bắc"], "Trần Văn Bắc", year
        ),
    }


async def open_indicator(chat, number: str, code: str):
    """The checklist of `number`, then the screen of indicator `code`, edited in its place."""
    *_, card = await chat.send(f"/minhchung {number}")
    data = next(d for d in card.button_data.values() if d.endswith(f":{code}"))
    (prompt,) = await chat.press_data(card, data)
    assert prompt.message_id == card.message_id
    return card, prompt


def media_files(tmp_path, year, number):
    folder = tmp_path / "media" / str(year) / number
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


async def test_an_album_of_three_photos_is_stored_with_one_receipt(
    bot, api, storage, enrol, families, tmp_path
):
    chair = await enrol(900, Role.BRANCH_CHAIR, "00070")
    chat = api.person(900)
    hoa = families["hoa"]
    card, prompt = await open_indicator(chat, hoa.number, "GD.1.1")
    assert card.text.startswith(f"Minh chứng của {hoa.number}: Nguyễn Văn Hoà, Thôn Đông")
    assert "⬜ Trẻ em đi học đúng tuổi * (0 ảnh)" in card.text
    assert f"0/{REQUIRED_INDICATORS} chỉ tiêu bắt buộc đã có ảnh" in card.text
    assert "GD." not in card.text
    assert "Cần gửi: Ảnh giấy xác nhận đang học" in prompt.text
    assert prompt.buttons == [["✅ Xong"]]

    album = [picture(1), picture(2), picture(3)]
    replies = await chat.send_album(album, caption="Giấy xác nhận của ba cháu")
    assert [r.text for r in replies if r.buttons] == [  # the prompt above lost its Done
        "Đã lưu 3 ảnh cho Trẻ em đi học đúng tuổi.\nGửi thêm ảnh, hoặc bấm Xong."
    ]

    files = media_files(tmp_path, hoa.year, hoa.number)
    assert sorted(sha(p.read_bytes()) for p in files) == sorted(sha(b) for b in album)
    assert sorted(p.name for p in files) == sorted(f"{sha(b)}.jpg" for b in album)
    assert not list((tmp_path / "media").rglob(".part-*"))
    stored = rows(
        tmp_path / "hoctap.sqlite3",
        "SELECT * FROM evidence WHERE registration_id = ? ORDER BY id",
        hoa.id,
    )
    assert len(stored) == 3
    assert {r["sha256"] for r in stored} == {sha(b) for b in album}
    first = stored[0]
    assert (first["indicator_code"], first["status"], first["uploaded_by"]) == (
        "GD.1.1",
        "stored",
        chair.id,
    )
    assert (first["width"], first["height"], first["mime_type"]) == (320, 240, "image/jpeg")
    assert first["bytes"] == len(album[0]) and len(first["phash"]) == 16
    assert first["caption"] == "Giấy xác nhận của ba cháu" and first["forwarded"] == 0
    assert first["path"] == f"{hoa.year}/{hoa.number}/{sha(album[0])}.jpg"
    assert first["flags"] == "[]"
    audited = await storage.audit.entries("evidence.stored")
    assert [(e.subject_id, e.actor_id, e.actor_telegram_id) for e in audited] == [
        (str(r["id"]), chair.id, 900) for r in stored
    ]
    assert audited[0].after == {
        "registration_id": hoa.id,
        "number": hoa.number,
        "indicator": "GD.1.1",
        "sha256": sha(album[0]),
        "flags": [],
    }

    (receipt,) = await chat.press("✅ Xong")  # the reply with Done becomes the checklist
    assert receipt.message_id == replies[-1].message_id
    assert receipt.text.startswith(
        f"Biên nhận: đã lưu 3 ảnh cho chỉ tiêu Trẻ em đi học đúng tuổi của {hoa.number}."
    )
    assert "✅ Trẻ em đi học đúng tuổi * (3 ảnh)" in receipt.text
    assert f"1/{REQUIRED_INDICATORS} chỉ tiêu bắt buộc đã có ảnh" in receipt.text


async def test_an_image_sent_as_a_document_keeps_its_exif_capture_time(
    bot, api, storage, enrol, families, tmp_path
):
    await enrol(901, Role.HAMLET_HEAD, "00070/Thôn Đông")
    chat = api.person(901)
    hoa = families["hoa"]
    await open_indicator(chat, hoa.number, "GD.3.1")
    data = picture(10, fmt="PNG", exif_date=f"{hoa.year}:03:14 09:30:00")
    *_, reply = await chat.send_document(data, "goc-hoc-tap.png", "image/png")
    assert reply.text.startswith("Đã lưu 1 ảnh cho Góc học tập, tủ sách.")
    (row,) = rows(tmp_path / "hoctap.sqlite3", "SELECT * FROM evidence")
    assert row["captured_at"] == f"{hoa.year}-03-14T09:30:00"
    assert (row["mime_type"], row["media_kind"], row["sha256"]) == (
        "image/png",
        "document",
        sha(data),
    )
    assert (tmp_path / "media" / row["path"]).read_bytes() == data

    old = picture(11, exif_date="2019:05:01 08:00:00")
    *_, reply = await chat.send_document(old, "cu.jpg", "image/jpeg")
    assert "⚠️ Ảnh chụp ngày 01/05/2019, ngoài năm đánh giá." in reply.text
    flagged = await storage.evidence.of_registration(hoa.id)
    assert [f.kind for f in flagged[-1].flags] == [FlagKind.CAPTURED_OUTSIDE_YEAR]
    assert flagged[-1].captured_at == datetime(2019, 5, 1, 8, 0)


async def test_the_same_photo_is_refused_here_and_flagged_for_another_family(
    bot, api, storage, enrol, families, tmp_path
):
    await enrol(902, Role.BRANCH_CHAIR, "00070")
    chat = api.person(902)
    hoa, lan = families["hoa"], families["lan"]
    photo = picture(20)
    await open_indicator(chat, hoa.number, "GD.1.2")
    *_, stored = await chat.send_photo(photo)
    assert stored.text.startswith("Đã lưu 1 ảnh cho Kết quả học tập, hạnh kiểm.")
    *_, again = await chat.send_photo(photo)  # a new file_unique_id, the same bytes
    assert again.text.startswith(
        "1 ảnh đã được gửi cho Kết quả học tập, hạnh kiểm trước đó nên không lưu lại"
    )
    assert len(await storage.evidence.of_registration(hoa.id)) == 1

    await open_indicator(chat, lan.number, "GD.1.2")
    *_, flagged = await chat.send_photo(photo)
    assert flagged.text.startswith("Đã lưu 1 ảnh cho Kết quả học tập, hạnh kiểm.")
    assert f"⚠️ Ảnh này đã là minh chứng của {hoa.number}." in flagged.text
    (row,) = await storage.evidence.of_registration(lan.id)
    (flag,) = row.flags
    assert (flag.kind, flag.registration_number) == (FlagKind.DUPLICATE, hoa.number)

    *_, near = await chat.send_photo(picture(22))  # nothing like it yet
    assert "⚠️" not in near.text
    await open_indicator(chat, hoa.number, "GD.2.1")
    *_, copy = await chat.send_photo(resized_copy(picture(22)))  # 2 bits of 64 differ
    assert f"⚠️ Ảnh này giống một bản sao ảnh của {lan.number}." in copy.text
    latest = (await storage.evidence.of_registration(hoa.id))[-1]
    assert [(f.kind, f.registration_number) for f in latest.flags] == [
        (FlagKind.NEAR_DUPLICATE, lan.number)
    ]
    assert latest.flags[0].distance == 2


@pytest.mark.skipif(not HEIC_SUPPORTED, reason="pillow-heif is not installed")
def test_heic_photos_are_read():
    out = io.BytesIO()
    Image.open(io.BytesIO(picture(70))).save(out, "HEIF")
    facts = inspect(out.getvalue())
    assert (facts.mime_type, facts.extension, facts.width, facts.height) == (
        "image/heic",
        "heic",
        320,
        240,
    )
    assert hash_distance(facts.phash, inspect(picture(70)).phash) <= NEAR_DUPLICATE_DISTANCE


def test_resized_copies_are_near_and_fifty_distinct_photos_are_not():
    hashes = [inspect(picture(seed)).phash for seed in range(100, 150)]
    distances = [hash_distance(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :]]
    assert len(distances) == 50 * 49 // 2
    assert min(distances) > NEAR_DUPLICATE_DISTANCE
    for seed in range(100, 110):
        original = picture(seed)
        copy = resized_copy(original)
        assert sha(copy) != sha(original)
        assert hash_distance(inspect(original).phash, inspect(copy).phash) <= 4


async def test_wrong_content_at_the_photo_step_is_explained_and_the_step_stays(
    bot, api, storage, enrol, families, tmp_path
):
    await enrol(903, Role.BRANCH_CHAIR, "00070")
    chat = api.person(903)
    hoa = families["hoa"]
    await open_indicator(chat, hoa.number, "GD.4.2")
    (sticker,) = await chat.send_sticker()
    assert sticker.text.startswith("Nhãn dán không dùng làm minh chứng được.")
    (voice,) = await chat.send_voice()
    assert voice.text.startswith("Tin nhắn thoại không dùng làm minh chứng được.")
    *_, pdf = await chat.send_document(b"%PDF-1.4\n%fake\n", "giay-khen.pdf", "application/pdf")
    assert pdf.text.startswith("Tệp này không phải là ảnh.")
    *_, fake_png = await chat.send_document(b"not really a png", "anh.png", "image/png")
    assert fake_png.text.startswith("Tệp này không phải là ảnh.")
    too_big = b"\xff\xd8" + bytes(20 * 1024 * 1024)
    *_, big = await chat.send_document(too_big, "anh-to.jpg", "image/jpeg")
    assert big.text.startswith("Tệp này lớn hơn 20 MB.")
    (text,) = await chat.send("đây là ảnh")
    assert text.text.startswith("Bot đang chờ ảnh, không phải chữ.")
    assert "bấm Xong" in text.text
    assert await storage.evidence.of_registration(hoa.id) == []
    *_, photo = await chat.send_photo(picture(30))
    assert photo.text.startswith("Đã lưu 1 ảnh cho Gia đình văn hóa.")
    (row,) = await storage.evidence.of_registration(hoa.id)
    assert row.indicator_code == "GD.4.2"


async def test_a_download_that_fails_twice_still_ends_up_on_disk(
    bot, api, storage, enrol, families, tmp_path, monkeypatch
):
    monkeypatch.setattr(evidence_intake, "DOWNLOAD_DELAYS", (0.05, 0.05))
    chair = await enrol(904, Role.BRANCH_CHAIR, "00070")
    chat = api.person(904)
    hoa = families["hoa"]
    await open_indicator(chat, hoa.number, "GD.1.3")
    photo = picture(40)
    api.fail_next("getFile", times=2)
    *_, reply = await chat.send_photo(photo)
    assert reply.text.startswith("Đã lưu 1 ảnh cho Trẻ trung thực, lễ phép.")
    (row,) = rows(tmp_path / "hoctap.sqlite3", "SELECT * FROM evidence")
    assert (row["status"], row["sha256"]) == ("stored", sha(photo))
    assert (tmp_path / "media" / row["path"]).read_bytes() == photo

    # Failing every quick try: kept as pending, the person is told, the job fetches it later.
    later = picture(41)
    api.fail_next("getFile", times=3)
    *_, reply = await chat.send_photo(later)
    assert "Chưa tải được 1 ảnh từ Telegram" in reply.text
    pending = await storage.evidence.pending()
    assert [(p.indicator_code, p.sha256, p.download_attempts) for p in pending] == [
        ("GD.1.3", None, 3)
    ]
    assert (await storage.evidence.counts(hoa.id))["GD.1.3"] == 2
    api.fail_next("getFile", times=1)
    media = MediaFolder(tmp_path / "media")
    assert await retry_pending_downloads(bot.bot, storage, media) == 0
    assert (await storage.evidence.get(pending[0].id)).download_attempts == 4
    assert await retry_pending_downloads(bot.bot, storage, media) == 1
    done = await storage.evidence.get(pending[0].id)
    assert (done.status, done.sha256) == ("stored", sha(later))
    assert (tmp_path / "media" / done.path).read_bytes() == later
    assert chat.last.text == (
        f"Ảnh cho Trẻ trung thực, lễ phép của {hoa.number} trước đó chưa tải được nay đã được lưu."
    )
    audited = [
        (e.action, e.subject_id, e.actor_id, e.after.get("sha256"))
        for e in await storage.audit.entries()
        if e.action.startswith("evidence.")
    ]
    assert audited == [  # each photo once, with its sender, when kept and when stored
        ("evidence.stored", str(row["id"]), chair.id, sha(photo)),
        ("evidence.pending", str(done.id), chair.id, None),
        ("evidence.stored", str(done.id), chair.id, sha(later)),
    ]


async def test_a_chair_of_another_commune_is_refused_and_audited(
    bot, api, storage, enrol, families, tmp_path
):
    outsider = await enrol(905, Role.BRANCH_CHAIR, "00073")
    chat = api.person(905)
    hoa = families["hoa"]
    (refused,) = await chat.send(f"/minhchung {hoa.number}")  # answered as if it did not exist
    assert refused.text == f"Không có đăng ký nào số {hoa.number}."

    (listing,) = await chat.send("/minhchung")
    assert [families["bac"].number in row[0] for row in listing.buttons] == [True]
    await chat.press_data(listing, f"ev:open:{hoa.id}", expect=0)
    assert chat.last_callback_answer["text"] == "Bạn không có quyền truy cập nội dung này."
    await chat.press_data(listing, f"ev:ind:{hoa.id}:GD.1.1", expect=0)
    assert chat.last_callback_answer["text"] == "Bạn không có quyền truy cập nội dung này."
    (found,) = await chat.send("hoa")  # name search stays within the area
    assert found.text.startswith("Không tìm thấy “hoa” trong địa bàn của bạn.")
    (view,) = await chat.send(f"/xemminhchung {hoa.number}")
    assert view.text == f"Không có đăng ký nào số {hoa.number}."

    entries = await storage.audit.entries("access.denied")
    assert [e.actor_id for e in entries] == [outsider.id] * 4
    subjects = [e.after.get("registration_id") or e.after.get("number") for e in entries]
    assert subjects == [hoa.number, hoa.id, hoa.id, hoa.number]
    assert await storage.evidence.session_of(outsider.id) is None


async def test_find_by_name_without_diacritics_and_from_the_list(
    bot, api, storage, enrol, families, tmp_path
):
    await enrol(906, Role.BRANCH_CHAIR, "00070")
    chat = api.person(906)
    (listing,) = await chat.send("/minhchung")
    assert "Đăng ký 1-2 trên 2" in listing.text
    assert [row[0].split(" · ")[0] for row in listing.buttons] == [
        families["hoa"].number,
        families["lan"].number,
    ]
    *_, card = await chat.send("nguyen van hoa", expect=2)
    assert card.text.startswith(f"Minh chứng của {families['hoa'].number}: Nguyễn Văn Hoà")
    await chat.press("Trẻ em đi học đúng tuổi")
    await chat.send_photo(picture(50))
    *_, listing = await chat.send("/minhchung", expect=2)
    # Those missing evidence first.
    assert [row[0].split(" · ")[0] for row in listing.buttons] == [
        families["lan"].number,
        families["hoa"].number,
    ]
    (card,) = await chat.press(families["lan"].number)
    assert card.text.startswith(f"Minh chứng của {families['lan'].number}: Lê Thị Lan")


async def test_view_resends_albums_and_the_uploader_deletes_a_photo(
    bot, api, storage, enrol, families, tmp_path
):
    chair = await enrol(907, Role.BRANCH_CHAIR, "00070", name="Phạm Thị Chi")
    chat = api.person(907)
    hoa = families["hoa"]
    await open_indicator(chat, hoa.number, "GD.1.1")
    album = [picture(60), picture(61)]
    await chat.send_album(album)
    await chat.send_document(picture(62, fmt="PNG"), "a.png", "image/png")
    shown = await chat.send(f"/xemminhchung {hoa.number}", expect=3)
    media_group = [m for m in shown if m.media_group_id]
    assert [m.text for m in media_group] == [
        "#1 · Trẻ em đi học đúng tuổi · người gửi: Phạm Thị Chi",
        "#2 · Trẻ em đi học đúng tuổi · người gửi: Phạm Thị Chi",
    ]
    assert [m.file_bytes() for m in media_group] == album
    assert shown[-1].text.startswith(f"Minh chứng của {hoa.number} (Nguyễn Văn Hoà): 3 ảnh.")
    assert shown[-1].buttons == [["🗑 #1", "🗑 #2", "🗑 #3"]]

    someone = api.person(908)
    await enrol(908, Role.BRANCH_CHAIR, "00070")
    *_, other_view = await someone.send(f"/xemminhchung {hoa.number}", expect=3)
    assert other_view.buttons == []  # not theirs to delete
    first = (await storage.evidence.of_registration(hoa.id))[0]
    await someone.press_data(other_view, f"evx:del:{first.id}", expect=0)
    assert someone.last_callback_answer["text"] == "Bạn không có quyền truy cập nội dung này."

    (question,) = await chat.press("🗑 #1")
    assert question.text.startswith("Xoá ảnh này của Trẻ em đi học đúng tuổi?")
    *_, done = await chat.press("Có, xoá", expect=2)
    assert done.text == f"Đã xoá một ảnh của Trẻ em đi học đúng tuổi thuộc {hoa.number}."
    remaining = await storage.evidence.of_registration(hoa.id)
    assert [e.sha256 for e in remaining] == [sha(album[1]), sha(picture(62, fmt="PNG"))]
    (entry,) = await storage.audit.entries("evidence.deleted")
    assert (entry.actor_id, entry.before["sha256"]) == (chair.id, sha(album[0]))
    trashed = tmp_path / "media" / "trash" / first.path
    assert trashed.read_bytes() == album[0]
    assert not (tmp_path / "media" / first.path).exists()


def test_purge_trash_deletes_only_the_trash(run_cli, cli_env, tmp_path):
    media = MediaFolder(tmp_path / "data" / "media")
    kept = media.write("2026/GD-2026-00001/a.jpg", b"kept")
    media.write("2026/GD-2026-00001/b.jpg", b"deleted")
    trashed = media.trash("2026/GD-2026-00001/b.jpg")
    assert trashed.read_bytes() == b"deleted"
    result = run_cli("purge-trash")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 file(s) deleted from ")
    assert not trashed.exists() and kept.read_bytes() == b"kept"
    assert run_cli("purge-trash").stdout.startswith("0 file(s) deleted")
