"""Review (/duyet), recognition (/congnhan), reminders and the weekly digest, end to end: the real
bot over HTTP against the fake Bot API, a real SQLite file, real generated JPEG bytes."""

import io
import random
import sqlite3
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from bot.reminders import send_reminders
from storage.criteria import ModelKind
from storage.evidence import MediaKind, Received
from storage.images import inspect
from storage.models import Role
from storage.registrations import ProgrammeYear
from storage.reviews import Decision

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
REFUSED = "Bạn không có quyền truy cập nội dung này."
FULL_MARKS = {
    "GD.1.1": 10,
    "GD.1.2": 10,
    "GD.1.3": 10,
    "GD.2.1": 10,
    "GD.2.2": 10,
    "GD.2.3": 10,
    "GD.3.1": 10,
    "GD.3.2": 10,
    "GD.4.1": 10,
    "GD.4.2": 10,
}
REQUIRED = ("GD.1.1", "GD.1.2", "GD.2.2", "GD.2.3", "GD.3.1", "GD.4.2")


def picture(seed: int) -> bytes:
    rng = random.Random(seed)
    colour = lambda: tuple(rng.randrange(256) for _ in range(3))  # noqa: E731
    image = Image.new("RGB", (320, 240), colour())
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        x, y = rng.randrange(320), rng.randrange(240)
        draw.rectangle([x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 160)], colour())
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def rows(db_path, sql, *params):
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


async def register_family(storage, person, hamlet, head_name, year, assessment=None):
    draft = await storage.registrations.start_draft(person.id, hamlet.id, year)
    criteria = await storage.criteria.in_force(hamlet.province_code, year, ModelKind.FAMILY)
    answers = {
        "kind": "family",
        "criteria_set_id": criteria.set_id,
        "head_name": head_name,
        "members": 4,
        "school_age_children": 2,
        "assessment": assessment or {"GD.1.1": 10},
    }
    await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
    draft = await storage.registrations.draft_of(person.id)
    return await storage.registrations.register(draft, hamlet, person.id)


async def add_photo(api, storage, registration, code, uploader, seed):
    """A photo stored as /minhchung stores it, with a file id the fake server knows."""
    data = picture(seed)
    size = api.files.add_photo(data)[-1]
    received = Received(
        registration_id=registration.id,
        indicator_code=code,
        media_kind=MediaKind.PHOTO,
        file_id=size["file_id"],
        file_unique_id=size["file_unique_id"],
        message_date=datetime.now(TZ),
        uploaded_by=uploader.id,
    )
    facts = inspect(data)
    path = f"{registration.year}/{registration.number}/{facts.sha256}.jpg"
    return await storage.evidence.add(received, facts, path)


@pytest.fixture
async def hoa(storage, enrol, hamlets, registration_open):
    head = await enrol(890, Role.HAMLET_HEAD, "00070/Thôn Đông")
    return await register_family(
        storage, head, hamlets["Thôn Đông"], "Nguyễn Văn Hoà", registration_open, FULL_MARKS
    )


