"""What people do around the newly merged features that broke or went unanswered: the real
bot, the fake Bot API over HTTP, a real SQLite file."""

import logging
import sqlite3

from conversations.family_list import rows_from_table
from storage.models import Role
from tests.test_webapp import get, init_for
from tests.webapp_data import STAFF_PROVINCE

NUDGE = "Xin chào"  # the one answer a minute, with the main actions, to a message no dialog takes


async def test_a_message_after_a_dialog_ended_is_answered(
    bot, api, storage, enrol, hamlets, registration_open
):
    """A hamlet head who says thanks after /nhapds, or sends photos or a sticker outside
    /minhchung, is answered with the main actions (once for an album), never met with silence."""
    await enrol(900, Role.HAMLET_HEAD, "00070/Thôn Đông")
    chat = api.person(900)
    await chat.send("/nhapds")
    await chat.press("📋 Nhập danh sách")
    await chat.send("Nguyễn Văn An, 4, 1", expect=2)
    (done,) = await chat.press("✅ Đăng ký 1 gia đình")
    assert "GD-" in done.text
    (answer,) = await chat.send("cảm ơn")
    assert answer.text.startswith(NUDGE)
    await enrol(901, Role.HAMLET_HEAD, "00070/Thôn Đông")
    answers = await api.person(901).send_album([b"one", b"two", b"three"], quiet=0.5)
    assert [a.text.startswith(NUDGE) for a in answers] == [True]
    await enrol(902, Role.BRANCH_CHAIR, "00070/Thôn Đông")
    (answer,) = await api.person(902).send_sticker()
    assert answer.text.startswith(NUDGE)


async def test_a_word_typed_after_the_list_is_no_family(
    bot, api, storage, enrol, hamlets, registration_open
):
    """ "xong" (done) or "ok" typed after a pasted list is shown as a line that cannot be used,
    not registered as a family called Xong."""
    await enrol(900, Role.HAMLET_HEAD, "00070/Thôn Đông")
    chat = api.person(900)
    await chat.send("/nhapds")
    await chat.press("📋 Nhập danh sách")
    await chat.send("nguyen van an, 4, 1\ntran thi binh 3 1", expect=2)
    await chat.send("xong", expect=2)
    *_, screen = await chat.send("Cảm ơn", expect=2)
    assert "Đã đọc 4 dòng." in screen.text
    assert "✅ Sẵn sàng đăng ký: 2 gia đình" in screen.text
    assert "• dòng 3: «xong»: không phải họ tên đầy đủ" in screen.text
    assert "• dòng 4: «Cảm ơn»: không phải họ tên đầy đủ" in screen.text
    assert screen.buttons[0] == ["✅ Đăng ký 2 gia đình"]


async def test_soho_with_hamlets_typed_plainly_numbered_or_a_slip(
    bot, api, storage, enrol, hamlets, registration_open
):
    """Staff type hamlet names without diacritics, hamlets are often numbered ("Thôn 5"), and
    a slip of the thumb makes a huge count: each gets an answer, never an apology."""
    commune = await storage.areas.by_code("00070")
    numbered, _new = await storage.areas.add_hamlet(commune, "Thôn 5")
    await enrol(800, Role.STAFF, "00070")
    chat = api.person(800)
    (set_plainly,) = await chat.send("/soho 00070/thon dong 120")
    assert set_plainly.text == "Thôn Đông: 120 hộ."
    assert (await chat.send("/soho 00070/Thôn 5 80"))[0].text == "Thôn 5: 80 hộ."
    (shown,) = await chat.send("/soho 00070/Thôn 5")
    assert shown.text == "Thôn 5: 80 hộ."
    (slip,) = await chat.send("/soho 00070/Thôn Đông 99999999999999999999999")
    assert slip.text.startswith("Gửi /soho kèm thôn và số hộ")
    assert await storage.households.of(hamlets["Thôn Đông"]) == 120
    assert await storage.households.of(numbered) == 80
    # The same plain typing names the hamlet for /nhapds.
    await chat.send("/nhapds")
    await chat.press("📋 Nhập danh sách")
    *_, prompt = await chat.send("00070/thon tay", expect=2)
    assert prompt.text.startswith("📋 Danh sách gia đình, Thôn Tây, năm")


