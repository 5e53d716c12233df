"""Private chats only, edits gated, button presses rate-limited (issue 11), over the fake API."""

from bot.app import build_application
from bot.flood import PRESS_LIMIT
from bot.runner import polling
from bot.testkit import FakeBotApi
from storage.criteria import ModelKind
from storage.models import Role
from tests.conftest import settings_for

PRIVATE_ONLY = "Tôi chỉ làm việc trong cuộc trò chuyện riêng"
EDITED = "Tôi không thể xử lý tin nhắn đã được sửa"
DENIED = "Bạn không có quyền truy cập nội dung này."
STALE = "Nút này không còn hiệu lực. Xin vui lòng bắt đầu lại bằng lệnh."
NOT_AVAILABLE = "Bạn không có quyền dùng lệnh này."
ANSWERED = "Câu hỏi này đã được trả lời rồi."  # /dangky's answer to a step not shown


async def register(storage, person, hamlet, name="Nguyễn Văn An", phone="+84912345678"):
    """A family registration made directly in storage, the way /dangky finishes one."""
    draft = await storage.registrations.start_draft(person.id, hamlet.id, 2026)
    criteria = await storage.criteria.in_force(hamlet.province_code, 2026, ModelKind.FAMILY)
    answers = {
        "kind": "family",
        "criteria_set_id": criteria.set_id,
        "head_name": name,
        "members": 4,
        "school_age_children": 2,
        "phone": phone,
        "assessment": {"GD.1.1": 10},
    }
    await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
    draft = await storage.registrations.draft_of(person.id)
    return await storage.registrations.register(draft, hamlet, person.id)


async def test_in_a_group_the_bot_says_one_line_with_a_link_and_leaves(
    bot, api, storage, enrol, hamlets
):
    head = await enrol(700, Role.HAMLET_HEAD, "00070/Thôn Đông")
    staff = await enrol(701, Role.STAFF, "00070", phone="+84987654321")
    family = await register(storage, head, hamlets["Thôn Đông"])
    group = api.group(-100700, "Nhóm thôn Đông")
    officer = api.member(api.person(701), group)
    stranger = api.member(api.person(702), group)

    (said,) = await stranger.add_bot()
    assert said.text.startswith(PRIVATE_ONLY)
    assert "https://t.me/hoctap_test_bot" in said.text
    assert api.left_chats == [-100700]

    # Messages that still arrive (sent before the bot left, or in a group it cannot leave)
    # get nothing: no card, no phone, no file, no invite code, no wizard, no second line.
    for text in (f"/tinhtrang {family.number}", "/toi", "/xuat", "/moi", "/dangky", "/start"):
        assert await officer.send(text, expect=0) == []
    assert await stranger.send("/start", expect=0) == []
    texts = [m.text for m in officer.messages]
    assert texts == [said.text]
    assert not [c for c in api.calls if c[0] == "sendDocument"]

    # A forged button press in the group is answered quietly, without data.
    await officer.press_data(said, f"rgl:show:{family.id}", expect=0)
    assert officer.last_callback_answer["text"].startswith(PRIVATE_ONLY)
    assert staff.phone not in str(api.calls)
    # The officer still gets everything in private.
    card = (await api.person(701).send(f"/tinhtrang {family.number}"))[-1]
    assert family.number in card.text


async def test_the_line_is_said_once_per_chat_per_hour(bot, api, enrol):
    group = api.group(-100710, "Nhóm khác", kind="group")
    member = api.member(api.person(710), group)
    (said,) = await member.send("/trogiup")
    assert said.text.startswith(PRIVATE_ONLY)
    api.left_chats.clear()
    assert await member.send("/trogiup", expect=0) == []
    assert api.left_chats == [-100710]  # it tries to leave again, silently
    other = api.member(api.person(711), api.group(-100711, "Nhóm ba"))
    (again,) = await other.send("xin chào")
    assert again.text.startswith(PRIVATE_ONLY)


async def test_an_edited_command_is_refused_like_any_edit(bot, api, storage, enrol, hamlets):
    head = await enrol(720, Role.HAMLET_HEAD, "00070/Thôn Đông")
    other = await enrol(721, Role.HAMLET_HEAD, "00070/Thôn Tây")
    await enrol(722, Role.STAFF, "00070")
    family = await register(storage, other, hamlets["Thôn Tây"])
    person = api.person(720)
    (denied,) = await person.send(f"/tinhtrang {family.number}")
    assert family.number not in denied.text
    first_id = api.next_message_id(720) - 2  # the person's own message before the answer
    (answer,) = await person.edit(first_id, f"/tinhtrang {family.number}")
    assert answer.text.startswith(EDITED)
    assert family.number not in answer.text and "Nguyễn Văn An" not in answer.text
    chair = api.person(722)
    for command in ("/xuat", "/nguoidung", "/bieudo", "/tongket", "/congnhan"):
        (reply,) = await chair.edit(1, command)
        assert reply.text.startswith(EDITED)
    assert head.active


async def test_edits_count_against_the_flood_limit(bot, api, enrol):
    await enrol(730, Role.STAFF, "00070")
    person = api.person(730)
    for index in range(35):
        api.add_update(
            {"edited_message": person._message({"text": f"sửa {index}", "edit_date": 1})["message"]}
        )
    replies = await person.wait(expect=31, quiet=0.5)
    assert sum(r.text.startswith(EDITED) for r in replies) == 30
    assert sum(r.text.startswith("Bạn đang gửi tin nhắn nhanh") for r in replies) == 1