async def test_needs_more_reaches_the_uploader_whose_new_photo_returns_to_the_queue(
    bot, api, storage, enrol, hoa, tmp_path
):
    chair = await enrol(900, Role.BRANCH_CHAIR, "00070", name="Phạm Thị Chi", locale="en")
    staff = await enrol(950, Role.STAFF, "00070", name="Đỗ Văn Duyệt")
    uploader, reviewer = api.person(900), api.person(950)

    await uploader.send(f"/minhchung {hoa.number}")
    await uploader.press("Children at school")
    first = picture(1)
    *_, stored = await uploader.send_photo(first)
    assert stored.text.startswith("Stored 1 photo for Children at school.")

    (item,) = await reviewer.send("/duyet")
    assert item.file_bytes() == first
    assert item.text.startswith(
        f"Cần duyệt: còn 1 ảnh\n{hoa.number}: Nguyễn Văn Hoà, Thôn Đông\n"
        "Chỉ tiêu “Trẻ em đi học đúng tuổi”: Trẻ em ở độ tuổi phổ cập đều được đến trường"
    )
    assert "Người gửi: Phạm Thị Chi, lúc " in item.text
    assert item.buttons == [["✅ Đạt", "📝 Cần bổ sung"], ["⏭ Bỏ qua"]]

    _, question = await reviewer.press("📝 Cần bổ sung", expect=2)
    assert question.text == (
        f"Vì sao ảnh này của chỉ tiêu “Trẻ em đi học đúng tuổi” ({hoa.number}) cần bổ sung? "
        "Chọn một lý do hoặc tự nhập."
    )
    assert question.buttons == [
        ["Ảnh không rõ"],
        ["Ảnh không đúng chỉ tiêu"],
        ["Thiếu thông tin, cần thêm ảnh"],
    ]
    *_, note, empty = await reviewer.press("Ảnh không rõ", expect=3)
    assert note.text == (
        f"📝 Cần bổ sung: “Trẻ em đi học đúng tuổi” của {hoa.number}. Lý do: Ảnh không rõ.\n"
        "Đã báo cho người gửi."
    )
    assert empty.text == "Không còn ảnh nào cần duyệt trong địa bàn của bạn."

    (evidence,) = await storage.evidence.of_registration(hoa.id)
    review = await storage.reviews.get(evidence.id)
    assert (review.decision, review.reason, review.reviewer_id) == (
        Decision.NEEDS_MORE,
        "Ảnh không rõ",
        staff.id,
    )
    (entry,) = await storage.audit.entries("evidence.reviewed")
    assert (entry.actor_id, entry.subject_id, entry.before) == (staff.id, str(evidence.id), None)
    assert (entry.after["decision"], entry.after["reason"], entry.after["indicator"]) == (
        "needs_more",
        "Ảnh không rõ",
        "GD.1.1",
    )

    # The uploader is told in English, naming the indicator by its short name, never its
    # code, with a button that opens /minhchung at GD.1.1.
    notice = uploader.last
    assert notice.text == (
        f"Evidence needs more: {hoa.number} (Nguyễn Văn Hoà), indicator Children at school: All "
        "children of "
        "compulsory-education age attend school and complete compulsory education (except for "
        "illness, disability or inability to learn).\nReason: The photo is not clear\n"
        "Please send another photo for this indicator."
    )
    assert notice.button_data == {
        "📷 Send photos for Children at school": f"ev:ind:{hoa.id}:GD.1.1"
    }
    await uploader.send("/huy")  # out of the evidence dialog: the button must still work
    *_, prompt = await uploader.press("📷 Send photos for Children at school")
    assert notice.text == uploader.messages[-3].text  # the reviewer's note stays
    assert prompt.text.startswith(f"{hoa.number} · Children at school *\nAll children")
    assert "What to send: Photo of each school-age child's school attendance" in prompt.text
    assert "Already stored: 1 photo." in prompt.text
    second = picture(2)
    *_, stored = await uploader.send_photo(second)
    assert stored.text.startswith("Stored 1 photo for Children at school.")

    (item,) = await reviewer.send("/duyet")
    assert item.file_bytes() == second
    *_, accepted, empty = await reviewer.press("✅ Đạt", expect=3)
    assert accepted.text == f"✅ Đã chấp nhận: “Trẻ em đi học đúng tuổi” của {hoa.number}."
    assert empty.text == "Không còn ảnh nào cần duyệt trong địa bàn của bạn."
    latest = (await storage.evidence.of_registration(hoa.id))[-1]
    assert (await storage.reviews.get(latest.id)).decision is Decision.ACCEPTED
    assert await storage.reviews.accepted_codes(hoa.id) == {"GD.1.1"}
    entries = await storage.audit.entries("evidence.reviewed")
    assert [(e.subject_id, e.after["decision"]) for e in entries] == [
        (str(evidence.id), "needs_more"),
        (str(latest.id), "accepted"),
    ]
    assert chair.id == latest.uploaded_by


