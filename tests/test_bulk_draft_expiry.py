"""Lists of /nhapds waiting for confirmation expire as /dangky's drafts do: the daily job
discards them, audited, and tells their owners; a Confirm pressed afterwards registers nothing.
The real bot, the fake Bot API over HTTP, a real SQLite file."""

import sqlite3
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.jobs import discard_stale_drafts
from storage.clock import to_db, utcnow
from storage.models import Role
from storage.registrations import BulkMode

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def count(db_path, sql, *params) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql, params).fetchone()[0]


async def list_pasted(api, telegram_id, lines, enter="📋 Nhập danh sách"):
    chat = api.person(telegram_id)
    await chat.send("/nhapds")
    await chat.press(enter)
    *_, screen = await chat.send("\n".join(lines), expect=2)
    return chat, screen


async def age(storage, person, days, now):
    """The person's list, as if last changed `days` ago."""
    draft = await storage.registrations.bulk_draft_of(person.id, BulkMode.LIST)
    await storage.db.write(
        "UPDATE bulk_drafts SET updated_at = ? WHERE id = ?",
        (to_db(now - timedelta(days=days)), draft.id),
    )
    return draft


async def test_stale_lists_are_discarded_owners_told_and_a_later_confirm_registers_nothing(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    db, now, hamlet = tmp_path / "hoctap.sqlite3", utcnow(), hamlets["Thôn Đông"]
    old = await enrol(960, Role.HAMLET_HEAD, "00070/Thôn Đông")
    old_en = await enrol(961, Role.HAMLET_HEAD, "00070/Thôn Đông", locale="en")
    fresh = await enrol(962, Role.HAMLET_HEAD, "00070/Thôn Đông")
    chat, _screen = await list_pasted(api, 960, ["Đào Văn Một, 3, 1", "Đào Thị Hai"])
    chat_en, _screen = await list_pasted(api, 961, ["Ngô Văn Ba"], enter="📋 Enter a list")
    await chat_en.send("/toi")  # left the list for another command, its screen still there
    chat_fresh, _screen = await list_pasted(api, 962, ["Lò Văn Bốn", "Lò Thị Năm"])
    stale = await age(storage, old, 31, now)
    stale_en = await age(storage, old_en, 45, now)
    await age(storage, fresh, 29, now)
    told = {person: len(api.chat_messages(person)) for person in (960, 961, 962)}

    assert await discard_stale_drafts(bot, bot.bot, now) == 2

    assert await storage.registrations.bulk_draft_of(old.id, BulkMode.LIST) is None
    assert await storage.registrations.bulk_draft_of(old_en.id, BulkMode.LIST) is None
    assert await storage.registrations.bulk_draft_of(fresh.id, BulkMode.LIST) is not None
    assert count(db, "SELECT COUNT(*) FROM bulk_drafts") == 1
    entries = await storage.audit.entries("bulk_draft.discarded")
    assert [(e.subject_type, e.subject_id, e.actor_id) for e in entries] == [
        ("bulk_draft", str(stale.id), None),
        ("bulk_draft", str(stale_en.id), None),
    ]
    assert [e.before["person_id"] for e in entries] == [old.id, old_en.id]
    assert [e.area_id for e in entries] == [hamlet.id, hamlet.id]
    assert [len(e.before["rows"]) for e in entries] == [2, 1]  # the lines as typed, kept
    assert entries[0].after == {"reason": "untouched", "days": 30}

    last_changed = (now - timedelta(days=31)).astimezone(TZ)
    notice = api.chat_messages(960)[-1]
    assert len(api.chat_messages(960)) == told[960] + 1
    assert notice.text.startswith(
        f"Danh sách đang chờ xác nhận của bạn (2 dòng, sửa lần cuối ngày "
        f"{last_changed:%d/%m/%Y}) đã bị hủy vì không được cập nhật trong 30 ngày."
    )
    assert "/nhapds" in notice.text
    notice_en = api.chat_messages(961)[-1]
    assert notice_en.text.startswith("Your list waiting for confirmation (1 line, last changed on")
    assert len(api.chat_messages(962)) == told[962]  # the fresh one's owner hears nothing

    # Confirm on the discarded list's screen: nothing registered, and the screen says why.
    (said,) = await chat.press("✅ Đăng ký 2 gia đình")
    today = (await storage.audit.entries("bulk_draft.discarded"))[0].at.astimezone(TZ)
    assert said.text == (
        "Danh sách này không còn mở: danh sách đã không được cập nhật trong 30 ngày nên đã bị "
        f"hủy ngày {today:%d/%m/%Y}. Chưa dòng nào trong danh sách được đăng ký. Vui lòng gửi lại "
        "danh sách bằng lệnh /nhapds."
    )
    assert said.buttons == []
    (said_en,) = await chat_en.press("✅ Register 1 family")  # outside the dialog since /toi
    assert said_en.text.startswith("This list is no longer open: it was left untouched for 30")
    assert count(db, "SELECT COUNT(*) FROM registrations") == 0
    assert count(db, "SELECT COUNT(*) FROM audit_log WHERE action = 'registration.created'") == 0

    # The fresh list was kept whole and still registers.
    await chat_fresh.press("✅ Đăng ký 2 gia đình")
    assert count(db, "SELECT COUNT(*) FROM registrations WHERE registered_by = ?", fresh.id) == 2

    # Another person's id of a discarded list is only a stale button.
    await chat_fresh.press_data(chat_fresh.last, f"bulk:{stale.id}:ok", expect=0)
    assert chat_fresh.last_callback_answer["text"].startswith("Nút này không còn hiệu lực")


async def test_an_empty_list_is_closed_with_a_notice_of_its_own(
    bot, api, storage, enrol, hamlets, registration_open
):
    now = utcnow()
    head = await enrol(963, Role.HAMLET_HEAD, "00070/Thôn Đông", locale="en")
    chat = api.person(963)
    await chat.send("/nhapds")
    await chat.press("📋 Enter a list")
    await age(storage, head, 30, now)  # exactly the limit: untouched for 30 days
    assert await discard_stale_drafts(bot, bot.bot, now + timedelta(seconds=1)) == 1
    notice = api.chat_messages(963)[-1]
    assert notice.text.startswith("Your list begun with /nhapds (no lines entered, last changed")
    (entry,) = await storage.audit.entries("bulk_draft.discarded")
    assert entry.before["rows"] == []
