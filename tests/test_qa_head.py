"""What a hamlet head registering the hamlet in January, and a branch chair sending evidence,
met that broke: the real bot, the fake Bot API over HTTP, a real SQLite file. The clock is at
10 January 2027, when the year's registration is open."""

from datetime import UTC, date, datetime

import pytest

from storage.models import Role
from storage.registrations import ProgrammeYear
from tests.test_evidence import picture

JANUARY = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)  # 10:00 on 10/01/2027 in Việt Nam
YEAR = 2027


@pytest.fixture
def january(bot):
    """The bot's clock on 10 January 2027."""
    bot.clock = lambda: JANUARY
    return bot


async def paste_families(chat, lines: list[str]) -> None:
    """/nhapds, a pasted list, Confirm."""
    await chat.send("/nhapds")
    await chat.press("📋 Nhập danh sách")
    await chat.send("\n".join(lines), expect=2)
    await chat.press(f"✅ Đăng ký {len(lines)} gia đình")


async def test_a_head_types_a_number_of_another_hamlet_for_the_self_assessment(
    january, api, storage, enrol, hamlets
):
    """A registration number of another hamlet typed after /danhgia was answered "You do not
    have access", telling that it exists; it must be answered as a number that does not exist,
    as /minhchung, /xemminhchung and /tinhtrang do, and the attempt audited."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(801, Role.HAMLET_HEAD, "00070/Thôn Tây")
    await paste_families(api.person(800), ["Nguyễn Văn An, 4, 1"])
    other = api.person(801)
    (foreign,) = await other.send(f"/danhgia GD-{YEAR}-00001")
    (missing,) = await other.send(f"/danhgia GD-{YEAR}-00099")
    assert foreign.text == missing.text.replace("00099", "00001")
    assert foreign.buttons == []
    denied = await storage.audit.entries("access.denied")
    assert [e.after["number"] for e in denied] == [f"GD-{YEAR}-00001"]


def live_screens(chat) -> list[str]:
    """The first lines of the bot's messages in the chat that still have buttons."""
    return [m.text.split("\n")[0] for m in chat.messages if m.buttons]


async def test_a_chair_sends_photos_an_album_and_a_file_then_stops(
    january, api, storage, enrol, hamlets
):
    """Each receipt of a photo, an album or a refused file came with its own "Xong" button and
    the earlier ones kept theirs, so after a few photos the chat held a column of live screens,
    and /huy ("Stopped") left all of them to press; now the latest receipt is the one screen,
    and /huy takes its buttons away."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(900, Role.BRANCH_CHAIR, "00070/Thôn Đông")
    await paste_families(api.person(800), ["Nguyễn Văn An, 4, 1"])
    chair = api.person(900)
    await chair.send(f"/minhchung GD-{YEAR}-00001")
    await chair.press("⬜ Trẻ em đi học đúng tuổi *")
    *_, one = await chair.send_photo(picture(4))
    assert one.text.startswith("Đã lưu 1 ảnh cho Trẻ em đi học đúng tuổi.")
    await chair.send_album([picture(5), picture(6), picture(7)])
    *_, refused = await chair.send_document(b"%PDF-1.4 fake", "giay.pdf", "application/pdf")
    assert refused.text.startswith("Tệp này không phải là ảnh.")
    *_, last = await chair.send_photo(picture(8))
    assert live_screens(chair) == ["Đã lưu 1 ảnh cho Trẻ em đi học đúng tuổi."]
    assert chair.messages[-1].message_id == last.message_id
    *_, stopped = await chair.send("/huy", expect=2)
    assert stopped.text == "Đã dừng. Các ảnh đã gửi vẫn được lưu."
    assert live_screens(chair) == []
    assert (await storage.evidence.counts(1)) == {"GD.1.1": 5}


async def test_a_head_back_from_another_command_types_the_answer_on_the_resume_screen(
    january, api, storage, enrol, hamlets
):
    """Half way through /dangky a head checks /toi, sends /dangky again and, on "continue or
    start over?", types the answer to the question he was at (4 people): it was met with
    silence (or the greeting for messages outside a dialog) and lost. Typing an answer there
    means going on: it is taken as the answer, and the next question is the screen."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)
    await head.send("/dangky")
    await head.press("Gia đình học tập")
    await head.send("pham van duc", expect=2)
    await head.send("/toi")
    *_, resume = await head.send("/dangky", expect=2)
    assert resume.text.startswith("Bạn có một đăng ký đang làm dở (bước 3/5).")
    *_, step = await head.send("4", expect=2)
    assert step.text.startswith("Bước 4/5\n")
    assert live_screens(head) == ["Bước 4/5"]
    draft = await storage.registrations.draft_of((await storage.people.by_telegram_id(800)).id)
    assert draft.answers["members"] == 4 and draft.answers["head_name"] == "Pham Van Duc"


