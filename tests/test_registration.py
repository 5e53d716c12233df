"""/dangky end to end: the real bot, the fake Bot API over HTTP, a real SQLite file."""

import sqlite3

from storage.models import Role

FAMILY_POINTS = ["10", "8", "10", "15", "12", "10", "9", "10", "7"]
CLAN_ANSWERS = ["Đạt", "Đạt", "Chưa đạt", "Đạt", "Đạt", "Đạt", "Đạt"]


def rows(db_path, sql, *params):
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


async def answer_indicators(person, answers):
    for value in answers:
        await person.press(value, expect=2)


async def test_hamlet_head_registers_a_family_and_a_clan(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    year = registration_open
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)

    (kind_question,) = await head.send("/dangky")
    assert kind_question.text.startswith("Bước 1/16")
    *_, name_question = await head.press("Gia đình học tập", expect=2)
    assert name_question.text.startswith("Bước 2/16")
    await head.send("Nguyễn Văn Hoà")
    (retry,) = await head.send("bốn")
    assert retry.text == "Xin vui lòng nhập số nhân khẩu bằng chữ số, từ 1 đến 50."
    await head.send("4")
    *_, members_again = await head.press("⬅️ Quay lại", expect=2)  # one step back
    assert members_again.text.startswith("Bước 3/16")
    (children,) = await head.send("5")
    assert children.text.startswith("Bước 4/16")
    (retry,) = await head.send("7")  # more children than members
    assert "từ 0 đến" in retry.text
    await head.send("2")
    await head.press("Bỏ qua", expect=2)  # address
    (first_indicator,) = await head.send("0912 345 678")
    assert first_indicator.text.startswith("Bước 7/16") and "GD.1.1" in first_indicator.text
    await answer_indicators(head, FAMILY_POINTS)
    summary = head.last
    assert summary.text.startswith("Bước 16/16")
    assert "Nguyễn Văn Hoà" in summary.text and "• GD.2.2: 12" in summary.text
    assert "Tổng điểm tự chấm: 91/100 điểm" in summary.text
    *_, done = await head.press("✅ Xác nhận đăng ký", expect=2)
    number = f"GD-{year}-00001"
    assert f"Số đăng ký: {number}" in done.text

    db = tmp_path / "hoctap.sqlite3"
    (family,) = rows(db, "SELECT * FROM registrations WHERE number = ?", number)
    assert (family["head_name"], family["members"], family["school_age_children"]) == (
        "Nguyễn Văn Hoà",
        5,
        2,
    )
    assert (family["address"], family["phone"]) == (None, "+84912345678")
    assert family["hamlet_id"] == hamlets["Thôn Đông"].id
    assert family["criteria_set_id"].startswith("hkhvn-448-family@")
    answers = rows(
        db,
        "SELECT indicator_code, value FROM self_assessments WHERE registration_id = ?"
        " ORDER BY indicator_code",
        family["id"],
    )
    assert [a["value"] for a in answers] == [int(v) for v in FAMILY_POINTS]
    assert rows(db, "SELECT COUNT(*) FROM registration_drafts")[0][0] == 0

    await head.send("/dangky")
    await head.press("Dòng họ học tập", expect=2)
    await head.send("Họ Nguyễn")
    await head.send("Chi 2")
    await head.send("Nguyễn Văn Tộc")
    await head.send("35")
    await answer_indicators(head, CLAN_ANSWERS)
    assert "• DH.2.1: Chưa đạt" in head.last.text
    *_, done = await head.press("✅ Xác nhận đăng ký", expect=2)
    assert f"Số đăng ký: DH-{year}-00001" in done.text
    (clan,) = rows(db, "SELECT * FROM registrations WHERE kind = 'clan'")
    assert (clan["name"], clan["households"]) == ("Họ Nguyễn (Chi 2)", 35)
    assert (
        len(rows(db, "SELECT * FROM self_assessments WHERE registration_id = ?", clan["id"])) == 7
    )


async def test_same_name_without_diacritics_warns(
    bot, api, storage, enrol, hamlets, registration_open
):
    await enrol(801, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(801)
    await head.send("/dangky")
    await head.press("Gia đình học tập", expect=2)
    for text in ("Nguyễn Văn Hoà", "3", "1"):
        await head.send(text)
    await head.press("Bỏ qua", expect=2)
    await head.press("Bỏ qua", expect=2)
    await answer_indicators(head, ["10"] * 9)
    await head.press("✅ Xác nhận đăng ký", expect=2)

    await head.send("/dangky")
    await head.press("Gia đình học tập", expect=2)
    (warning,) = await head.send("nguyen van hoa")
    assert "Nguyễn Văn Hoà đã được đăng ký" in warning.text
    assert warning.buttons == [["Đây là gia đình khác, tiếp tục"], ["Mở đăng ký đã có"]]
    *_, members = await head.press("Đây là gia đình khác, tiếp tục", expect=2)
    assert members.text.startswith("Bước 3/16")


async def test_a_hamlet_head_cannot_register_elsewhere(
    bot, api, storage, enrol, hamlets, registration_open
):
    await enrol(802, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(802)
    (question,) = await head.send("/dangky")
    await head.press_data(question, f"reg:hamlet:{hamlets['Thôn Bắc'].id}", expect=0)
    assert (
        head.last_callback_answer["text"]
        == "Nút này không còn hiệu lực. Xin vui lòng bắt đầu lại bằng lệnh."
    )
    draft = await storage.registrations.draft_of((await storage.people.by_telegram_id(802)).id)
    assert draft.hamlet_id == hamlets["Thôn Đông"].id

    staff = await enrol(803, Role.STAFF, "00070")
    chat = api.person(803)
    (choice,) = await chat.send("/dangky")
    assert ["Thôn Đông"] in choice.buttons and ["Thôn Bắc"] not in choice.buttons
    await chat.press_data(choice, f"reg:hamlet:{hamlets['Thôn Bắc'].id}", expect=0)
    assert chat.last_callback_answer["text"] == "Bạn không có quyền truy cập nội dung này."
    (entry,) = await storage.audit.entries("access.denied")
    assert entry.actor_id == staff.id
    draft = await storage.registrations.draft_of(staff.id)
    assert draft.hamlet_id is None


async def test_edit_from_the_summary_and_cancel_after_confirmation(
    bot, api, storage, enrol, hamlets, registration_open
):
    person = await enrol(804, Role.HAMLET_HEAD, "00070/Thôn Tây")
    head = api.person(804)
    await head.send("/dangky")
    await head.press("Dòng họ học tập", expect=2)
    for text in ("Họ Lê", "Chi trưởng", "Lê Văn Cả", "12"):
        await head.send(text)
    await answer_indicators(head, ["Đạt"] * 7)
    *_, question = await head.press("✏️ Số hộ", expect=1)
    assert question.text.startswith("Bước 5/13")
    (summary,) = await head.send("14")
    assert "• Số hộ: 14" in summary.text and summary.text.startswith("Bước 13/13")

    (confirm,) = await head.send("/huy")
    assert confirm.buttons == [["Có, hủy", "Không, làm tiếp"]]
    *_, again = await head.press("Không, làm tiếp", expect=2)
    assert again.text.startswith("Bước 13/13")
    assert (await storage.registrations.draft_of(person.id)).answers["households"] == 14
    await head.send("/huy")
    *_, done = await head.press("Có, hủy", expect=2)
    assert done.text == "Đã hủy. Chưa có đăng ký nào được lưu."
    assert await storage.registrations.draft_of(person.id) is None
    count = await storage.db.conn.execute_fetchall("SELECT COUNT(*) FROM registrations")
    assert count[0][0] == 0
