"""A next step everywhere: a closed registration says when it opens and who can open it, the
next programme year opens from 1 December, and a message outside any dialog gets buttons."""

from datetime import UTC, date, datetime

from storage.models import Role
from storage.registrations import ProgrammeYear

MARCH = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)


async def test_closed_registration_says_when_and_who_then_next_year_opens(
    bot, api, storage, enrol, hamlets
):
    await storage.registrations.set_programme_year(
        ProgrammeYear(
            province_code="01",
            year=2026,
            registration_close=date(2026, 1, 31),
            evaluation_lock=date(2026, 11, 30),
            recognition=date(2026, 12, 31),
        )
    )
    await enrol(830, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(830)
    bot.clock = lambda: MARCH
    (closed,) = await head.send("/dangky")
    assert closed.text == (
        "Việc đăng ký năm 2026 đã kết thúc ngày 31/01/2026. Đăng ký năm 2027 mở từ ngày "
        "01/12/2026.\nMuốn mở lại ngay, quản trị viên đổi ngày kết thúc đăng ký bằng lệnh /namhoc."
    )

    bot.clock = lambda: DECEMBER
    (screen,) = await head.send("/dangky")
    assert "Thôn Đông, năm 2027" in screen.text
    await head.press("Gia đình học tập")
    await head.send("Trần Văn Bình", expect=2)
    await head.press("4")
    await head.press("1")
    (done,) = await head.press("✅ Xác nhận đăng ký")
    assert "Số đăng ký: GD-2027-00001" in done.text


async def test_free_text_and_stickers_outside_a_dialog_get_one_answer_a_minute(
    bot, api, storage, enrol, hamlets
):
    bot.clock = lambda: MARCH
    await enrol(831, Role.HAMLET_HEAD, "00070/Thôn Đông", name="Hà Văn Thôn")
    head = api.person(831)
    (answer,) = await head.send("xin chào")
    assert answer.text.startswith("Xin chào Hà Văn Thôn!")
    assert answer.buttons == [
        ["📝 Đăng ký gia đình, dòng họ"],
        ["📋 Danh sách đăng ký"],
        ["✍️ Tự đánh giá"],
        ["📷 Gửi ảnh minh chứng"],
    ]
    await head.send_sticker(expect=0)  # within the minute: no second answer
    await head.send("alo", expect=0)
    (listing,) = await head.press("📋 Danh sách đăng ký")
    assert listing.message_id == answer.message_id
    assert listing.text.startswith("Chưa có bản đăng ký nào tại Thôn Đông cho năm 2026.")

    await enrol(832, Role.BRANCH_CHAIR, "00070")
    chair = api.person(832)
    (answer,) = await chair.send_sticker()
    assert ["📝 Đăng ký gia đình, dòng họ"] not in answer.buttons
