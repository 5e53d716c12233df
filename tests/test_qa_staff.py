"""What supervising staff and administrators do that broke: the real bot, the fake Bot API over
HTTP, a real SQLite file."""

from datetime import UTC, date, datetime

import pytest

from storage.models import Role
from tests.test_evidence import picture
from tests.test_qa_core import register_by_taps

MARCH = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 on 10/03/2026 in Việt Nam


@pytest.fixture
def march(bot):
    """The bot's clock on 10 March 2026."""
    bot.clock = lambda: MARCH
    return bot


async def test_commune_staff_invite_a_hamlet_head_by_the_hamlets_name(
    march, api, storage, enrol, hamlets
):
    """Commune staff type "Thôn Tây" or "thon tay" for a hamlet of their commune, as /soho and
    the reports take it: /moi answered "I do not know that area"."""
    await enrol(950, Role.STAFF, "00070")
    staff = api.person(950)
    await staff.send("/moi")
    await staff.press("trưởng thôn / tổ trưởng dân phố", expect=2)
    (made,) = await staff.send("thon tay")
    assert made.text.startswith(
        "Đã tạo mã mời cho trưởng thôn / tổ trưởng dân phố tại Thôn Tây, Phường Hoàn Kiếm"
    )
    (typed,) = await staff.send("/moi hamlet_head Thôn Đông")
    assert typed.text.startswith("Đã tạo mã mời cho trưởng thôn / tổ trưởng dân phố tại Thôn Đông")
    (other,) = await staff.send("/moi hamlet_head Thôn Bắc")
    assert other.text == "Không tìm thấy địa bàn này. Xin vui lòng kiểm tra lại mã."


async def test_an_admin_inviting_staff_is_not_told_to_pick_from_no_buttons(
    march, api, storage, enrol, hamlets
):
    """An administrator (no area of their own, so no area buttons) was told "Chọn bên dưới"
    (pick one below) with nothing below; in English too."""
    await enrol(700, Role.ADMIN)
    admin = api.person(700)
    await admin.send("/moi")
    *_, question = await admin.press("cán bộ phụ trách", expect=2)
    assert question.buttons == []
    assert question.text == (
        "Bước 2/2\ncán bộ phụ trách sẽ phụ trách địa bàn nào? Xin vui lòng nhập mã: 01 (tỉnh), "
        "00070 (xã, phường) hoặc 00070/Thôn Đông (thôn, tổ dân phố)."
    )
    (made,) = await admin.send("00070")
    assert made.text.startswith("Đã tạo mã mời cho cán bộ phụ trách tại Phường Hoàn Kiếm")
    await enrol(701, Role.ADMIN, locale="en")
    english = api.person(701)
    await english.send("/moi")
    *_, question = await english.press("supervising staff", expect=2)
    assert question.text == (
        "Step 2/2\nWhich area will the supervising staff look after? Please type its code: "
        "01 (a province), 00070 (a commune) or 00070/Thôn Đông (a hamlet)."
    )


