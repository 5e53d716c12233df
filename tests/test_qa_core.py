"""What people do across registration, evidence, review and reports that broke: the real bot,
the fake Bot API over HTTP, a real SQLite file. Today is in December, so a new registration
goes to the next programme year (bot/years.py)."""

import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from storage.models import Role
from tests.test_evidence import picture

DECEMBER = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 10:00 on 02/12/2026 in Việt Nam
NEXT = 2027


@pytest.fixture
def december(bot):
    """The bot's clock on 2 December 2026: new registrations go to 2027."""
    bot.clock = lambda: DECEMBER
    return bot


async def register_by_taps(chat, name: str):
    """A hamlet head's /dangky by taps, as people do it; the confirmation screen."""
    await chat.send("/dangky")
    await chat.press("Gia đình học tập")
    await chat.send(name, expect=2)
    await chat.press("4")
    await chat.press("1")
    (done,) = await chat.press("✅ Xác nhận đăng ký")
    return done


async def test_staff_find_a_next_year_registration_by_name(december, api, storage, enrol, hamlets):
    """In December a family registers for next year; staff find it with /tinhtrang by its
    name typed without diacritics, as they do by its number (it said there was none)."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(950, Role.STAFF, "00070")
    done = await register_by_taps(api.person(800), "Nguyễn Văn Hoà")
    year = NEXT
    assert f"Số đăng ký: GD-{year}-00001" in done.text
    (status,) = await api.person(950).send("/tinhtrang nguyen van hoa")
    assert status.text.startswith(f"GD-{year}-00001 · gia đình học tập")
    (none,) = await api.person(950).send("/tinhtrang tran thi")
    assert none.text == (
        f"Không có bản đăng ký nào năm {year}, {year - 1} trong địa bàn của bạn khớp với tran thi."
    )


async def test_a_hamlet_head_sees_the_photos_by_indicator_name(
    december, api, storage, enrol, hamlets
):
    """A hamlet head who sent a photo looks at it with /xemminhchung and deletes it: captions,
    list and questions name the indicator in words, never by its code (issue 15)."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)
    await register_by_taps(head, "Nguyễn Văn Hoà")
    number = f"GD-{NEXT}-00001"
    await head.send(f"/minhchung {number}")
    await head.press("⬜ Trẻ em đi học đúng tuổi *")
    await head.send_photo(picture(5))
    await head.press("✅ Xong")
    photo, listing = await head.send(f"/xemminhchung {number}", expect=2)
    assert photo.text == "#1 · Trẻ em đi học đúng tuổi · người gửi: Người Số 800"
    assert listing.text.split("\n")[1].startswith("#1 Trẻ em đi học đúng tuổi · Người Số 800 · ")
    (question,) = await head.press("🗑 #1")
    assert question.text.startswith("Xoá ảnh này của Trẻ em đi học đúng tuổi?")
    *_, done = await head.press("Có, xoá", expect=2)
    assert done.text == f"Đã xoá một ảnh của Trẻ em đi học đúng tuổi thuộc {number}."
    assert "GD." not in photo.text + listing.text + question.text + done.text.replace(number, "")


async def test_an_admin_sets_next_years_dates_in_december(december, api, storage, enrol, hamlets):
    """In December registrations go to next year, whose closing date an administrator must be
    able to set: /namhoc showed only this year's dates and ignored "/namhoc 01 2027"."""
    await enrol(700, Role.ADMIN)
    admin = api.person(700)
    (this_year,) = await admin.send("/namhoc 01")
    assert this_year.text.startswith("Năm 2026 tại Thành phố Hà Nội (01):")
    assert this_year.buttons[-1] == [f"📅 Năm {NEXT}"]
    (next_year,) = await admin.press(f"📅 Năm {NEXT}")
    assert next_year.text.startswith(f"Năm {NEXT} tại Thành phố Hà Nội (01):\n")
    assert f"Hạn chót đăng ký: 31/01/{NEXT}" in next_year.text
    await admin.press("Đổi: hạn chót đăng ký")
    saved, dates = await admin.send(f"28/02/{NEXT}", expect=2)
    assert saved.text == "Đã lưu." and f"Hạn chót đăng ký: 28/02/{NEXT}" in dates.text
    assert (await storage.registrations.programme_year("01", NEXT)).registration_close == date(
        NEXT, 2, 28
    )
    (typed,) = await admin.send(f"/namhoc 01 {NEXT}")
    assert typed.text == dates.text
    (far,) = await admin.send("/namhoc 01 2030")
    assert far.text == f"Có thể xem các mốc của năm 2026 hoặc {NEXT}, ví dụ /namhoc 01 {NEXT}."


