"""/dangky end to end: the real bot, the fake Bot API over HTTP, a real SQLite file."""

import sqlite3

from storage.criteria import ModelKind
from storage.models import Role


def rows(db_path, sql, *params):
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def sends_and_edits(api, chat_id: int, since: int = 0) -> int:
    """Bot API calls that sent or edited a message in the chat (answerCallbackQuery not)."""
    return sum(1 for a in api.actions[since:] if a.chat_id == chat_id and a.counts)


async def test_a_family_registered_by_taps_stays_on_one_screen(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    year = registration_open
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)
    mark = len(api.actions)

    (screen,) = await head.send("/dangky")
    assert screen.text.startswith("Bước 1/5") and "Thôn Đông" in screen.text
    assert screen.button_data["📋 Nhập danh sách"] == "bulk:list"
    assert screen.button_data["🔁 Đăng ký lại từ năm trước"] == "bulk:carry"
    (name_screen,) = await head.press("Gia đình học tập")
    assert name_screen.message_id == screen.message_id  # edited in place
    assert name_screen.text.startswith("Bước 2/5")
    record, members = await head.send("Nguyễn Văn Hoà", expect=2)
    assert record.message_id == screen.message_id
    assert record.text == "✔️ Chủ hộ: Nguyễn Văn Hoà" and record.buttons == []
    assert members.text.startswith("Bước 3/5") and members.buttons[0][0] == "1"
    (children,) = await head.press("5")
    assert children.message_id == members.message_id and children.text.startswith("Bước 4/5")
    assert [label for row in children.buttons[:-1] for label in row] == [
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
    ]  # no more children than members
    (summary,) = await head.press("2")
    assert summary.message_id == members.message_id and summary.text.startswith("Bước 5/5")
    assert "• Số nhân khẩu: 5" in summary.text and "• Địa chỉ: —" in summary.text
    (done,) = await head.press("✅ Xác nhận đăng ký")
    number = f"GD-{year}-00001"
    assert done.message_id == members.message_id and f"Số đăng ký: {number}" in done.text

    assert len(head.messages) == 2  # two screens in the chat: the name, then the rest
    assert sends_and_edits(api, 800, mark) == 7  # the target: at most 8

    db = tmp_path / "hoctap.sqlite3"
    (family,) = rows(db, "SELECT * FROM registrations WHERE number = ?", number)
    assert (family["head_name"], family["members"], family["school_age_children"]) == (
        "Nguyễn Văn Hoà",
        5,
        2,
    )
    assert (family["address"], family["phone"]) == (None, None)
    assert family["hamlet_id"] == hamlets["Thôn Đông"].id
    assert family["criteria_set_id"].startswith("hkhvn-448-family@")
    assert rows(db, "SELECT COUNT(*) FROM self_assessments")[0][0] == 0
    assert rows(db, "SELECT COUNT(*) FROM registration_drafts")[0][0] == 0