async def test_a_head_checks_his_account_while_pasting_a_long_list(
    january, api, storage, enrol, hamlets
):
    """A head pastes the first part of a long list, looks at /toi, and pastes the rest: the
    rest was answered with the greeting for messages outside a dialog (or nothing, within a
    minute) and lost, since any command ended the list's dialog. A command that only shows
    something leaves the list open; one of another dialog still ends it."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)
    await head.send("/nhapds")
    await head.press("📋 Nhập danh sách")
    await head.send("Nguyễn Văn An, 4, 1\nTrần Thị Bình, 3, 0", expect=2)
    (account,) = await head.send("/toi")
    assert account.text.startswith("Tài khoản của bạn")
    *_, screen = await head.send("Lê Văn Cường, 5, 2", expect=2)
    assert "Đã đọc 3 dòng." in screen.text
    assert live_screens(head) == [f"📋 Danh sách gia đình, Thôn Đông, năm {YEAR}"]
    await head.send("/dangky")
    await head.press("Gia đình học tập")
    (record, step) = await head.send("Hoàng Văn Dũng", expect=2)  # /dangky's answer, not a line
    assert step.text.startswith("Bước 3/5") and record.text == "✔️ Chủ hộ: Hoàng Văn Dũng"


async def test_a_head_leaves_dangky_half_way_to_fix_a_family_in_danhsach(
    january, api, storage, enrol, hamlets
):
    """A head leaves /dangky at its first question to correct a family's number of people in
    /danhsach, and types it: the unfinished /dangky took the number as its own answer ("that
    does not look like a full name") and the correction was lost. Opening another dialog now
    leaves the unfinished one (its draft is kept for /dangky)."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)
    await paste_families(head, ["Nguyễn Văn An, 4, 1"])
    await head.send("/dangky")
    await head.press("Gia đình học tập")
    await head.send("/danhsach")
    await head.press(f"GD-{YEAR}-00001 · Nguyễn Văn An")
    await head.press("✏️ Sửa")
    await head.press("Số nhân khẩu: 4")
    *_, card = await head.send("12", expect=2)
    assert "Số nhân khẩu: 12" in card.text
    (family,) = await storage.registrations.search(None, YEAR, "an")
    assert family.members == 12
    *_, resume = await head.send("/dangky", expect=2)
    assert resume.text.startswith("Bạn có một đăng ký đang làm dở (bước 2/5).")


async def test_a_head_cancels_a_pasted_list_and_last_years_families_with_huy(
    january, api, storage, enrol, hamlets
):
    """/huy on a pasted list, or on last year's families, said "Cancelled. Nothing was
    registered." but left the screen's buttons, among them "Register 1 family", to press."""
    await enrol(700, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await storage.registrations.set_programme_year(
        ProgrammeYear(
            province_code="01",
            year=YEAR - 1,
            registration_close=date(YEAR - 1, 12, 31),
            evaluation_lock=date(YEAR - 1, 12, 31),
            recognition=date(YEAR - 1, 12, 31),
        )
    )
    january.clock = lambda: datetime(YEAR - 1, 6, 1, 3, 0, tzinfo=UTC)
    await paste_families(api.person(700), ["Lê Văn Cường, 5, 2"])
    january.clock = lambda: JANUARY
    head = api.person(800)
    await head.send("/nhapds")
    await head.press("📋 Nhập danh sách")
    await head.send("Nguyễn Văn Khách, 4, 1", expect=2)
    *_, cancelled = await head.send("/huy", expect=2)
    assert cancelled.text == "Đã hủy. Chưa có đăng ký nào được lưu."
    assert live_screens(head) == []
    await head.send("/nhapds")
    (carry,) = await head.press("🔁 Đăng ký lại từ năm trước")
    assert carry.buttons[0] == ["✅ Lê Văn Cường"]
    await head.send("/huy", expect=2)
    assert live_screens(head) == []
    assert await storage.registrations.search(None, YEAR, "cuong") == []


async def test_a_head_types_his_answer_to_cancel_the_registration(
    january, api, storage, enrol, hamlets
):
    """After /huy in /dangky ("Cancel this registration?"), people type "khong" or "co"
    instead of tapping: it got the greeting for messages outside a dialog, or nothing within a
    minute of it; now it is told to tap, and the question keeps its buttons."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)
    await head.send("chao")  # the greeting for a message outside a dialog
    await head.send("/dangky")
    await head.press("Gia đình học tập")
    *_, question = await head.send("/huy", expect=2)
    assert question.text == "Hủy đăng ký này? Mọi thông tin đã nhập sẽ bị xóa."
    (told,) = await head.send("khong")
    assert told.text == "Xin vui lòng trả lời bằng các nút ở trên."
    assert live_screens(head)[-1] == question.text
    (kept,) = await head.press("Không, làm tiếp")
    assert kept.text.startswith("Bước 2/5")


async def test_a_chair_sends_an_album_before_choosing_the_indicator(
    january, api, storage, enrol, hamlets
):
    """An album sent on /minhchung's list or checklist, before a registration and an
    indicator are chosen, got "Please choose an indicator first." once per photo (three for
    three), not saying that the photos were not kept; now one answer says so and what to do."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(900, Role.BRANCH_CHAIR, "00070/Thôn Đông")
    await paste_families(api.person(800), ["Nguyễn Văn An, 4, 1"])
    chair = api.person(900)
    await chair.send("/minhchung")
    (early,) = await chair.send_album([picture(1), picture(2), picture(3)], quiet=0.5)
    assert early.text == (
        "Ảnh chưa được lưu: xin chọn một bản đăng ký ở trên trước, rồi gửi lại ảnh."
    )
    await chair.send("nguyen van an", expect=2)
    (early,) = await chair.send_album([picture(1), picture(2), picture(3)], quiet=0.5)
    assert early.text == "Ảnh chưa được lưu: xin chọn một chỉ tiêu ở trên trước, rồi gửi lại ảnh."
    assert await storage.evidence.counts(1) == {}


async def test_a_head_back_from_danhsach_taps_the_question_he_left(
    january, api, storage, enrol, hamlets
):
    """Opening /danhsach leaves an unfinished /dangky (its draft kept); a tap on the question
    left on screen goes on with it, as "Continue" would, instead of "no longer valid"."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)
    await head.send("/dangky")
    await head.press("Gia đình học tập")
    await head.send("Phạm Văn Đức", expect=2)
    await head.send("/danhsach")
    (step,) = await head.press("4")
    assert step.text.startswith("Bước 4/5")
    *_, summary = await head.send("1", expect=2)  # typed, on the dialog taken up again
    assert summary.text.startswith("Bước 5/5")
    assert "• Số nhân khẩu: 4\n• Trẻ em trong độ tuổi đi học: 1" in summary.text


async def test_a_chair_looks_at_the_photos_sent_then_sends_more(
    january, api, storage, enrol, hamlets
):
    """A chair sending photos for an indicator looks at them with /xemminhchung, then goes
    on sending photos: they are stored for the same indicator, not met with the greeting."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(900, Role.BRANCH_CHAIR, "00070/Thôn Đông")
    await paste_families(api.person(800), ["Nguyễn Văn An, 4, 1"])
    chair = api.person(900)
    number = f"GD-{YEAR}-00001"
    await chair.send(f"/minhchung {number}")
    await chair.press("⬜ Trẻ em đi học đúng tuổi *")
    await chair.send_photo(picture(4), expect=2)
    await chair.send(f"/xemminhchung {number}", expect=2)
    *_, more = await chair.send_photo(picture(5))
    assert more.text.startswith("Đã lưu 1 ảnh cho Trẻ em đi học đúng tuổi.")
    assert live_screens(chair)[-1] == "Đã lưu 1 ảnh cho Trẻ em đi học đúng tuổi."
    assert await storage.evidence.counts(1) == {"GD.1.1": 2}


async def test_a_head_with_an_unfinished_registration_taps_register_on_the_greeting(
    january, api, storage, enrol, hamlets
):
    """The greeting's "Register a family or clan" started a new registration at once,
    deleting the unfinished one (a name typed, the head's evening's work) without a word;
    now it asks "continue or start over?", as /dangky does."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)
    await head.send("/dangky")
    await head.press("Gia đình học tập")
    await head.send("Phạm Văn Đức", expect=2)
    await head.send("/danhgia")  # another dialog: /dangky is left, its draft kept
    (greeting,) = await head.send("cam on")
    assert greeting.text.startswith("Xin chào")
    *_, resume = await head.press("📝 Đăng ký gia đình, dòng họ")
    assert resume.text.startswith("Bạn có một đăng ký đang làm dở (bước 3/5).")
    *_, step = await head.press("▶️ Tiếp tục")
    assert step.text.startswith("Bước 3/5")
    draft = await storage.registrations.draft_of((await storage.people.by_telegram_id(800)).id)
    assert draft.answers["head_name"] == "Phạm Văn Đức"


async def test_numbers_typed_as_a_phone_keyboard_makes_easy_are_found(
    january, api, storage, enrol, hamlets
):
    """'gd 2027 1' or 'GD202700001' (no dashes, no zeros: the phone's number pad and space
    are at hand) were taken for a name and found nothing; every command that reads a number
    now reads them as GD-2027-00001, and names a missing one as it is written."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(950, Role.STAFF, "00070")
    head, staff = api.person(800), api.person(950)
    await paste_families(head, ["Nguyễn Văn An, 4, 1"])
    await head.send("/minhchung")
    *_, checklist = await head.send("GD202700001")
    assert "Nguyễn Văn An" in checklist.text and checklist.buttons
    await head.send("/huy")
    (missing,) = await head.send("/xemminhchung đh 2027 7")
    assert missing.text == f"Không có đăng ký nào số DH-{YEAR}-00007."
    *_, card = await staff.send("/tinhtrang gd 2027 1")
    assert f"GD-{YEAR}-00001" in card.text and "Nguyễn Văn An" in card.text
    *_, decision = await staff.send("/congnhan gd-2027-1")
    assert f"GD-{YEAR}-00001" in decision.text and "Nguyễn Văn An" in decision.text