async def test_a_family_not_recognised_is_not_called_not_yet_recognised(
    december, api, storage, enrol, hamlets, registration_open
):
    """A decision "not recognised" was shown as "chưa được công nhận" (not yet recognised) in
    /danhsach, the hamlet head's answers and the export, but as "không được công nhận" in
    /tongket: a figure sent upward must read the same everywhere."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(950, Role.STAFF, "00070")
    head, staff = api.person(800), api.person(950)
    await register_by_taps(head, "Nguyễn Văn Hoà")
    number = f"GD-{registration_open}-00001"  # this year's, open all year
    await staff.send(f"/congnhan {number}")
    await staff.press("❌ Không công nhận", expect=2)
    await staff.press("Bỏ qua", expect=2)
    *_, saved = await staff.press("Bỏ qua", expect=2)
    assert saved.text == f"Đã lưu và khoá: {number} — không được công nhận."
    (listing,) = await head.send("/danhsach")
    assert listing.buttons[2] == ["được công nhận", "không được công nhận"]
    assert listing.buttons[3] == [f"{number} · Nguyễn Văn Hoà · không được công nhận"]
    (refused,) = await head.send(f"/danhgia {number}")
    assert refused.text.startswith(f"{number} đang ở trạng thái không được công nhận;")
    (sent,) = await staff.send("/xuat")
    book = load_workbook(io.BytesIO(sent.file_bytes()))
    (row,) = [r for r in book["Danh sách đăng ký"].iter_rows(values_only=True) if r[1] == number]
    assert row[15] == "không được công nhận"
    assert "chưa được công nhận" not in listing.text + refused.text


async def test_a_score_typed_on_the_self_assessment_screen_counts(
    december, api, storage, enrol, hamlets
):
    """ "Tự chấm bao nhiêu điểm, từ 0 đến 10?": people type 8. It got the answer outside a
    dialog, then silence, and nothing was saved; now it counts as the button, a number out of
    range gets a second chance, and the earlier screen keeps no buttons to press by mistake."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)
    await register_by_taps(head, "Nguyễn Văn Hoà")
    (first,) = await head.press("📝 Tự đánh giá ngay")
    assert "Chỉ tiêu 1/10: Trẻ em đi học đúng tuổi *" in first.text
    *_, second = await head.send("8", expect=2)
    assert second.message_id != first.message_id
    assert head.messages[-2].buttons == []  # the first screen, answered by typing
    assert "Chỉ tiêu 2/10: Kết quả học tập, hạnh kiểm *" in second.text
    *_, retry = await head.send("11", expect=2)
    assert retry.text.startswith("Xin vui lòng bấm một số, hoặc nhập một số từ 0 đến 10.\n\n")
    assert "Chỉ tiêu 2/10" in retry.text
    (third,) = await head.press("9")
    assert "Chỉ tiêu 3/10" in third.text
    (summary,) = await head.press("📋 Xem tất cả")
    assert "• Trẻ em đi học đúng tuổi: 8/10 điểm" in summary.text
    assert "• Kết quả học tập, hạnh kiểm: 9/10 điểm" in summary.text
    (registration,) = await storage.registrations.search(None, NEXT, "hoa")
    assert await storage.registrations.assessment(registration.id) == {"GD.1.1": 8, "GD.1.2": 9}
    (nudge,) = await head.send("8")  # no indicator screen now: the answer outside a dialog
    assert nudge.text.startswith("Xin chào")