async def test_flagged_first_skip_stores_nothing_and_a_typed_reason_is_kept(
    bot, api, storage, enrol, hoa, tmp_path
):
    chair = await enrol(901, Role.BRANCH_CHAIR, "00070")
    await enrol(951, Role.STAFF, "00070")
    reviewer, uploader = api.person(951), api.person(901)
    plain = await add_photo(api, storage, hoa, "GD.2.1", chair, 10)
    flagged = await add_photo(api, storage, hoa, "GD.2.2", chair, 11)
    await storage.db.write(
        "UPDATE evidence SET flags = ? WHERE id = ?",
        ('[{"kind": "duplicate", "registration_number": "GD-2000-00009"}]', flagged.id),
    )
    (item,) = await reviewer.send("/duyet")
    assert item.file_bytes() == picture(11)  # the flagged photo first
    assert "⚠️ Ảnh này đã là minh chứng của GD-2000-00009." in item.text
    *_, following = await reviewer.press("⏭ Bỏ qua", expect=2)
    assert following.file_bytes() == picture(10)
    assert await storage.reviews.get(flagged.id) is None

    await reviewer.press("📝 Cần bổ sung", expect=2)
    *_, note, empty = await reviewer.send("Ảnh bị mờ, chụp lại giấy khai sinh", expect=2)
    assert note.text.startswith(
        f"📝 Cần bổ sung: “Người lớn biết chữ” của {hoa.number}. Lý do: Ảnh bị mờ"
    )
    assert empty.text == "Không còn ảnh nào cần duyệt trong địa bàn của bạn."  # skipped stays out
    assert (await storage.reviews.get(plain.id)).reason == "Ảnh bị mờ, chụp lại giấy khai sinh"
    assert note.text.endswith("Đã báo cho người gửi.")
    assert uploader.last.text.startswith(f"Minh chứng cần bổ sung: {hoa.number} (Nguyễn Văn Hoà)")
    assert "Lý do: Ảnh bị mờ, chụp lại giấy khai sinh" in uploader.last.text

    (again,) = await reviewer.send("/duyet")  # a new round shows the skipped photo again
    assert again.file_bytes() == picture(11)


async def test_staff_of_another_commune_see_nothing_and_forged_presses_are_refused(
    bot, api, storage, enrol, hoa, tmp_path
):
    chair = await enrol(902, Role.BRANCH_CHAIR, "00070")
    outsider = await enrol(960, Role.STAFF, "00073")
    evidence = await add_photo(api, storage, hoa, "GD.1.1", chair, 20)
    chat = api.person(960)
    (empty,) = await chat.send("/duyet")
    assert empty.text == "Không còn ảnh nào cần duyệt trong địa bàn của bạn."
    for data in (
        f"rv:ok:{evidence.id}",
        f"rv:why:{evidence.id}:0",
        f"rc:yes:{hoa.id}",
        f"rc:open:{hoa.id}",
    ):
        await chat.press_data(empty, data, expect=0)
        assert chat.last_callback_answer["text"] == REFUSED
    (refused,) = await chat.send(f"/congnhan {hoa.number}")
    assert refused.text == f"Không có đăng ký nào số {hoa.number}."  # as if it did not exist
    assert await storage.reviews.get(evidence.id) is None
    assert await storage.reviews.recognition(hoa.id) is None
    denied = await storage.audit.entries("access.denied")
    assert [(e.actor_id, e.after["action"]) for e in denied] == [
        (outsider.id, "evidence.review"),
        (outsider.id, "evidence.review"),
        (outsider.id, "recognition.decide"),
        (outsider.id, "recognition.show"),
        (outsider.id, "recognition.show"),
    ]
    assert denied[0].after["evidence_id"] == evidence.id
    assert await storage.audit.entries("evidence.reviewed") == []


