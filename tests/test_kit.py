"""The dialog kit (conversations/kit.py) at work: every dialog is persisted and left with /huy,
which closes the question on screen; a Skip button goes on without the answer. End to end
through /congnhan and /moi (the fake Bot API, a real SQLite file); and indicator texts in
English for a criteria set without English."""

from datetime import datetime

from telegram.ext import ConversationHandler

from bot.i18n import use_locale
from conversations.evidence import render_indicator
from storage.criteria import Indicator, LocalText, ModelKind, Scoring, ScoringKind
from storage.models import Role
from storage.registrations import Registration, Status
from storage.reviews import Decision
from tests.conftest import ROOT
from tests.test_review import FULL_MARKS, REQUIRED, add_photo, register_family, rows


async def assessed_family(api, storage, enrol, hamlets, year):
    """A family whose required evidence is all accepted, ready for a decision."""
    head = await enrol(891, Role.HAMLET_HEAD, "00070/Thôn Đông")
    chair = await enrol(904, Role.BRANCH_CHAIR, "00070")
    staff = await enrol(953, Role.STAFF, "00070", name="Đỗ Văn Duyệt")
    family = await register_family(
        storage, head, hamlets["Thôn Đông"], "Nguyễn Văn Hoà", year, FULL_MARKS
    )
    for n, code in enumerate(REQUIRED):
        evidence = await add_photo(api, storage, family, code, chair, n)
        await storage.reviews.decide(evidence.id, Decision.ACCEPTED, None, staff.id)
    return family


def test_dialogs_are_made_by_the_kit_only():
    made_elsewhere = [
        path.name
        for path in (ROOT / "conversations").glob("*.py")
        if path.name != "kit.py" and "ConversationHandler(" in path.read_text()
    ]
    assert made_elsewhere == []


def test_every_dialog_is_persisted_under_its_name_and_left_with_huy(bot):
    dialogs = [
        h for group in bot.handlers.values() for h in group if isinstance(h, ConversationHandler)
    ]
    assert len(dialogs) == 9
    for dialog in dialogs:
        assert dialog.persistent and dialog.name and dialog.allow_reentry
        (fallback,) = dialog.fallbacks
        assert fallback.commands == frozenset({"huy"})


async def test_huy_closes_the_open_question_and_skip_goes_on_without_the_answer(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    family = await assessed_family(api, storage, enrol, hamlets, registration_open)
    chat = api.person(953)
    await chat.send(f"/congnhan {family.number}")
    *_, ask_number = await chat.press("✅ Công nhận", expect=2)
    assert ask_number.buttons == [["Bỏ qua"]]
    closed, cancelled = await chat.send("/huy", expect=2)
    assert cancelled.text == "Đã hủy. Không có gì thay đổi."
    # Nothing stale is left to press.
    assert (closed.message_id, closed.buttons) == (ask_number.message_id, [])
    assert await storage.reviews.recognition(family.id) is None

    await chat.send(f"/congnhan {family.number}")
    *_, ask_number = await chat.press("✅ Công nhận", expect=2)
    closed, ask_date = await chat.press("Bỏ qua", expect=2)
    assert (closed.message_id, closed.buttons) == (ask_number.message_id, [])
    assert ask_date.text.startswith("Nhập ngày quyết định theo dạng ngày/tháng/năm")
    closed, saved = await chat.press("Bỏ qua", expect=2)
    assert (closed.message_id, closed.buttons) == (ask_date.message_id, [])
    assert saved.text == f"Đã lưu và khoá: {family.number} — được công nhận."
    (row,) = rows(tmp_path / "hoctap.sqlite3", "SELECT * FROM recognitions")
    assert (row["result"], row["decision_number"], row["decision_date"]) == (
        "recognised",
        None,
        None,
    )


async def test_huy_in_moi_forgets_the_role_and_closes_the_area_question(bot, api, enrol, hamlets):
    await enrol(960, Role.STAFF, "00070")
    chat = api.person(960)
    await chat.send("/moi")
    *_, ask_area = await chat.press("trưởng thôn", expect=2)
    assert ask_area.buttons  # the hamlets of the commune
    closed, cancelled = await chat.send("/huy", expect=2)
    assert cancelled.text == "Đã hủy. Chưa tạo mã nào."
    assert (closed.message_id, closed.buttons) == (ask_area.message_id, [])
    assert "invitation" not in bot.user_data.get(960, {})


def test_an_english_reader_sees_the_vietnamese_hint_of_a_set_without_english():
    indicator = Indicator(
        code="GD.1.1",
        text=LocalText(vi="Trẻ em được đến trường"),
        scoring=Scoring(kind=ScoringKind.PASS_FAIL),
        evidence_hint=LocalText(vi="Ảnh giấy khen của con"),
        evidence_required=True,
    )
    moment = datetime(2026, 3, 10)
    registration = Registration(
        id=1,
        number="GD-2026-00001",
        kind=ModelKind.FAMILY,
        year=2026,
        hamlet_id=1,
        commune_code="00070",
        province_code="01",
        criteria_set_id="x",
        name="Nguyễn Văn Hoà",
        head_name="Nguyễn Văn Hoà",
        clan_name=None,
        branch=None,
        members=4,
        school_age_children=2,
        households=None,
        address=None,
        phone=None,
        status=Status.REGISTERED,
        registered_by=1,
        created_at=moment,
        updated_at=moment,
    )
    with use_locale("en"):
        text, _keyboard = render_indicator(registration, indicator, 0, "en")
    assert "Trẻ em được đến trường" in text
    assert "What to send: Ảnh giấy khen của con" in text