async def test_staff_type_a_decision_date_of_a_later_year_by_mistake(
    march, api, storage, enrol, hamlets, registration_open
):
    """A slip of the thumb (15/12/2030 for 15/12/2026) was stored as the decision's date and
    locked; the decision of a registration of 2026 is dated in 2026 or 2027: the date is asked
    again, nothing is saved."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(950, Role.STAFF, "00070")
    await register_by_taps(api.person(800), "Nguyễn Văn Hoà")
    number = f"GD-{registration_open}-00001"
    staff = api.person(950)
    await staff.send(f"/congnhan {number}")
    await staff.press("✅ Công nhận", expect=2)
    await staff.send("125/QĐ-UBND")
    (again,) = await staff.send("15/12/2030")
    assert again.text == (
        "Quyết định cho bản đăng ký năm 2026 phải có ngày trong năm 2026 hoặc 2027. Vui lòng "
        "nhập lại theo dạng ngày/tháng/năm, hoặc bấm Bỏ qua."
    )
    (registration,) = await storage.registrations.search(None, registration_open, "hoa")
    assert await storage.reviews.recognition(registration.id) is None
    (saved,) = await staff.send("09/03/2026")
    assert saved.text == f"Đã lưu và khoá: {number} — được công nhận."
    recognition = await storage.reviews.recognition(registration.id)
    assert recognition.decision_date == date(2026, 3, 9)
    assert recognition.decision_number == "125/QĐ-UBND"


async def test_staff_open_a_recognition_by_a_name_typed_without_diacritics(
    march, api, storage, enrol, hamlets, registration_open
):
    """/congnhan nguyen van hoa answered "Không có đăng ký nào số NGUYEN" (no registration
    numbered NGUYEN): a name is taken as /tinhtrang takes it; several give buttons, one from
    another commune stays unknown."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(801, Role.HAMLET_HEAD, "00073/Thôn Bắc")
    await enrol(950, Role.STAFF, "00070")
    await register_by_taps(api.person(800), "Nguyễn Văn Hoà")
    await register_by_taps(api.person(800), "Nguyễn Thị Lan")
    await register_by_taps(api.person(801), "Phạm Văn Dũng")
    year = registration_open
    staff = api.person(950)
    (card,) = await staff.send("/congnhan nguyen van hoa")
    assert card.text.startswith(f"Công nhận GD-{year}-00001: Nguyễn Văn Hoà, Thôn Đông")
    assert card.buttons == [["✅ Công nhận", "❌ Không công nhận"]]
    (which,) = await staff.send("/congnhan nguyen")
    assert which.text == "Bản đăng ký nào?"
    assert which.buttons == [
        [f"GD-{year}-00001 · Nguyễn Văn Hoà"],
        [f"GD-{year}-00002 · Nguyễn Thị Lan"],
    ]
    (second,) = await staff.press(f"GD-{year}-00002 · Nguyễn Thị Lan")
    assert second.text.startswith(f"Công nhận GD-{year}-00002: Nguyễn Thị Lan, Thôn Đông")
    (other,) = await staff.send("/congnhan pham van dung")
    assert other.text == (
        f"Không có bản đăng ký nào năm {year} trong địa bàn của bạn khớp với pham van dung."
    )


async def test_an_admin_reads_the_countrys_summary_with_each_heading_above_its_rows(
    march, api, storage, enrol, hamlets
):
    """The country's /tongket comes in several messages; in English the first ended with the
    heading "Learning clan" and the clans' rows began the second, so they read as families'."""
    await enrol(700, Role.ADMIN, locale="en")
    await enrol(701, Role.ADMIN)
    for chat, heading in ((api.person(700), "Learning clan"), (api.person(701), "Dòng họ học tập")):
        pieces = [p.text for p in await chat.send("/tongket", expect=2, quiet=0.5)]
        assert heading in "\n".join(pieces).split("\n")
        assert [p for p in pieces if p.rstrip("\n").endswith("\n" + heading)] == []
        (clans,) = [p for p in pieces if heading in p.split("\n")]
        assert clans.startswith(heading + "\n") or "\n\n" + heading + "\n" in clans