async def test_typed_answers_retries_and_a_clan(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    year = registration_open
    await enrol(805, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(805)
    await head.send("/dangky")
    await head.press("Gia đình học tập")
    _old, retry = await head.send("quang", expect=2)  # one word is not a full name
    assert retry.text.startswith("Xin lỗi, đó không giống họ và tên")
    assert "Bước 2/5" in retry.text
    await head.send("Trần Thị Lan", expect=2)
    _old, retry = await head.send("bốn", expect=2)
    assert retry.text.startswith("Xin vui lòng nhập số nhân khẩu bằng chữ số, từ 1 đến 50.")
    _record, children = await head.send("12", expect=2)  # more than the buttons offer
    assert children.text.startswith("Bước 4/5")
    _old, retry = await head.send("13", expect=2)  # more children than members
    assert "từ 0 đến" in retry.text
    _record, summary = await head.send("3", expect=2)
    assert "• Số nhân khẩu: 12" in summary.text
    await head.press("✏️ Số nhân khẩu")
    (refused,) = await head.press("2")  # fewer members than the children already given
    assert refused.text.startswith("Số này nhỏ hơn trẻ em trong độ tuổi đi học đã khai (3).")
    _record, refused = await head.send("1", expect=2)
    assert refused.text.startswith("Số này nhỏ hơn")
    (summary,) = await head.press("⬅️ Quay lại")
    assert "• Số nhân khẩu: 12" in summary.text
    (question,) = await head.press("✏️ Điện thoại")
    assert question.message_id == summary.message_id  # the edit path edits its screen
    record, summary = await head.send("0912 345 678", expect=2)
    assert record.text == "✔️ Điện thoại: +84912345678"
    assert "• Điện thoại: +84912345678" in summary.text
    await head.press("✅ Xác nhận đăng ký")
    (family,) = rows(tmp_path / "hoctap.sqlite3", "SELECT * FROM registrations")
    assert (family["members"], family["phone"]) == (12, "+84912345678")

    *_, screen = await head.press("➕ Đăng ký tiếp", expect=2)
    assert screen.text.startswith("Bước 1/5")
    await head.press("Dòng họ học tập")
    for text in ("Họ Nguyễn", "Nguyễn Văn Tộc", "35"):
        await head.send(text, expect=2)
    await head.press("✏️ Chi")
    await head.send("Chi 2", expect=2)
    (done,) = await head.press("✅ Xác nhận đăng ký")
    assert f"Số đăng ký: DH-{year}-00001" in done.text
    (clan,) = rows(tmp_path / "hoctap.sqlite3", "SELECT * FROM registrations WHERE kind = 'clan'")
    assert (clan["name"], clan["households"]) == ("Họ Nguyễn (Chi 2)", 35)


async def register_family(head, name: str) -> None:
    await head.send("/dangky")
    await head.press("Gia đình học tập")
    await head.send(name, expect=2)
    await head.press("3")
    await head.press("1")
    await head.press("✅ Xác nhận đăng ký")


async def test_same_name_without_diacritics_warns(
    bot, api, storage, enrol, hamlets, registration_open
):
    await enrol(801, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(801)
    await register_family(head, "Nguyễn Văn Hoà")

    await head.send("/dangky")
    await head.press("Gia đình học tập")
    _record, warning = await head.send("nguyen van hoa", expect=2)
    assert "Nguyễn Văn Hoà đã được đăng ký" in warning.text
    assert warning.buttons == [["Đây là gia đình khác, tiếp tục"], ["Mở đăng ký đã có"]]
    (members,) = await head.press("Đây là gia đình khác, tiếp tục")
    assert members.text.startswith("Bước 3/5")


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
    assert choice.button_data["📋 Nhập danh sách"] == "bulk:list"  # the list import contract
    await chat.press_data(choice, f"reg:hamlet:{hamlets['Thôn Bắc'].id}", expect=0)
    assert chat.last_callback_answer["text"] == "Bạn không có quyền truy cập nội dung này."
    (entry,) = await storage.audit.entries("access.denied")
    assert entry.actor_id == staff.id
    draft = await storage.registrations.draft_of(staff.id)
    assert draft.hamlet_id is None
    (kind,) = await chat.press("Thôn Tây")
    assert kind.message_id == choice.message_id and "Thôn Tây" in kind.text


async def test_edit_from_the_summary_and_cancel_after_confirmation(
    bot, api, storage, enrol, hamlets, registration_open
):
    person = await enrol(804, Role.HAMLET_HEAD, "00070/Thôn Tây")
    head = api.person(804)
    await head.send("/dangky")
    await head.press("Dòng họ học tập")
    for text in ("Họ Lê", "Lê Văn Cả", "12"):
        await head.send(text, expect=2)
    (question,) = await head.press("✏️ Số hộ")
    assert question.text.startswith("Dòng họ có bao nhiêu hộ")
    _record, summary = await head.send("14", expect=2)
    assert "• Số hộ: 14" in summary.text and summary.text.startswith("Bước 5/5")

    confirm, *_ = await head.send("/huy", expect=2)
    assert confirm.buttons == []  # the summary's buttons are taken away
    assert head.last.buttons == [["Có, hủy", "Không, làm tiếp"]]
    (again,) = await head.press("Không, làm tiếp")
    assert again.text.startswith("Bước 5/5")
    assert (await storage.registrations.draft_of(person.id)).answers["households"] == 14
    await head.send("/huy", expect=2)
    (done,) = await head.press("Có, hủy")
    assert done.text == "Đã hủy. Chưa có đăng ký nào được lưu."
    assert await storage.registrations.draft_of(person.id) is None
    count = await storage.db.conn.execute_fetchall("SELECT COUNT(*) FROM registrations")
    assert count[0][0] == 0


async def test_a_draft_of_the_old_dialog_resumes_at_its_summary(
    bot, api, storage, enrol, hamlets, registration_open
):
    """A draft saved before the self-assessment left /dangky (step 12 of 16) is not lost."""
    person = await enrol(806, Role.HAMLET_HEAD, "00070/Thôn Đông")
    hamlet = hamlets["Thôn Đông"]
    draft = await storage.registrations.start_draft(person.id, hamlet.id, registration_open)
    criteria = await storage.criteria.in_force("01", registration_open, ModelKind.FAMILY)
    answers = {
        "kind": "family",
        "criteria_set_id": criteria.set_id,
        "head_name": "Phan Văn Cũ",
        "members": 4,
        "school_age_children": 1,
        "assessment": {"GD.1.1": 10},
    }
    await storage.registrations.save_draft(
        draft.model_copy(update={"answers": answers, "step": 12})
    )
    head = api.person(806)
    (offer,) = await head.send("/dangky")
    assert "(bước 5/5)" in offer.text
    (summary,) = await head.press("▶️ Tiếp tục")
    assert "• Chủ hộ: Phan Văn Cũ" in summary.text
    (done,) = await head.press("✅ Xác nhận đăng ký")
    number = done.text.split("Số đăng ký: ")[1].split("\n")[0]
    registration = await storage.registrations.by_number(number)
    assert await storage.registrations.assessment(registration.id) == {"GD.1.1": 10}
