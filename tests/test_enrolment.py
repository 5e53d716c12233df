"""Enrolment by invite, end to end: the real bot polls the fake Bot API over HTTP."""

import sqlite3
import unicodedata
from datetime import timedelta

from storage.clock import utcnow
from storage.models import Role


def person_row(db_path, telegram_id):
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM people WHERE telegram_id = ?", (telegram_id,)).fetchone()


async def test_hamlet_head_enrols_through_a_deep_link(bot, api, storage, hamlets, tmp_path):
    invite = await storage.invites.create(Role.HAMLET_HEAD, hamlets["Thôn Đông"].id)
    lan = api.person(501)

    (card,) = await lan.send(f"/start {invite.code}")
    assert card.text.startswith("Bước 1/4")
    assert "trưởng thôn" in card.text and "Thôn Đông, Phường Hoàn Kiếm" in card.text

    replies = await lan.press("✅ Đúng, tiếp tục", expect=2)
    assert replies[-1].text.startswith("Bước 2/4")
    (retry,) = await lan.send("An 2")  # digits are not a name
    assert "chưa phải họ và tên" in retry.text
    (retry,) = await lan.send("quang")  # nor is one word
    assert "ít nhất hai chữ" in retry.text
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn An")
    (phone_question,) = await lan.send(decomposed)
    assert phone_question.text.startswith("Bước 3/4")
    assert phone_question.reply_buttons == [["📱 Chia sẻ số điện thoại của tôi"]]
    (retry,) = await lan.send("12345")
    assert "không phải số di động" in retry.text
    thanks, language = await lan.send("091 234.5678", expect=2)
    assert thanks.keyboard_removed and language.text.startswith("Bước 4/4")
    replies = await lan.press("Tiếng Việt", expect=2)
    assert "Chào mừng Nguyễn Văn An" in replies[-1].text
    assert "/trogiup" in replies[-1].text

    row = person_row(tmp_path / "hoctap.sqlite3", 501)
    assert row["full_name"] == "Nguyễn Văn An"
    assert unicodedata.is_normalized("NFC", row["full_name"])
    assert row["phone"] == "+84912345678"
    assert (row["role"], row["area_id"], row["locale"]) == (
        "hamlet_head",
        hamlets["Thôn Đông"].id,
        "vi",
    )
    assert (await storage.invites.get(invite.id)).used_by == row["id"]
    assert [e.action for e in await storage.audit.entries("person.enrolled")] == ["person.enrolled"]


async def test_enrolment_by_typed_code_and_shared_contact(bot, api, storage, hamlets, tmp_path):
    invite = await storage.invites.create(Role.HAMLET_HEAD, hamlets["Thôn Tây"].id)
    binh = api.person(502, first_name="Bình")

    (ask,) = await binh.send("/start")
    assert ask.text.startswith("Bạn chưa được đăng ký sử dụng bot")
    assert ask.text.endswith("Nếu bạn đã có mã mời (12 chữ cái và chữ số), hãy nhập mã vào đây.")
    spaced = f"{invite.code[:4].lower()} {invite.code[4:8]}-{invite.code[8:]}"
    await binh.send(spaced)
    await binh.press("✅ Đúng, tiếp tục", expect=2)
    await binh.send("Trần Thị Bình")
    (not_own,) = await binh.share_contact("0987654321", user_id=999)
    assert "của chính bạn" in not_own.text
    thanks, _language = await binh.share_contact("84987654321", expect=2)
    assert thanks.keyboard_removed
    await binh.press("Tiếng Việt", expect=2)

    row = person_row(tmp_path / "hoctap.sqlite3", 502)
    assert (row["full_name"], row["phone"]) == ("Trần Thị Bình", "+84987654321")