async def test_dashboard_addresses_with_huge_numbers_find_nothing(web_bot, web_data, caplog):
    """An address edited by hand (a huge area, page or registration number) gets a refusal or
    the first page, never a server error."""
    init = init_for(web_bot, STAFF_PROVINCE)
    huge = "9" * 25
    assert (await get(web_bot, "f/summary", init, area=huge))[0] == 403
    status, body, _headers = await get(web_bot, "f/registrations", init, page=huge)
    assert status == 200 and "Danh sách đăng ký" in body.decode()
    assert (await get(web_bot, f"f/registration/{huge}", init))[0] == 403
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_bulleted_list_copied_from_zalo_is_read(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    """Lists copied from Zalo or Word come with bullets or "1/" numbering: the names are
    registered without them, not refused (nor registered as "- Nguyễn Văn An")."""
    await enrol(900, Role.HAMLET_HEAD, "00070/Thôn Đông")
    chat = api.person(900)
    await chat.send("/nhapds")
    await chat.press("📋 Nhập danh sách")
    pasted = ["- Nguyễn Văn An, 4, 1", "• Trần Thị Bình", "1/ Lê Văn Cường 3 1", "2- Phạm Văn Dũng"]
    *_, screen = await chat.send("\n".join([*pasted, "* Hồ Thị Em"]), expect=2)
    assert "✅ Sẵn sàng đăng ký: 5 gia đình" in screen.text
    await chat.press("✅ Đăng ký 5 gia đình")
    with sqlite3.connect(tmp_path / "hoctap.sqlite3") as conn:
        stored = conn.execute("SELECT head_name FROM registrations ORDER BY id").fetchall()
    assert [name for (name,) in stored] == [
        "Nguyễn Văn An",
        "Trần Thị Bình",
        "Lê Văn Cường",
        "Phạm Văn Dũng",
        "Hồ Thị Em",
    ]


async def test_commune_staff_name_their_hamlets_without_the_commune_code(
    bot, api, storage, enrol, hamlets, registration_open
):
    """A commune's staff write "Thôn Tây" or "thon tay" alone for a hamlet of their commune, in
    /soho, the reports and /nhapds; a hamlet of another commune stays out of reach."""
    await enrol(800, Role.STAFF, "00070")
    chat = api.person(800)
    assert (await chat.send("/soho thon tay 50"))[0].text == "Thôn Tây: 50 hộ."
    (summary,) = await chat.send("/tongket Thôn Đông")
    assert summary.text.startswith("Tổng kết năm") and "Thôn Đông" in summary.text.split("\n")[0]
    (other,) = await chat.send("/soho Thôn Bắc 5")
    assert other.text.startswith("Không tìm thấy địa bàn Thôn Bắc")
    await chat.send("/nhapds")
    await chat.press("📋 Nhập danh sách")
    *_, prompt = await chat.send("thon dong", expect=2)
    assert prompt.text.startswith("📋 Danh sách gia đình, Thôn Đông, năm")


async def test_a_table_copied_from_excel_with_its_titles_and_stt(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    """Cells copied from Excel arrive separated by tabs, often with the title row and an STT
    column: every column is read (the tabs were turned into spaces and the line refused), and
    the titles and STT are left out; the same for a spreadsheet of one's own."""
    await enrol(900, Role.HAMLET_HEAD, "00070/Thôn Đông")
    chat = api.person(900)
    await chat.send("/nhapds")
    await chat.press("📋 Nhập danh sách")
    table = [
        "STT\tHọ và tên chủ hộ\tSố nhân khẩu\tSố trẻ em\tĐịa chỉ\tSố điện thoại",
        "1\tNguyễn Văn An\t4\t1\tXóm 1\t0912 345 678",
        "2\tTrần Thị Bình\t3\t0\t\t",
    ]
    *_, screen = await chat.send("\n".join(table), expect=2)
    assert "Đã đọc 2 dòng." in screen.text
    assert "✅ Sẵn sàng đăng ký: 2 gia đình" in screen.text
    await chat.press("✅ Đăng ký 2 gia đình")
    with sqlite3.connect(tmp_path / "hoctap.sqlite3") as conn:
        stored = conn.execute(
            "SELECT head_name, members, school_age_children, address, phone FROM registrations"
            " ORDER BY id"
        ).fetchall()
    assert stored == [
        ("Nguyễn Văn An", 4, 1, "Xóm 1", "+84912345678"),
        ("Trần Thị Bình", 3, 0, None, None),
    ]
    made = rows_from_table([["STT", "Họ tên", "Số khẩu"], ["1", "Lê Văn Cường", "5"]])
    assert [row.cells for row in made] == [("Lê Văn Cường", "5")]