async def test_huy_stops_the_self_assessment(december, api, storage, enrol, hamlets):
    """/huy on a self-assessment screen said "nothing to cancel" and left the screen's buttons
    (and, since typed scores count, a typed number would still have been saved)."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)
    await register_by_taps(head, "Nguyễn Văn Hoà")
    await head.press("📝 Tự đánh giá ngay")
    (answer,) = await head.press("7")
    *_, stopped = await head.send("/huy", expect=2)
    assert stopped.text.startswith("Đã dừng tự đánh giá. Các câu trả lời đã lưu vẫn được giữ")
    assert head.api.bot_message(800, answer.message_id).buttons == []
    (nudge,) = await head.send("8")
    assert nudge.text.startswith("Xin chào")
    (registration,) = await storage.registrations.search(None, NEXT, "hoa")
    assert await storage.registrations.assessment(registration.id) == {"GD.1.1": 7}
    (nothing,) = await head.send("/huy")
    assert nothing.text == "Không có việc gì đang làm để hủy."


async def test_staff_sum_up_next_year_as_thieu_and_xuat_do(december, api, storage, enrol, hamlets):
    """In December /thieu lists next year's registrations and /xuat 2027 exports them, but
    /tongket knew only this year ("/tongket 2027" was taken for an area): its figures for next
    year now agree with /thieu and the export, also through a child area's button."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(950, Role.STAFF, "01")
    await register_by_taps(api.person(800), "Nguyễn Văn Hoà")
    await register_by_taps(api.person(800), "Trần Thị Bình")
    staff = api.person(950)
    (missing,) = await staff.send("/thieu 00070")
    assert "trên tổng số 2:" in missing.text.split("\n")[0]
    *_, summary = await staff.send(f"/tongket 00070 {NEXT}")
    assert summary.text.startswith(f"Tổng kết năm {NEXT}: Phường Hoàn Kiếm")
    assert (
        "Thôn Đông: 2 đăng ký · 0 đủ minh chứng (0%) · 0 đã đánh giá (0%) · "
        "0 được công nhận (0%) · 0 không được công nhận (0%)"
    ) in summary.text
    *_, province = await staff.send(f"/tongket {NEXT}", expect=2)
    assert province.buttons == [["Phường Hoàn Kiếm"]]
    *_, commune = await staff.press("Phường Hoàn Kiếm")
    assert commune.text.startswith(f"Tổng kết năm {NEXT}: Phường Hoàn Kiếm")
    assert "Thôn Đông: 2 đăng ký" in commune.text
    (sent,) = await staff.send(f"/xuat 00070 {NEXT}")
    book = load_workbook(io.BytesIO(sent.file_bytes()))
    rows = [list(r) for r in book["Tổng hợp"].iter_rows(values_only=True)]
    east = next(r for r in rows if r[1] == "Thôn Đông" and r[3] == "Gia đình học tập")
    assert east[4:9] == [2, 0, 0, 0, 0]
    (this_year,) = await staff.send("/tongket 00070")
    assert this_year.text.startswith("Tổng kết năm 2026: Phường Hoàn Kiếm")


async def test_next_years_registration_is_not_decided_in_december(
    december, api, storage, enrol, hamlets
):
    """A family registered in December for next year could be recognised or refused at once
    with /congnhan, before its year, its self-assessment or any evidence (bot/years.py: next
    year's registrations take evidence and self-assessments; the current year's are decided)."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(950, Role.STAFF, "00070")
    await register_by_taps(api.person(800), "Nguyễn Văn Hoà")
    number = f"GD-{NEXT}-00001"
    staff = api.person(950)
    (refused,) = await staff.send(f"/congnhan {number}")
    assert refused.text == (
        f"{number} được đăng ký cho năm {NEXT}: việc công nhận làm trong năm đó, "
        "sau khi minh chứng đã được duyệt."
    )
    assert refused.buttons == []
    (registration,) = await storage.registrations.search(None, NEXT, "hoa")
    await staff.press_data(refused, f"rc:no:{registration.id}")  # a forged or old button
    assert staff.messages[-1].text == refused.text
    assert await storage.reviews.recognition(registration.id) is None