async def test_used_expired_and_guessed_codes(bot, api, storage, hamlets):
    area = hamlets["Thôn Đông"].id
    used = await storage.invites.create(Role.HAMLET_HEAD, area)
    first = api.person(510)
    await first.send(f"/start {used.code}")
    await first.press("✅ Đúng, tiếp tục", expect=2)
    await first.send("Lê Văn Một")
    await first.send("0912000001", expect=2)
    await first.press("Tiếng Việt", expect=2)

    second = api.person(511)
    (reply,) = await second.send(f"/start {used.code}")
    assert reply.text == "Mã này đã được sử dụng. Xin vui lòng xin mã mới."

    expired = await storage.invites.create(
        Role.HAMLET_HEAD, area, now=utcnow() - timedelta(days=15)
    )
    (reply,) = await second.send(expired.code)
    assert reply.text == "Mã này đã hết hạn. Xin vui lòng xin mã mới."

    guesser = api.person(512)
    await guesser.send("/start")
    answers = [await guesser.send(f"WRONGCODE{i:03d}") for i in range(5)]
    assert [r[0].text for r in answers[:4]] == [
        "Mã này không đúng. Xin vui lòng kiểm tra và nhập lại."
    ] * 4
    assert "đợi một giờ" in answers[4][0].text
    valid = await storage.invites.create(Role.HAMLET_HEAD, area)
    assert await guesser.send(valid.code, expect=0) == []  # ignored, revealing nothing
    assert await guesser.send(f"/start {valid.code}", expect=0) == []
    assert (await storage.invites.get(valid.id)).used_at is None


async def test_someone_not_enrolled_gets_only_the_not_enrolled_answer(bot, api, storage, enrol):
    staff = await enrol(520, Role.STAFF, "00070")
    stranger = api.person(521)
    for text in ["/trogiup", "/toi", "/nguoidung", "/moi", "/xyz", "xin chào"]:
        (reply,) = await stranger.send(text)
        assert reply.text.startswith("Bạn chưa được đăng ký sử dụng bot"), text
    staff_chat = api.person(520)
    (listing,) = await staff_chat.send("/nguoidung")
    await stranger.press_data(listing, f"ppl:off!:{staff.id}", expect=0)
    assert stranger.last_callback_answer["text"] == "Bạn chưa được đăng ký sử dụng."
    assert (await storage.people.get(staff.id)).active


async def test_staff_cannot_reach_another_commune(bot, api, storage, enrol, hamlets):
    staff_a = await enrol(530, Role.STAFF, "00070")
    head_b = await enrol(531, Role.HAMLET_HEAD, "00073/Thôn Bắc", name="Phạm Văn Bắc")
    head_a = await enrol(532, Role.HAMLET_HEAD, "00070/Thôn Đông", name="Đỗ Thị Đông")
    chat = api.person(530)

    (listing,) = await chat.send("/nguoidung")
    names = [label for row in listing.buttons for label in row]
    assert any("Đỗ Thị Đông" in n for n in names)
    assert not any("Phạm Văn Bắc" in n for n in names)

    (reply,) = await chat.send("/moi hamlet_head 00073/Thôn Bắc")
    assert reply.text == "Bạn không có quyền truy cập nội dung này."
    invites = await storage.db.conn.execute_fetchall("SELECT COUNT(*) FROM invites")
    assert invites[0][0] == 0

    for forged in (f"ppl:show:{head_b.id}", f"ppl:off!:{head_b.id}"):
        await chat.press_data(listing, forged, expect=0)
        assert chat.last_callback_answer["text"] == "Bạn không có quyền truy cập nội dung này."
    assert (await storage.people.get(head_b.id)).active

    await chat.send("/moi")
    await chat.press("trưởng thôn / tổ trưởng dân phố", expect=2)
    await chat.press_data(chat.last, f"inv:area:{hamlets['Thôn Bắc'].id}", expect=0)
    assert chat.last_callback_answer["text"] == "Bạn không có quyền truy cập nội dung này."

    denied = await storage.audit.entries("access.denied")
    assert len(denied) == 4
    assert {e.actor_id for e in denied} == {staff_a.id}
    assert {e.after["action"] for e in denied} == {"invite", "person.show", "person.activation"}

    # Inside the own commune, the same buttons work.
    *_, done = await chat.press_data(chat.last, f"inv:area:{hamlets['Thôn Đông'].id}", expect=2)
    assert "Đã tạo mã mời" in done.text and "https://t.me/hoctap_test_bot?start=" in done.text
    await chat.send("/nguoidung")
    await chat.press("Đỗ Thị Đông · trưởng thôn / tổ trưởng dân phố")
    await chat.press("⛔ Khóa tài khoản")
    await chat.press("Có")
    assert not (await storage.people.get(head_a.id)).active
    (entry,) = await storage.audit.entries("person.deactivated")
    assert (entry.before, entry.after) == ({"active": True}, {"active": False})
    (reply,) = await api.person(532).send("/toi")
    assert reply.text.startswith("Bạn chưa được đăng ký sử dụng bot")