async def test_a_reviewer_who_sends_a_photo_instead_of_typing_is_asked_again(
    march, api, storage, enrol, hamlets, registration_open
):
    """A photo or sticker sent where /duyet asks for the reason, or /congnhan for the decision's
    number or date, was answered "Xin chào … Bạn muốn làm gì?" as if no question were open;
    the question is now asked again, and the answer typed next still counts."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(950, Role.STAFF, "00070")
    head, staff = api.person(800), api.person(950)
    await register_by_taps(head, "Nguyễn Văn Hoà")
    number = f"GD-{registration_open}-00001"
    await head.send(f"/minhchung {number}")
    await head.press("⬜ Trẻ em đi học đúng tuổi *")
    await head.send_photo(picture(5))
    await head.press("✅ Xong")
    await staff.send("/duyet")
    await staff.press("📝 Cần bổ sung", expect=2)
    (again,) = await staff.send_photo(picture(6))
    assert again.text == "Xin vui lòng nhập lý do bằng chữ, hoặc chọn một lý do ở trên."
    (sticker,) = await staff.send_sticker()
    assert sticker.text == again.text
    done, _empty = await staff.send("Ảnh mờ", expect=2)
    assert done.text.startswith("📝 Cần bổ sung: “Trẻ em đi học đúng tuổi” của")
    await staff.send(f"/congnhan {number}")
    await staff.press("✅ Công nhận", expect=2)
    (number_again,) = await staff.send_photo(picture(7))
    assert number_again.text == "Vui lòng nhập số quyết định, tối đa 50 ký tự, hoặc bấm Bỏ qua."
    await staff.send("125/QĐ-UBND")
    (date_again,) = await staff.send_sticker()
    assert date_again.text.startswith("Xin lỗi, bot không đọc được ngày này.")
    (saved,) = await staff.send("09/03/2026")
    assert saved.text == f"Đã lưu và khoá: {number} — được công nhận."


async def test_commune_staff_register_a_family_in_a_hamlet_typed_by_its_name(
    march, api, storage, enrol, hamlets, registration_open
):
    """Commune staff registering a family in /dangky type the hamlet as "thon tay" (a commune
    has more hamlets than buttons), as /nhapds takes it: "I do not know that hamlet"."""
    await enrol(950, Role.STAFF, "00070")
    staff = api.person(950)
    (question,) = await staff.send("/dangky")
    assert question.text.startswith("Đăng ký cho thôn, tổ dân phố nào?")
    answers = await staff.send("thon tay", expect=2, quiet=0.3)
    assert any("Thôn Tây" in a.text for a in answers)
    assert answers[-1].buttons[0] == ["Gia đình học tập"]
    await staff.send("/huy", expect=2, quiet=0.3)
    await staff.send("/dangky", quiet=0.3)
    (refused,) = await staff.send("Thôn Bắc")
    assert refused.text.startswith("Không tìm thấy thôn, tổ dân phố này.")


async def test_an_admin_who_sends_a_photo_where_a_code_or_date_is_asked_is_asked_again(
    march, api, storage, enrol, hamlets
):
    """/namhoc's province and new date, and /moi's area: a photo sent there got the greeting
    "Bạn muốn làm gì?" while the question stayed open; it is now asked again."""
    await enrol(700, Role.ADMIN)
    admin = api.person(700)
    await admin.send("/namhoc")
    (province,) = await admin.send_photo(picture(5))
    assert (
        province.text
        == "Không tìm thấy mã tỉnh này. Xin vui lòng nhập mã gồm hai chữ số, ví dụ 01."
    )
    await admin.send("01")
    await admin.press("Đổi: hạn chót đăng ký")
    (day,) = await admin.send_sticker()
    assert day.text.startswith("Xin lỗi, tôi không đọc được ngày này.")
    saved, _dates = await admin.send("28/02/2026", expect=2)
    assert saved.text == "Đã lưu."
    await admin.send("/moi")
    await admin.press("cán bộ phụ trách", expect=2)
    (area,) = await admin.send_photo(picture(6))
    assert area.text == "Không tìm thấy địa bàn này. Xin vui lòng kiểm tra lại mã."
    (made,) = await admin.send("00070")
    assert made.text.startswith("Đã tạo mã mời cho cán bộ phụ trách tại Phường Hoàn Kiếm")


async def test_staff_read_every_criterion_whole_on_the_recognition_card(
    march, api, storage, enrol, hamlets, registration_open
):
    """The /congnhan card cut criterion titles at 50 characters inside a word: "Tác động, hiệu
    quả học tập của các thành viên tro… (GD.4)"; the shipped titles are read whole."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(950, Role.STAFF, "00070")
    await register_by_taps(api.person(800), "Nguyễn Văn Hoà")
    (card,) = await api.person(950).send(f"/congnhan GD-{registration_open}-00001")
    assert "\nTác động, hiệu quả học tập của các thành viên trong gia đình (GD.4): 0/20 điểm\n" in (
        card.text
    )
    assert "…" not in card.text.split("\n\n", 1)[1]
