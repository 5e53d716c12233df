"""/danhsach, /namhoc and draft expiry, end to end: the real bot polls the fake Bot API."""

from datetime import UTC, date, datetime, timedelta

from bot.jobs import DRAFT_EXPIRY_JOB, discard_stale_drafts
from storage.clock import to_db
from storage.criteria import ModelKind
from storage.models import Role
from storage.registrations import ProgrammeYear, Status
from tests.test_registration import sends_and_edits

DENIED = "Bạn không có quyền truy cập nội dung này."
MARCH = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


async def register(storage, person, hamlet, kind=ModelKind.FAMILY, **answers):
    """A registration made directly in storage, the way /dangky finishes one."""
    draft = await storage.registrations.start_draft(person.id, hamlet.id, 2026)
    criteria = await storage.criteria.in_force(hamlet.province_code, 2026, kind)
    if kind is ModelKind.FAMILY:
        defaults = {
            "head_name": "Nguyễn Văn An",
            "members": 4,
            "school_age_children": 2,
            "address": "Số 5, ngõ 12",
            "phone": "+84912345678",
            "assessment": {"GD.1.1": 10, "GD.1.2": 8},
        }
    else:
        defaults = {
            "clan_name": "Họ Nguyễn",
            "branch": "Chi 2",
            "head_name": "Nguyễn Văn Tộc",
            "households": 35,
            "assessment": {"DH.1.1": 1, "DH.1.2": 0},
        }
    draft = draft.model_copy(
        update={
            "answers": {
                "kind": kind.value,
                "criteria_set_id": criteria.set_id,
                **defaults,
                **answers,
            }
        }
    )
    await storage.registrations.save_draft(draft)
    draft = await storage.registrations.draft_of(person.id)
    return await storage.registrations.register(draft, hamlet, person.id)


def item_labels(message):
    return [label for row in message.buttons for label in row if "-2026-" in label]


async def test_list_filters_and_pages(bot, api, storage, enrol, hamlets):
    bot.clock = lambda: MARCH
    head = await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    other = await enrol(801, Role.HAMLET_HEAD, "00073/Thôn Bắc")
    await enrol(802, Role.STAFF, "00070")
    families = [
        await register(storage, head, hamlets["Thôn Đông"], head_name=f"Lê Văn {name}")
        for name in "ABCDEFGHIJKL"
    ]
    await register(storage, head, hamlets["Thôn Đông"], ModelKind.CLAN, clan_name="Họ Lê")
    await register(storage, head, hamlets["Thôn Đông"], ModelKind.CLAN, clan_name="Họ Trần")
    await register(storage, other, hamlets["Thôn Bắc"], head_name="Phạm Văn Xa")
    await storage.registrations.update(families[3].id, {"status": Status.WITHDRAWN})
    chat = api.person(802)

    (listing,) = await chat.send("/danhsach")
    assert listing.text == (
        "Đăng ký năm 2026: 1–10 trên tổng số 14. Chạm vào một mục để xem chi tiết.\n"
        "Đang xem: Tất cả; Mọi trạng thái."
    )
    labels = item_labels(listing)
    assert len(labels) == 10
    assert labels[:3] == [
        "DH-2026-00001 · Họ Lê (Chi 2)",
        "DH-2026-00002 · Họ Trần (Chi 2)",
        "GD-2026-00001 · Lê Văn A",
    ]
    assert labels[5] == "GD-2026-00004 · Lê Văn D · đã rút"
    assert listing.buttons[0] == ["• Tất cả", "Gia đình", "Dòng họ"]
    assert listing.buttons[-1] == ["Trang sau ➡️"]

    (second,) = await chat.press("Trang sau ➡️")
    assert second.text.startswith("Đăng ký năm 2026: 11–14 trên tổng số 14.")
    assert item_labels(second) == [
        "GD-2026-00009 · Lê Văn I",
        "GD-2026-00010 · Lê Văn J",
        "GD-2026-00011 · Lê Văn K",
        "GD-2026-00012 · Lê Văn L",
    ]
    assert second.buttons[-1] == ["⬅️ Trang trước"]

    (clans,) = await chat.press("Dòng họ")
    assert clans.text.startswith("Đăng ký năm 2026: 1–2 trên tổng số 2.")
    assert "Đang xem: Dòng họ; Mọi trạng thái." in clans.text
    (withdrawn_clans,) = await chat.press("đã rút")
    assert withdrawn_clans.text.startswith("Không có bản đăng ký nào năm 2026 khớp")
    (withdrawn,) = await chat.press("Gia đình")
    assert item_labels(withdrawn) == ["GD-2026-00004 · Lê Văn D · đã rút"]
    (registered,) = await chat.press("đã đăng ký")
    assert registered.text.startswith("Đăng ký năm 2026: 1–10 trên tổng số 11.")

    await enrol(803, Role.ADMIN)
    (everything,) = await api.person(803).send("/danhsach")
    assert "trên tổng số 15." in everything.text
    (own,) = await api.person(801).send("/danhsach")
    assert item_labels(own) == ["GD-2026-00013 · Phạm Văn Xa"]