async def test_a_person_who_chose_english_gets_english(bot, api, storage, hamlets):
    invite = await storage.invites.create(Role.STAFF, (await storage.areas.by_code("00070")).id)
    mai = api.person(540, language_code="en")
    await mai.send(f"/start {invite.code}")
    await mai.press("✅ Đúng, tiếp tục", expect=2)
    await mai.send("Mai Anh")
    await mai.send("0912000002", expect=2)
    replies = await mai.press("English", expect=2)
    assert replies[-1].text.startswith("Welcome, Mai Anh! You are enrolled as supervising staff")

    menu = api.commands[next(k for k in api.commands if "540" in k[0])]
    assert {c["command"] for c in menu} >= {"moi", "nguoidung", "toi"}
    assert "Invite someone to use the bot" in [c["description"] for c in menu]

    (question,) = await mai.send("/moi")
    assert question.text == "Step 1/2\nWhom do you want to invite?"
    assert ["hamlet head"] in question.buttons
    (me,) = await mai.send("/toi")
    assert me.text.startswith("Your account\nName: Mai Anh")

    await mai.send("/ngonngu")
    *_, reply = await mai.press("Tiếng Việt", expect=2)
    assert reply.text == "Từ giờ tôi sẽ viết cho bạn bằng tiếng Việt."
    menu = api.commands[next(k for k in api.commands if "540" in k[0])]
    assert "Mời người khác sử dụng bot" in [c["description"] for c in menu]


async def test_a_new_invite_changes_the_role_and_is_audited(bot, api, storage, enrol, hamlets):
    head = await enrol(550, Role.HAMLET_HEAD, "00070/Thôn Đông")
    commune = await storage.areas.by_code("00070")
    invite = await storage.invites.create(Role.BRANCH_CHAIR, commune.id)
    chat = api.person(550)

    (offer,) = await chat.send(f"/start {invite.code}")
    assert "chi hội trưởng khuyến học tại Phường Hoàn Kiếm" in offer.text
    *_, welcome = await chat.press("✅ Có, chuyển vai trò", expect=2)
    assert "vai trò chi hội trưởng khuyến học" in welcome.text

    changed = await storage.people.get(head.id)
    assert (changed.role, changed.area_id) == (Role.BRANCH_CHAIR, commune.id)
    (entry,) = await storage.audit.entries("person.role_changed")
    assert entry.before == {"role": "hamlet_head", "area_id": hamlets["Thôn Đông"].id}
    assert entry.after["role"] == "branch_chair"
    (again,) = await chat.send(f"/start {invite.code}")
    assert again.text == "Mã này đã được sử dụng. Xin vui lòng xin mã mới."


async def test_people_are_listed_ten_a_page(bot, api, storage, enrol, hamlets):
    await enrol(560, Role.STAFF, "00070", name="An Cán Bộ")
    for i in range(12):
        await enrol(561 + i, Role.HAMLET_HEAD, "00070/Thôn Tây", name=f"Trưởng Thôn {chr(66 + i)}")
    chat = api.person(560)
    (first,) = await chat.send("/nguoidung")
    assert first.text.startswith("Người dùng trong địa bàn: 1–10 trên tổng số 13.")
    assert first.buttons[-1] == ["Trang sau ➡️"]
    (second,) = await chat.press("Trang sau ➡️")
    assert second.text.startswith("Người dùng trong địa bàn: 11–13 trên tổng số 13.")
    assert len(second.buttons) == 4 and second.buttons[-1] == ["⬅️ Trang trước"]


async def test_cancel_with_nothing_open_says_so(bot, api, enrol):
    await enrol(580, Role.HAMLET_HEAD)
    (reply,) = await api.person(580).send("/huy")
    assert reply.text == "Không có việc gì đang làm để hủy."