async def test_button_presses_are_rate_limited(bot, api, storage, enrol, hamlets):
    await enrol(740, Role.STAFF, "00070")
    stranger_head = await enrol(741, Role.HAMLET_HEAD, "00073/Thôn Bắc")
    family = await register(storage, stranger_head, hamlets["Thôn Bắc"])
    person = api.person(740)
    (card,) = await person.send("/trogiup")
    for _ in range(PRESS_LIMIT + 30):
        person.last_callback_id = api.issue_callback_id()
        api.add_update(
            {
                "callback_query": {
                    "id": person.last_callback_id,
                    "from": person.user,
                    "message": card.raw,
                    "chat_instance": "x",
                    "data": f"rgl:show:{family.id}",
                }
            }
        )
    await person.wait(expect=0, quiet=0.5)
    denied = await storage.audit.entries("access.denied")
    assert len(denied) <= PRESS_LIMIT


async def test_an_update_that_cannot_be_read_does_not_end_polling(bot, api, enrol, caplog):
    await enrol(750, Role.STAFF, "00070")
    person = api.person(750)
    broken = {"message": {"message_id": 99, "date": "hôm qua", "chat": person.chat}}
    api.add_update(broken)
    (reply,) = await person.send("/toi")  # in the same batch as the broken one
    assert reply.text.startswith("Tài khoản của bạn")
    (again,) = await person.send("/toi")
    assert again.text.startswith("Tài khoản của bạn")
    assert api.pending_updates() == []
    assert "cannot be read; skipped" in caplog.text
    assert "hôm qua" not in caplog.text  # the unreadable update's content is not logged


async def test_forged_button_data_of_any_shape_is_refused_politely(
    bot, api, storage, enrol, hamlets, registration_open, caplog
):
    await enrol(755, Role.HAMLET_HEAD, "00070/Thôn Đông")
    person = api.person(755)
    question = (await person.send("/dangky"))[-1]
    forged = ["reg:0:v:abc", "reg:0:kind:xyz", "reg:0:edit:abc", "reg:0:dupopen:abc"]
    forged += ["rgl:show:99999999999999999999999", "x" * 64, "rv:why:1:-1", "ppl:show:"]
    for data in forged:
        await person.press_data(question, data, expect=0)
        answer = person.last_callback_answer
        assert answer is not None, data
        assert answer.get("text") in (STALE, DENIED, NOT_AVAILABLE, ANSWERED), (data, answer)
    assert not [m for m in person.messages if m.text.startswith("Xin lỗi, hệ thống")]
    assert "failed" not in caplog.text
    still = await person.send("/huy")  # the dialog is still there, untouched
    assert still[-1].text.startswith("Hủy đăng ký này?")


async def test_a_command_with_4000_characters_is_answered_briefly(bot, api, enrol):
    await enrol(756, Role.STAFF, "00070")
    person = api.person(756)
    for command in ("/xuat", "/tinhtrang", "/tongket", "/minhchung"):
        (reply,) = await person.send(command + " " + "Thôn Đông " * 400)
        assert reply.text.startswith("Lệnh quá dài"), reply.text
    assert not [m for m in person.messages if m.text.startswith("Xin lỗi, hệ thống")]


async def test_a_new_bot_token_answers_updates_with_ids_the_old_bot_saw(
    bot, api, storage, enrol, tmp_path
):
    await enrol(757, Role.STAFF, "00070")
    (first,) = await api.person(757).send("/toi")  # update 1 of the first bot
    assert first.text.startswith("Tài khoản của bạn")
    async with FakeBotApi(token="654321:ANOTHER-BOT") as other_api:
        other = build_application(settings_for(other_api, tmp_path), storage)
        async with polling(other, poll_timeout=0.5):
            (reply,) = await other_api.person(757).send("/toi")  # update 1 again, new bot
    assert reply.text.startswith("Tài khoản của bạn")


async def test_a_restarted_server_numbering_updates_from_1_again_is_answered(
    bot, api, storage, enrol, tmp_path
):
    await enrol(758, Role.STAFF, "00070")
    (first,) = await api.person(758).send("/toi")  # update 1 of this server
    assert first.text.startswith("Tài khoản của bạn")
    await api.person(758).send("/toi")  # update 2: the server has now confirmed update 1
    async with FakeBotApi() as restarted:  # same bot, a new server counting from 1 again
        again = build_application(settings_for(restarted, tmp_path), storage)
        async with polling(again, poll_timeout=0.5):
            (reply,) = await restarted.person(758).send("/toi")  # update 1 again
    assert reply.text.startswith("Tài khoản của bạn")


async def test_a_channel_post_gets_the_line_and_the_bot_leaves(bot, api):
    channel = api.group(-100790, "Kênh xã", kind="channel")
    poster = api.member(api.person(790), channel)
    post = poster._message({"text": "/xuat"})["message"]
    del post["from"]  # channel posts have no sender user
    post["sender_chat"] = channel
    api.add_update({"channel_post": post})
    (said,) = await poster.wait()
    assert said.text.startswith(PRIVATE_ONLY)
    assert api.left_chats == [-100790]