async def test_card_shows_answers_and_assessment(bot, api, storage, enrol, hamlets):
    bot.clock = lambda: MARCH
    head = await enrol(810, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await register(storage, head, hamlets["Thôn Đông"])
    await register(storage, head, hamlets["Thôn Đông"], ModelKind.CLAN)
    chat = api.person(810)

    await chat.send("/danhsach")
    (card,) = await chat.press("GD-2026-00001 · Nguyễn Văn An")
    lines = card.text.split("\n")
    assert lines[:4] == [
        "GD-2026-00001 · gia đình học tập",
        "Thôn: Thôn Đông, Phường Hoàn Kiếm, Thành phố Hà Nội",
        "Trạng thái: đã đăng ký",
        f"Đăng ký ngày {datetime.now(UTC).astimezone(bot.settings.tzinfo):%d/%m/%Y}",
    ]
    assert lines[5:10] == [
        "Chủ hộ: Nguyễn Văn An",
        "Số nhân khẩu: 4",
        "Trẻ em trong độ tuổi đi học: 2",
        "Địa chỉ: Số 5, ngõ 12",
        "Điện thoại: +84912345678",
    ]
    start = lines.index("Tự đánh giá:") + 1
    assessment = lines[start : start + 10]
    assert assessment[0] == "Trẻ em đi học đúng tuổi: 10/10 điểm"  # words, not codes
    assert assessment[1] == "Kết quả học tập, hạnh kiểm: 8/10 điểm"
    assert assessment[2] == "Trẻ trung thực, lễ phép: — chưa trả lời"
    assert "GD." not in card.text
    assert "Có thể sửa đến hết ngày 30/11/2026." in card.text
    assert card.buttons[0] == ["📝 Tự đánh giá"]
    assert card.buttons[1] == ["✏️ Sửa", "↩️ Rút đăng ký"]

    await chat.press("⬅️ Về danh sách")
    (clan,) = await chat.press("DH-2026-00001 · Họ Nguyễn (Chi 2)")
    assert "Dòng họ: Họ Nguyễn\nChi, nhánh: Chi 2\nTrưởng họ: Nguyễn Văn Tộc\nSố hộ: 35" in (
        clan.text
    )
    assert "Ban khuyến học dòng họ: ✅ Đạt" in clan.text
    assert "Quỹ và quy ước khuyến học: ❌ Chưa đạt" in clan.text


async def test_hamlet_head_edits_and_withdraws(bot, api, storage, enrol, hamlets):
    bot.clock = lambda: MARCH
    head = await enrol(820, Role.HAMLET_HEAD, "00070/Thôn Đông")
    registration = await register(storage, head, hamlets["Thôn Đông"])
    chat = api.person(820)

    await chat.send("/danhsach")
    await chat.press("GD-2026-00001 · Nguyễn Văn An")
    (choice,) = await chat.press("✏️ Sửa")
    assert choice.text == "GD-2026-00001 (Nguyễn Văn An): bạn muốn sửa thông tin nào?"
    (question,) = await chat.press("Số nhân khẩu: 4")
    assert question.message_id == choice.message_id  # the card's own message, edited
    assert question.text.startswith("GD-2026-00001: Số nhân khẩu hiện là 4.\nHộ có bao nhiêu")

    # A wrong answer: the question again below, headed by the problem; the old one loses buttons.
    closed, retry = await chat.send("bốn", expect=2)
    assert closed.message_id == question.message_id and closed.buttons == []
    assert (
        retry.text == "Xin vui lòng nhập số nhân khẩu bằng chữ số, từ 1 đến 50.\n\n" + question.text
    )
    closed, again = await chat.send("1", expect=2)  # fewer than the 2 school-age children given
    assert closed.message_id == retry.message_id and closed.buttons == []
    assert again.text.startswith("Số này nhỏ hơn trẻ em trong độ tuổi đi học đã khai (2).")
    assert again.buttons == question.buttons
    assert (await storage.registrations.get(registration.id)).members == 4
    saved, card = await chat.send("6", expect=2)
    assert saved.message_id == again.message_id
    assert saved.text == "✔️ Số nhân khẩu: 6" and saved.buttons == []
    assert "Số nhân khẩu: 6" in card.text and card.message_id > question.message_id
    assert (await storage.registrations.get(registration.id)).members == 6
    (edited,) = await storage.audit.entries("registration.edited")
    assert edited.before == {"number": "GD-2026-00001", "members": 4}
    assert edited.after == {"number": "GD-2026-00001", "members": 6}
    assert (edited.actor_id, edited.subject_id) == (head.id, str(registration.id))

    # The next plain text is not taken as an answer any more.
    (nudge,) = await chat.send("7")  # the main actions, not a question
    assert nudge.text.startswith("Xin chào")
    assert (await storage.registrations.get(registration.id)).members == 6

    # Renaming the head renames the registration, and the address can be removed.
    await chat.press("✏️ Sửa")
    await chat.press("Chủ hộ: Nguyễn Văn An")
    await chat.send("Nguyễn Văn Bình", expect=2)
    await chat.press("✏️ Sửa")
    (question,) = await chat.press("Địa chỉ: Số 5, ngõ 12")
    (card,) = await chat.press("🗑 Xóa thông tin này")  # a tapped answer: the card in place
    assert card.message_id == question.message_id and "Địa chỉ: —" in card.text
    assert chat.last_callback_answer["text"] == "Đã lưu: Địa chỉ nay là —."
    changed = await storage.registrations.get(registration.id)
    assert (changed.name, changed.head_name, changed.address) == (
        "Nguyễn Văn Bình",
        "Nguyễn Văn Bình",
        None,
    )

    (confirm,) = await chat.press("↩️ Rút đăng ký")
    assert confirm.text.startswith("Rút đăng ký GD-2026-00001 (Nguyễn Văn Bình)?")
    (card,) = await chat.press("Không")
    assert (await storage.registrations.get(registration.id)).status is Status.REGISTERED
    await chat.press("↩️ Rút đăng ký")
    (card,) = await chat.press("Có, rút đăng ký")
    assert chat.last_callback_answer["text"] == "Đã rút đăng ký."
    assert "Trạng thái: đã rút" in card.text
    assert "✏️ Sửa" not in [label for row in card.buttons for label in row]
    assert (await storage.registrations.get(registration.id)).status is Status.WITHDRAWN
    (withdrawn,) = await storage.audit.entries("registration.withdrawn")
    assert withdrawn.before == {"number": "GD-2026-00001", "status": "registered"}
    assert withdrawn.after == {"number": "GD-2026-00001", "status": "withdrawn"}

    # A replayed confirmation changes nothing more.
    await chat.press_data(card, f"rgl:wd!:{registration.id}", expect=0)
    assert "đã rút" in chat.last_callback_answer["text"]
    assert len(await storage.audit.entries("registration.withdrawn")) == 1


def full_cards(chat) -> list:
    return [m for m in chat.messages if "Tự đánh giá:" in (m.text or "")]


async def test_editing_one_answer_from_the_card_stays_on_its_screen(
    bot, api, storage, enrol, hamlets
):
    bot.clock = lambda: MARCH
    head = await enrol(825, Role.HAMLET_HEAD, "00070/Thôn Đông")
    registration = await register(storage, head, hamlets["Thôn Đông"])
    chat = api.person(825)
    (listing,) = await chat.send("/danhsach")
    (card,) = await chat.press("GD-2026-00001 · Nguyễn Văn An")
    assert card.message_id == listing.message_id

    # Typed: Edit and the answer's button edit the card into the question; the answer shortens
    # the question to one line and the updated card is the new screen below it.
    from_card = len(api.actions)
    await chat.press("✏️ Sửa")
    from_field = len(api.actions)
    (question,) = await chat.press("Số nhân khẩu: 4")
    assert question.message_id == card.message_id
    assert question.buttons[:2] == [["2", "3", "4", "5", "6", "7"], ["8", "9", "10"]]
    record, card = await chat.send("6", expect=2)
    assert (record.message_id, record.text, record.buttons) == (
        question.message_id,
        "✔️ Số nhân khẩu: 6",
        [],
    )
    assert "Số nhân khẩu: 6" in card.text and card.buttons[1] == ["✏️ Sửa", "↩️ Rút đăng ký"]
    assert sends_and_edits(api, 825, from_field) == 3  # the question, its record, the card
    assert sends_and_edits(api, 825, from_card) == 4  # and the list of answers before it
    assert [m.message_id for m in chat.messages] == [record.message_id, card.message_id]
    assert full_cards(chat) == [card]

    # Cancel goes back to the card in place; a tapped answer shows the card in place.
    (question,) = await chat.press("✏️ Sửa")
    (question,) = await chat.press("Trẻ em trong độ tuổi đi học: 2")
    assert question.buttons[0] == ["0", "1", "2", "3", "4", "5"]  # no more than the 6 members
    (back,) = await chat.press("Hủy")
    assert back.message_id == card.message_id and back.text == card.text
    from_card = len(api.actions)
    await chat.press("✏️ Sửa")
    await chat.press("Trẻ em trong độ tuổi đi học: 2")
    (tapped,) = await chat.press("3")
    assert tapped.message_id == card.message_id and "Trẻ em trong độ tuổi đi học: 3" in tapped.text
    assert chat.last_callback_answer["text"] == "Đã lưu: Trẻ em trong độ tuổi đi học nay là 3."
    assert sends_and_edits(api, 825, from_card) == 3
    assert len(chat.messages) == 2 and len(full_cards(chat)) == 1
    changed = await storage.registrations.get(registration.id)
    assert (changed.members, changed.school_age_children) == (6, 3)

    # The same answer again is said so, and saves nothing; a forged number is refused.
    await chat.press("✏️ Sửa")
    await chat.press("Số nhân khẩu: 6")
    record, card = await chat.send("6", expect=2)
    assert record.text == "✔️ Số nhân khẩu: 6 (không đổi)"
    await chat.press_data(card, f"rgl:set:{registration.id}:members:2", expect=0)  # < 3 children
    assert chat.last_callback_answer["text"] == DENIED
    await chat.press_data(card, f"rgl:set:{registration.id}:address:2", expect=0)
    assert chat.last_callback_answer["text"] == DENIED
    assert len(await storage.audit.entries("registration.edited")) == 2
    assert (await storage.registrations.get(registration.id)).members == 6


async def test_after_the_evaluation_lock_the_card_is_read_only(bot, api, storage, enrol, hamlets):
    head = await enrol(830, Role.HAMLET_HEAD, "00070/Thôn Đông")
    registration = await register(storage, head, hamlets["Thôn Đông"])
    await storage.registrations.set_programme_year(
        ProgrammeYear.default("01", 2026).model_copy(update={"evaluation_lock": date(2026, 10, 15)})
    )
    chat = api.person(830)

    # The lock day itself still counts (23:30 local time on 15/10).
    bot.clock = lambda: datetime(2026, 10, 15, 16, 30, tzinfo=UTC)
    await chat.send("/danhsach")
    (card,) = await chat.press("GD-2026-00001 · Nguyễn Văn An")
    assert card.buttons[:2] == [["📝 Tự đánh giá"], ["✏️ Sửa", "↩️ Rút đăng ký"]]
    (choice,) = await chat.press("✏️ Sửa")
    assert choice.text.endswith("bạn muốn sửa thông tin nào?")

    bot.clock = lambda: datetime(2026, 10, 15, 17, 30, tzinfo=UTC)  # 00:30 on 16/10
    (card,) = await chat.press("⬅️ Quay lại")
    assert "Đã qua ngày khóa đánh giá (15/10/2026): bản đăng ký này không thể sửa nữa." in card.text
    assert card.buttons == [["⬅️ Về danh sách"]]
    for forged in (
        f"rgl:edit:{registration.id}",
        f"rgl:field:{registration.id}:members",
        f"rgl:clear:{registration.id}:address",
        f"rgl:wd:{registration.id}",
        f"rgl:wd!:{registration.id}",
    ):
        await chat.press_data(card, forged, expect=0)
        assert chat.last_callback_answer["text"].startswith("Đã qua ngày khóa đánh giá"), forged
    unchanged = await storage.registrations.get(registration.id)
    assert (unchanged.status, unchanged.members, unchanged.address) == (
        Status.REGISTERED,
        4,
        "Số 5, ngõ 12",
    )
    assert await storage.audit.entries("registration.edited") == []
    assert await storage.audit.entries("registration.withdrawn") == []


async def test_an_answer_typed_after_the_lock_is_not_saved(bot, api, storage, enrol, hamlets):
    head = await enrol(835, Role.HAMLET_HEAD, "00070/Thôn Đông")
    registration = await register(storage, head, hamlets["Thôn Đông"])
    chat = api.person(835)
    bot.clock = lambda: datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 23:00 on the lock day
    await chat.send("/danhsach")
    await chat.press("GD-2026-00001 · Nguyễn Văn An")
    await chat.press("✏️ Sửa")
    (question,) = await chat.press("Số nhân khẩu: 4")
    bot.clock = lambda: datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # midnight: locked
    reply, closed = await chat.send("5", expect=2)
    assert reply.text.startswith("Đã qua ngày khóa đánh giá (30/11/2026)")
    assert closed.message_id == question.message_id and closed.buttons == []  # nothing to press
    assert (await storage.registrations.get(registration.id)).members == 4


async def test_others_cannot_see_or_act(bot, api, storage, enrol, hamlets):
    bot.clock = lambda: MARCH
    head = await enrol(840, Role.HAMLET_HEAD, "00070/Thôn Đông")
    neighbour = await enrol(841, Role.HAMLET_HEAD, "00070/Thôn Tây")
    far_staff = await enrol(842, Role.STAFF, "00073")
    chair = await enrol(843, Role.BRANCH_CHAIR, "00070")
    colleague = await enrol(844, Role.HAMLET_HEAD, "00070/Thôn Đông")
    registration = await register(storage, head, hamlets["Thôn Đông"])
    rid = registration.id

    neighbour_chat = api.person(841)
    (listing,) = await neighbour_chat.send("/danhsach")
    assert item_labels(listing) == []
    for forged in (f"rgl:show:{rid}", f"rgl:field:{rid}:members", f"rgl:wd!:{rid}"):
        await neighbour_chat.press_data(listing, forged, expect=0)
        assert neighbour_chat.last_callback_answer["text"] == DENIED

    staff_chat = api.person(842)
    (listing,) = await staff_chat.send("/danhsach")
    assert "Chưa có bản đăng ký nào tại Phường Cửa Nam" in listing.text
    for forged in (f"rgl:edit:{rid}", f"rgl:wd!:{rid}"):
        await staff_chat.press_data(listing, forged, expect=0)
        assert staff_chat.last_callback_answer["text"] == DENIED

    # A branch chair and another head of the same hamlet see the card and may self-assess it,
    # but may not change or withdraw it.
    for chat in (api.person(843), api.person(844)):
        await chat.send("/danhsach")
        (card,) = await chat.press("GD-2026-00001 · Nguyễn Văn An")
        assert "Chủ hộ: Nguyễn Văn An" in card.text
        assert card.buttons == [["📝 Tự đánh giá"], ["⬅️ Về danh sách"]]
        await chat.press_data(card, f"rgl:wd!:{rid}", expect=0)
        assert chat.last_callback_answer["text"] == DENIED
        await chat.press_data(card, f"rgl:field:{rid}:members", expect=0)
        assert chat.last_callback_answer["text"] == DENIED
        (nudge,) = await chat.send("9")  # no question was opened: the main actions
        assert nudge.text.startswith("Xin chào")

    unchanged = await storage.registrations.get(rid)
    assert (unchanged.status, unchanged.members) == (Status.REGISTERED, 4)
    denied = await storage.audit.entries("access.denied")
    assert [(e.actor_id, e.after["action"]) for e in denied] == [
        (neighbour.id, "registration.show"),
        (neighbour.id, "registration.edit"),
        (neighbour.id, "registration.withdraw"),
        (far_staff.id, "registration.edit"),
        (far_staff.id, "registration.withdraw"),
        (chair.id, "registration.withdraw"),
        (chair.id, "registration.edit"),
        (colleague.id, "registration.withdraw"),
        (colleague.id, "registration.edit"),
    ]
    assert {e.after["registration_id"] for e in denied} == {rid}
    assert await storage.audit.entries("registration.edited") == []


async def test_admin_changes_programme_dates(bot, api, storage, enrol, hamlets):
    bot.clock = lambda: MARCH
    admin = await enrol(850, Role.ADMIN)
    chat = api.person(850)

    (dates,) = await chat.send("/namhoc 01")
    assert dates.text == (
        "Năm 2026 tại Thành phố Hà Nội (01):\nHạn chót đăng ký: 31/01/2026\n"
        "Khóa đánh giá (được sửa bản đăng ký đến hết ngày này): 30/11/2026\n"
        "Công nhận: 31/12/2026"
    )
    (question,) = await chat.press("Đổi: khóa đánh giá")
    assert question.text.startswith("Ngày mới cho mốc “khóa đánh giá” năm 2026?")
    (retry,) = await chat.send("31/02/2026")
    assert retry.text.startswith("Xin lỗi, tôi không đọc được ngày này.")
    (retry,) = await chat.send("15/11/2025")
    assert retry.text.startswith("Xin vui lòng nhập một ngày trong năm 2026")
    (retry,) = await chat.send("15/01/2026")  # before registration closes on 31/01
    assert retry.text.startswith("Các mốc phải theo đúng thứ tự")
    assert "31/01/2026, 15/01/2026, 31/12/2026" in retry.text
    assert (await storage.registrations.programme_year("01", 2026)).evaluation_lock == date(
        2026, 11, 30
    )
    saved, dates = await chat.send("15.11.2026", expect=2)
    assert saved.text == "Đã lưu."
    assert "Khóa đánh giá (được sửa bản đăng ký đến hết ngày này): 15/11/2026" in dates.text
    stored = await storage.registrations.programme_year("01", 2026)
    assert (stored.registration_close, stored.evaluation_lock, stored.recognition) == (
        date(2026, 1, 31),
        date(2026, 11, 15),
        date(2026, 12, 31),
    )
    (entry,) = await storage.audit.entries("programme_year.set")
    assert entry.actor_id == admin.id and entry.subject_id == "01/2026"
    assert entry.before["evaluation_lock"] == "2026-11-30"
    assert entry.after["evaluation_lock"] == "2026-11-15"

    (ask,) = await chat.send("/namhoc")
    assert ask.text.startswith("Tỉnh, thành phố nào?")
    (retry,) = await chat.send("99")
    assert retry.text.startswith("Không tìm thấy mã tỉnh này.")
    (dates,) = await chat.send("01")
    assert "Khóa đánh giá (được sửa bản đăng ký đến hết ngày này): 15/11/2026" in dates.text


async def test_namhoc_is_for_admins_only(bot, api, storage, enrol, hamlets):
    bot.clock = lambda: MARCH
    head = await enrol(860, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(861, Role.ADMIN)
    chat = api.person(860)
    (reply,) = await chat.send("/namhoc 01")
    assert reply.text == "Bạn không có quyền dùng lệnh này."
    (dates,) = await api.person(861).send("/namhoc 01")  # the same command works for an admin
    assert dates.text.startswith("Năm 2026 tại Thành phố Hà Nội (01):")
    await chat.send("/danhsach")
    await chat.press_data(chat.last, "pyr:set:01:2026:lock", expect=0)
    assert chat.last_callback_answer["text"] == DENIED
    (nudge,) = await chat.send("01/11/2026")  # no question was opened: the main actions
    assert nudge.text.startswith("Xin chào")
    (denied,) = await storage.audit.entries("access.denied")
    assert denied.actor_id == head.id and denied.after == {
        "action": "button",
        "data": "pyr:set:01:2026:lock",
    }
    assert await storage.audit.entries("programme_year.set") == []
    assert (await storage.registrations.programme_year("01", 2026)).evaluation_lock == date(
        2026, 11, 30
    )


def test_programme_year_on_the_command_line(run_cli):
    assert run_cli("init-db").returncode == 0
    shown = run_cli("programme-year", "--province", "01", "--year", "2026")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1:] == [
        "registration close: 2026-01-31",
        "evaluation lock: 2026-11-30",
        "recognition: 2026-12-31",
    ]
    changed = run_cli(
        "programme-year", "--province", "01", "--year", "2026", "--evaluation-lock", "2026-11-15"
    )
    assert changed.returncode == 0, changed.stderr
    assert "evaluation lock: 2026-11-15" in changed.stdout
    wrong = run_cli(
        "programme-year", "--province", "01", "--year", "2026", "--recognition", "2026-11-01"
    )
    assert wrong.returncode == 2
    assert "must be in order" in wrong.stderr
    again = run_cli("programme-year", "--province", "01", "--year", "2026")
    assert again.stdout.splitlines()[2:] == [
        "evaluation lock: 2026-11-15",
        "recognition: 2026-12-31",
    ]


async def test_stale_drafts_are_discarded_and_owners_told(bot, api, storage, enrol, hamlets):
    now = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
    hamlet = hamlets["Thôn Đông"]
    old = await enrol(870, Role.HAMLET_HEAD, "00070/Thôn Đông")
    old_en = await enrol(871, Role.HAMLET_HEAD, "00070/Thôn Đông", locale="en")
    fresh = await enrol(872, Role.HAMLET_HEAD, "00070/Thôn Đông")
    for person, age in ((old, 31), (old_en, 45), (fresh, 29)):
        draft = await storage.registrations.start_draft(person.id, hamlet.id, 2026)
        await storage.db.write(
            "UPDATE registration_drafts SET updated_at = ? WHERE id = ?",
            (to_db(now - timedelta(days=age)), draft.id),
        )

    for telegram_id in (870, 871, 872):  # a bot can only write to people who wrote to it
        await api.person(telegram_id).send("/toi")

    assert bot.settings.draft_days == 30
    assert len(bot.job_queue.get_jobs_by_name(DRAFT_EXPIRY_JOB)) == 1
    assert await discard_stale_drafts(bot, bot.bot, now) == 2

    assert await storage.registrations.draft_of(old.id) is None
    assert await storage.registrations.draft_of(old_en.id) is None
    assert await storage.registrations.draft_of(fresh.id) is not None
    _me, notice = api.chat_messages(870)
    assert notice.text.startswith(
        "Bản đăng ký còn dang dở của bạn (sửa lần cuối ngày 07/02/2026) đã bị hủy vì không được"
        " cập nhật trong 30 ngày."
    )
    _me, notice_en = api.chat_messages(871)
    assert notice_en.text.startswith("Your unfinished registration, last changed on 24/01/2026")
    assert len(api.chat_messages(872)) == 1
    discarded = await storage.audit.entries("registration_draft.discarded")
    assert sorted(e.before["person_id"] for e in discarded) == [old.id, old_en.id]

    assert await discard_stale_drafts(storage, bot.bot, now) == 0
    assert await discard_stale_drafts(storage, bot.bot, now, days=20) == 1
    assert await storage.registrations.draft_of(fresh.id) is None
