"""/danhsach: a wrong typed answer brings the question back as the one live screen, headed by
what was wrong, end to end over the fake Bot API."""

from storage.models import Role
from tests.test_registration import sends_and_edits
from tests.test_registration_list import MARCH, full_cards, register

MEMBERS_PROBLEM = "Xin vui lòng nhập số nhân khẩu bằng chữ số, từ 1 đến 50."
CHILDREN_PROBLEM = "Xin vui lòng nhập một số từ 0 đến số nhân khẩu của hộ."
NAME_PROBLEM = (
    "Xin lỗi, đó không giống họ và tên đầy đủ. Xin vui lòng nhập cả họ và tên, ít nhất hai chữ, "
    "ví dụ Nguyễn Văn An: chỉ dùng chữ cái, dấu cách và các dấu . ' -"
)


def live(chat) -> list:
    """The bot's messages in the chat that still have buttons to press."""
    return [m for m in chat.messages if m.buttons]


async def open_question(chat, label: str):
    await chat.send("/danhsach")
    await chat.press("GD-2026-00001 · Nguyễn Văn An")
    await chat.press("✏️ Sửa")
    (question,) = await chat.press(label)
    return question


async def test_a_wrong_number_asks_again_on_one_live_screen(bot, api, storage, enrol, hamlets):
    bot.clock = lambda: MARCH
    head = await enrol(840, Role.HAMLET_HEAD, "00070/Thôn Đông")
    registration = await register(storage, head, hamlets["Thôn Đông"])
    chat = api.person(840)
    question = await open_question(chat, "Số nhân khẩu: 4")
    assert question.buttons[:2] == [["2", "3", "4", "5", "6", "7"], ["8", "9", "10"]]
    assert len(chat.messages) == 1 and live(chat) == [question]

    # Out of range: the question's buttons go, and it comes again below with the problem.
    mark = len(api.actions)
    closed, retry = await chat.send("60", expect=2)
    assert sends_and_edits(api, 840, mark) == 2  # one edit, one message
    assert (closed.message_id, closed.text, closed.buttons) == (
        question.message_id,
        question.text,
        [],
    )
    assert retry.message_id > question.message_id
    assert retry.text == f"{MEMBERS_PROBLEM}\n\n{question.text}"
    assert retry.buttons == question.buttons
    assert len(chat.messages) == 2 and live(chat) == [retry]

    # Letters: the same again; nothing was saved meanwhile.
    closed, retry = await chat.send("sáu", expect=2)
    assert closed.buttons == [] and retry.text == f"{MEMBERS_PROBLEM}\n\n{question.text}"
    assert len(chat.messages) == 3 and live(chat) == [retry]
    assert (await storage.registrations.get(registration.id)).members == 4
    assert await storage.audit.entries("registration.edited") == []

    # A right answer goes on as before: the question shortened to its record, the card below.
    mark = len(api.actions)
    record, card = await chat.send("6", expect=2)
    assert sends_and_edits(api, 840, mark) == 2
    assert (record.message_id, record.text, record.buttons) == (
        retry.message_id,
        "✔️ Số nhân khẩu: 6",
        [],
    )
    assert "Số nhân khẩu: 6" in card.text and card.buttons[1] == ["✏️ Sửa", "↩️ Rút đăng ký"]
    assert len(chat.messages) == 4 and live(chat) == [card] and full_cards(chat) == [card]
    assert (await storage.registrations.get(registration.id)).members == 6
    assert len(await storage.audit.entries("registration.edited")) == 1

    # More children than members: asked again; a number tapped there shows the card in place.
    await chat.press("✏️ Sửa")
    (question,) = await chat.press("Trẻ em trong độ tuổi đi học: 2")
    closed, retry = await chat.send("9", expect=2)
    assert closed.message_id == card.message_id and closed.buttons == []
    assert retry.text == f"{CHILDREN_PROBLEM}\n\n{question.text}"
    assert retry.buttons[0] == ["0", "1", "2", "3", "4", "5"] and live(chat) == [retry]
    (tapped,) = await chat.press("3")
    assert tapped.message_id == retry.message_id
    assert "Trẻ em trong độ tuổi đi học: 3" in tapped.text and live(chat) == [tapped]
    changed = await storage.registrations.get(registration.id)
    assert (changed.members, changed.school_age_children) == (6, 3)


async def test_a_one_word_name_asks_again_on_one_live_screen(bot, api, storage, enrol, hamlets):
    bot.clock = lambda: MARCH
    head = await enrol(845, Role.HAMLET_HEAD, "00070/Thôn Đông")
    registration = await register(storage, head, hamlets["Thôn Đông"])
    chat = api.person(845)
    question = await open_question(chat, "Chủ hộ: Nguyễn Văn An")
    assert question.text.startswith("GD-2026-00001: Chủ hộ hiện là Nguyễn Văn An.")
    assert question.buttons == [["Hủy"]] and len(chat.messages) == 1

    mark = len(api.actions)
    closed, retry = await chat.send("Bình", expect=2)
    assert sends_and_edits(api, 845, mark) == 2
    assert (closed.message_id, closed.buttons) == (question.message_id, [])
    assert retry.text == f"{NAME_PROBLEM}\n\n{question.text}"
    assert retry.buttons == [["Hủy"]]
    assert len(chat.messages) == 2 and live(chat) == [retry]
    assert (await storage.registrations.get(registration.id)).head_name == "Nguyễn Văn An"

    mark = len(api.actions)
    record, card = await chat.send("Trần Thị Bình", expect=2)
    assert sends_and_edits(api, 845, mark) == 2
    assert (record.message_id, record.text, record.buttons) == (
        retry.message_id,
        "✔️ Chủ hộ: Trần Thị Bình",
        [],
    )
    assert card.text.startswith("GD-2026-00001 · ") and "Chủ hộ: Trần Thị Bình" in card.text
    assert len(chat.messages) == 3 and live(chat) == [card]
    changed = await storage.registrations.get(registration.id)
    assert (changed.name, changed.head_name) == ("Trần Thị Bình", "Trần Thị Bình")
    (edited,) = await storage.audit.entries("registration.edited")
    assert edited.after["head_name"] == "Trần Thị Bình"

    # Cancel on a question asked again goes back to the card in place.
    await chat.press("✏️ Sửa")
    (question,) = await chat.press("Chủ hộ: Trần Thị Bình")
    closed, retry = await chat.send("X", expect=2)
    assert closed.buttons == [] and retry.text.startswith(NAME_PROBLEM)
    (back,) = await chat.press("Hủy")
    assert back.message_id == retry.message_id and back.text == card.text
    assert live(chat) == [back]

    # /huy after a question asked again takes the buttons of that one, the live screen, away.
    await chat.press("✏️ Sửa")
    await chat.press("Chủ hộ: Trần Thị Bình")
    closed, retry = await chat.send("12345", expect=2)
    assert closed.buttons == [] and live(chat) == [retry]
    closed, said = await chat.send("/huy", expect=2)
    assert (closed.message_id, closed.buttons) == (retry.message_id, [])
    assert said.text == "Đã hủy. Không có gì thay đổi." and live(chat) == []
    assert (await storage.registrations.get(registration.id)).head_name == "Trần Thị Bình"