async def test_recognition_shows_how_is_locked_and_only_an_admin_reopens(
    bot, api, storage, enrol, hoa, tmp_path
):
    chair = await enrol(903, Role.BRANCH_CHAIR, "00070")
    staff = await enrol(952, Role.STAFF, "00070", name="Đỗ Văn Duyệt")
    admin = await enrol(999, Role.ADMIN)
    photos = {
        code: await add_photo(api, storage, hoa, code, chair, n) for n, code in enumerate(REQUIRED)
    }
    for code, evidence in photos.items():
        if code not in ("GD.2.2", "GD.4.2"):
            decision = Decision.NEEDS_MORE if code == "GD.1.2" else Decision.ACCEPTED
            await storage.reviews.decide(evidence.id, decision, None, staff.id)
    # GD.1.2 needs more; its new photo is accepted. GD.2.2 is still unreviewed, GD.4.2 too.
    newer = await add_photo(api, storage, hoa, "GD.1.2", chair, 30)
    await storage.reviews.decide(newer.id, Decision.ACCEPTED, None, staff.id)

    chat = api.person(952)
    # Not assessed (GD.2.2 and GD.4.2 wait for review): not offered, but open by number.
    (nothing,) = await chat.send("/congnhan")
    assert nothing.text.startswith("Trong địa bàn của bạn chưa có đăng ký nào được chấp nhận")
    (early,) = await chat.send(f"/congnhan {hoa.number}")
    assert (
        "Minh chứng bắt buộc chưa được chấp nhận: Người lớn học trong năm (GD.2.2): chờ xem "
        "xét; Gia đình văn hóa (GD.4.2): chờ xem xét." in early.text.split("\n")
    )
    assert early.buttons == [["✅ Công nhận", "❌ Không công nhận"]]
    await storage.reviews.decide(photos["GD.2.2"].id, Decision.NEEDS_MORE, "Ảnh mờ", staff.id)
    await storage.reviews.decide(photos["GD.4.2"].id, Decision.ACCEPTED, None, staff.id)
    (still,) = await chat.send("/congnhan")
    assert still.text == nothing.text  # GD.2.2 needs more: not assessed

    (card,) = await chat.send(f"/congnhan {hoa.number}")
    lines = card.text.split("\n")
    assert lines[0] == f"Công nhận {hoa.number}: Nguyễn Văn Hoà, Thôn Đông"
    assert lines[2].startswith("Quy tắc: chỉ tiêu bắt buộc có minh chứng chỉ được tính là đạt")
    assert lines[3] == (
        "Minh chứng bắt buộc chưa được chấp nhận: Người lớn học trong năm (GD.2.2): cần bổ sung."
    )
    # Short names, each with its code in brackets: the row of the paper scoring table.
    assert lines[5] == "Học tập của trẻ em trong gia đình (GD.1): 30/30 điểm"
    assert "  ✅ Trẻ em đi học đúng tuổi (GD.1.1): 10/10" in lines
    assert "Học tập của người lớn trong gia đình (GD.2): 20/30 điểm" in lines
    assert (
        "  ❌ Người lớn học trong năm (GD.2.2): 0/10 (tự đánh giá 10 điểm; chưa có minh chứng "
        "được chấp nhận)"
    ) in lines
    assert "  ✅ Hội viên khuyến học (GD.3.2): 10/10" in lines  # no evidence required
    assert "Tổng: 90/100 điểm; cần ít nhất 80." in lines
    assert "Theo quy định: ✅ đạt." in lines
    assert card.buttons == [["✅ Công nhận", "❌ Không công nhận"]]

    *_, ask_number = await chat.press("✅ Công nhận", expect=2)
    assert ask_number.text.startswith("Được công nhận: " + hoa.number)
    (ask_date,) = await chat.send("125/QĐ-UBND")
    assert ask_date.text.startswith("Nhập ngày quyết định theo dạng ngày/tháng/năm")
    (again,) = await chat.send("31/02/2026")
    assert again.text.startswith("Xin lỗi, bot không đọc được ngày này.")
    assert await storage.reviews.recognition(hoa.id) is None
    (saved,) = await chat.send("15/12/2026")
    assert saved.text == f"Đã lưu và khoá: {hoa.number} — được công nhận."

    (row,) = rows(tmp_path / "hoctap.sqlite3", "SELECT * FROM recognitions")
    assert (row["registration_id"], row["result"], row["locked"]) == (hoa.id, "recognised", 1)
    assert (row["decision_number"], row["decision_date"], row["decided_by"]) == (
        "125/QĐ-UBND",
        "2026-12-15",
        staff.id,
    )
    recognition = await storage.reviews.recognition(hoa.id)
    assert recognition.evaluation["total_points"] == 90
    assert recognition.evaluation["passed"] is True
    assert recognition.evaluation["not_counted"] == ["GD.2.2"]
    assert (await storage.registrations.get(hoa.id)).status.value == "recognised"
    (entry,) = await storage.audit.entries("registration.recognised")
    assert (entry.actor_id, entry.before["status"], entry.after["status"]) == (
        staff.id,
        "registered",
        "recognised",
    )
    assert entry.after["decision_number"] == "125/QĐ-UBND"

    (decided,) = await chat.send(f"/congnhan {hoa.number}")
    assert decided.text.startswith(
        f"{hoa.number} (Nguyễn Văn Hoà) đã có quyết định: Được công nhận.\n"
        "Người quyết định: Đỗ Văn Duyệt, lúc "
    )
    assert "Quyết định số 125/QĐ-UBND, ngày 15/12/2026." in decided.text
    assert "Quyết định đã khoá; chỉ quản trị viên mới mở lại được." in decided.text
    assert decided.buttons == []
    await chat.press_data(decided, f"rc:yes:{hoa.id}", expect=1)  # a stale decision button
    assert chat.last.text.startswith(f"{hoa.number} (Nguyễn Văn Hoà) đã có quyết định")
    await chat.press_data(decided, f"rc:reopen!:{hoa.id}", expect=0)  # forged by staff
    assert chat.last_callback_answer["text"] == REFUSED
    (denied,) = await storage.audit.entries("access.denied")
    assert (denied.actor_id, denied.after["action"]) == (staff.id, "recognition.reopen")
    assert (await storage.reviews.recognition(hoa.id)).locked is True

    boss = api.person(999)
    (shown,) = await boss.send(f"/congnhan {hoa.number}")
    assert shown.buttons == [["🔓 Mở lại"]]
    (confirm,) = await boss.press("🔓 Mở lại")
    assert confirm.text.startswith(f"Mở lại {hoa.number}?")
    *_, reopened = await boss.press("Có, mở lại", expect=2)
    assert reopened.text.startswith(f"Đã mở lại: {hoa.number} trở về trạng thái đã đăng ký")
    assert await storage.reviews.recognition(hoa.id) is None
    assert (await storage.registrations.get(hoa.id)).status.value == "registered"
    (entry,) = await storage.audit.entries("recognition.reopened")
    assert (entry.actor_id, entry.before["result"], entry.after["status"]) == (
        admin.id,
        "recognised",
        "registered",
    )
    (card,) = await chat.send(f"/congnhan {hoa.number}")
    assert card.buttons == [["✅ Công nhận", "❌ Không công nhận"]]
    *_, ask_number = await chat.press("❌ Không công nhận", expect=2)
    *_, ask_date = await chat.press("Bỏ qua", expect=2)
    *_, saved = await chat.press("Bỏ qua", expect=2)
    assert saved.text == f"Đã lưu và khoá: {hoa.number} — không được công nhận."
    recognition = await storage.reviews.recognition(hoa.id)
    assert (recognition.result.value, recognition.decision_number) == ("not_recognised", None)
    assert [e.actor_id for e in await storage.audit.entries("registration.not_recognised")] == [
        staff.id
    ]


