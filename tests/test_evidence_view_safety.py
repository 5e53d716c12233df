"""/xemminhchung with many photos, long captions and a dead file id; the delete button's area
check (issue 11)."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import Image

from storage.criteria import ModelKind
from storage.evidence import MediaFolder, MediaKind, Received
from storage.images import inspect
from storage.models import Role

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
APOLOGY = "Xin lỗi, hệ thống vừa gặp sự cố."


def jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (seed % 256, (seed * 7) % 256, (seed * 13) % 256)).save(out, "JPEG")
    return out.getvalue()


async def family(storage, head, hamlet, year):
    draft = await storage.registrations.start_draft(head.id, hamlet.id, year)
    criteria = await storage.criteria.in_force(hamlet.province_code, year, ModelKind.FAMILY)
    answers = {"kind": "family", "criteria_set_id": criteria.set_id, "head_name": "Đỗ Văn Tư"}
    answers |= {"members": 5, "school_age_children": 2, "assessment": {"GD.1.1": 10}}
    await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
    draft = await storage.registrations.draft_of(head.id)
    return await storage.registrations.register(draft, hamlet, head.id)


async def add(api, storage, media, registration, head, seed, *, caption=None, dead=False):
    data = jpeg(seed)
    size = api.files.add_photo(data)[-1]
    facts = inspect(data)
    path = f"{registration.year}/{registration.number}/{facts.sha256}.jpg"
    media.write(path, data)
    received = Received(
        registration_id=registration.id,
        indicator_code="GD.1.1",
        media_kind=MediaKind.PHOTO,
        file_id="AgAC-no-longer-valid" if dead else size["file_id"],
        file_unique_id=size["file_unique_id"],
        message_date=datetime.now(TZ),
        uploaded_by=head.id,
        caption=caption,
    )
    await storage.evidence.add(received, facts, path)
    return data


async def test_ninety_photos_a_long_caption_and_a_dead_file_id_are_all_shown(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    head = await enrol(960, Role.HAMLET_HEAD, "00070/Thôn Đông")
    registration = await family(storage, head, hamlets["Thôn Đông"], registration_open)
    media = MediaFolder(tmp_path / "media")
    await add(api, storage, media, registration, head, 1, caption="Giấy khen " + "x" * 1014)
    dead = await add(api, storage, media, registration, head, 2, dead=True)
    for seed in range(3, 91):
        await add(api, storage, media, registration, head, seed)

    person = api.person(960)
    await person.send(f"/xemminhchung {registration.number}", expect=19, quiet=0.6, timeout=60)
    shown = [m for m in person.messages if m.photo]
    assert len(shown) == 90
    assert all(len(m.text) <= 1024 for m in shown)
    assert shown[0].text.startswith("#1 · Trẻ em đi học đúng tuổi ·") and shown[0].text.endswith(
        "…"
    )
    assert shown[1].file_bytes() == dead  # sent again from MEDIA_DIR
    listing = "\n".join(m.text for m in person.messages if not m.photo)
    assert "#90 Trẻ em đi học đúng tuổi ·" in listing
    assert sum(len(m.buttons) for m in person.messages) == 23  # 90 delete buttons, 4 a row
    assert not any(m.text.startswith(APOLOGY) for m in person.messages)


async def test_the_delete_button_checks_the_area(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    head = await enrol(970, Role.HAMLET_HEAD, "00070/Thôn Đông")
    registration = await family(storage, head, hamlets["Thôn Đông"], registration_open)
    await add(api, storage, MediaFolder(tmp_path / "media"), registration, head, 5)
    (photo,) = await storage.evidence.of_registration(registration.id)
    await enrol(971, Role.STAFF, "00073")  # staff may delete any photo, but not elsewhere
    outsider = api.person(971)
    (card,) = await outsider.send("/trogiup")
    for data in (f"evx:del:{photo.id}", f"evx:delok:{photo.id}"):
        await outsider.press_data(card, data, expect=0)
        assert outsider.last_callback_answer["text"] == "Bạn không có quyền truy cập nội dung này."
    assert await storage.evidence.get(photo.id) is not None
    assert not await storage.audit.entries("evidence.deleted")


async def test_a_photo_the_disk_cannot_take_is_not_claimed_saved(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    head = await enrol(980, Role.HAMLET_HEAD, "00070/Thôn Đông")
    registration = await family(storage, head, hamlets["Thôn Đông"], registration_open)
    blocked = tmp_path / "media" / str(registration.year) / registration.number
    blocked.parent.mkdir(parents=True)
    blocked.write_text("")  # the photo's folder cannot be made: as a full disk, writes fail
    person = api.person(980)
    await person.send(f"/minhchung {registration.number}")
    await person.press("⬜ Trẻ em đi học đúng tuổi *")
    *_, reply = await person.send_photo(jpeg(42))
    assert reply.text.startswith("1 ảnh không lưu được"), reply.text
    assert "Đã lưu" not in reply.text and not reply.text.startswith(APOLOGY)
    assert await storage.evidence.of_registration(registration.id) == []