async def test_reminders_go_to_the_right_people_once_a_day_and_never_at_night(
    bot, api, storage, enrol, hamlets, registration_open
):
    year = registration_open
    monday = date(year, 3, 1) + timedelta(days=(7 - date(year, 3, 1).weekday()) % 7)
    close, lock = monday + timedelta(days=3), monday + timedelta(days=5)
    await storage.registrations.set_programme_year(
        ProgrammeYear(
            province_code="01",
            year=year,
            registration_close=close,
            evaluation_lock=lock,
            recognition=date(year, 12, 31),
        )
    )
    registrar = await enrol(880, Role.HAMLET_HEAD, "00070/Thôn Đông")
    hoa = await register_family(storage, registrar, hamlets["Thôn Đông"], "Nguyễn Văn Hoà", year)
    head_vi = await enrol(881, Role.HAMLET_HEAD, "00070/Thôn Tây")
    head_en = await enrol(882, Role.HAMLET_HEAD, "00073/Thôn Bắc", locale="en")
    await storage.registrations.start_draft(head_vi.id, hamlets["Thôn Tây"].id, year)
    await storage.registrations.start_draft(head_en.id, hamlets["Thôn Bắc"].id, year)
    chair = await enrol(883, Role.BRANCH_CHAIR, "00070", locale="en")
    await enrol(884, Role.BRANCH_CHAIR, "00073")  # no registration in Cửa Nam
    staff = await enrol(885, Role.STAFF, "00070")
    await enrol(886, Role.STAFF, "00070")  # never switched the digest on

    people = {n: api.person(n) for n in range(880, 887)}  # their chats exist
    chat = people[885]
    (off,) = await chat.send("/nhacnho")
    assert off.text.startswith("Bản tin tuần của bạn đang tắt.")
    (on,) = await chat.press("🔔 Bật")
    assert on.text.startswith("Bản tin tuần của bạn đang bật")
    assert await storage.reminders.digest_on(staff.id) is True

    def at(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=TZ)

    assert await send_reminders(bot, at(monday, 6)) == []
    assert await send_reminders(bot, at(monday - timedelta(days=1), 22)) == []
    sent = await send_reminders(bot, at(monday, 9))
    assert sent == [
        (head_vi.id, "draft_before_close"),
        (head_en.id, "draft_before_close"),
        (chair.id, "evidence_before_lock"),
        (staff.id, "weekly_digest"),
    ]
    assert api.person(881).last.text == (
        f"Nhắc việc: hạn đăng ký là ngày {close:%d/%m/%Y} (còn 3 ngày). Bản đăng ký gia đình hoặc "
        "dòng họ học tập của bạn chưa hoàn thành. Gửi /dangky để hoàn thành."
    )
    assert api.person(882).last.text.startswith(
        f"Reminder: registration closes on {close:%d/%m/%Y} (in 3 days)."
    )
    assert api.person(883).last.text == (
        f"Reminder: evaluation locks on {lock:%d/%m/%Y} (in 5 days). These registrations in your "
        f"area still miss required evidence:\n{hoa.number}: 6 indicators\n"
        "Send the photos with /minhchung."
    )
    assert api.person(885).last.text.startswith(
        f"Bản tin tuần của Phường Hoàn Kiếm, năm {year}:\nĐăng ký: 1 (0 được công nhận)\n"
        "Đủ minh chứng: 0; đã đánh giá: 0\nẢnh minh chứng: 0\nChờ duyệt: 0 (/duyet)"
    )
    for n in (880, 884, 886):
        assert people[n].messages == []

    assert await send_reminders(bot, at(monday, 15)) == []  # once a day
    assert await send_reminders(bot, at(monday, 21)) == []
    assert await send_reminders(bot, at(monday + timedelta(days=1), 6)) == []
    tuesday = await send_reminders(bot, at(monday + timedelta(days=1), 7))
    assert tuesday == [
        (head_vi.id, "draft_before_close"),
        (head_en.id, "draft_before_close"),
        (chair.id, "evidence_before_lock"),
    ]
    # After the registration close only the evidence reminder is left; after the lock, nothing.
    assert await send_reminders(bot, at(close + timedelta(days=1), 10)) == [
        (chair.id, "evidence_before_lock")
    ]
    assert await send_reminders(bot, at(lock + timedelta(days=1), 10)) == []
    assert [len(api.person(n).messages) for n in (881, 882, 883)] == [2, 2, 3]
    assert len(await storage.reminders.sent_on(monday)) == 4


async def test_the_hourly_job_is_scheduled_and_a_reviewed_photo_can_still_be_deleted(
    bot, api, storage, enrol, hoa
):
    (job,) = bot.job_queue.get_jobs_by_name("reminders")
    assert job.next_t.minute == 0 and job.next_t.second == 0
    chair = await enrol(904, Role.BRANCH_CHAIR, "00070")
    evidence = await add_photo(api, storage, hoa, "GD.1.1", chair, 40)
    await storage.reviews.decide(evidence.id, Decision.ACCEPTED, None, chair.id)
    await storage.evidence.delete(evidence.id)
    assert await storage.evidence.get(evidence.id) is None
    assert await storage.reviews.get(evidence.id) is None
