"""What the bot keeps in memory to answer quickly (issue 15's throughput) never outlives a
change: people, registration drafts and processed update ids, on real SQLite files."""

import asyncio
import sqlite3
from datetime import date

import pytest

from bot.app import build_application
from storage import Storage
from storage.criteria import ModelKind
from storage.db import forget_all
from storage.models import Role
from storage.registrations import ProgrammeYear
from tests.conftest import settings_for


def draft_row(tmp_path, person_id):
    with sqlite3.connect(tmp_path / "hoctap.sqlite3") as conn:
        return conn.execute(
            "SELECT step, answers FROM registration_drafts WHERE person_id = ?", (person_id,)
        ).fetchone()


async def test_a_role_change_and_a_deactivation_hold_from_the_next_message(
    bot, api, storage, enrol, hamlets
):
    head = await enrol(900, Role.HAMLET_HEAD, "00070/Thôn Đông")
    chat = api.person(900)
    (card,) = await chat.send("/toi")  # the gate has read (and kept) the person
    assert "trưởng thôn" in card.text
    await storage.people.change_role(head.id, Role.BRANCH_CHAIR, head.area_id)
    (refused,) = await chat.send("/dangky")
    assert refused.text == "Bạn không có quyền dùng lệnh này."
    await storage.people.set_active(head.id, False)
    (turned_away,) = await chat.send("/toi")
    assert turned_away.text.startswith("Bạn chưa được đăng ký sử dụng bot")


async def test_a_person_read_inside_a_rolled_back_enrolment_is_not_kept(storage, hamlets):
    """Inside its own transaction a task reads on the shared connection and sees its
    uncommitted enrolment; a read made then must not be kept, or the gate would let in
    someone whose enrolment failed. Another task reads as committed and does not see it."""
    read = asyncio.Event()

    async def enrol_then_fail() -> None:
        async with storage.db.transaction():
            await storage.people.add(
                901, "Lê Văn Tám", "+84912345678", Role.HAMLET_HEAD, hamlets["Thôn Tây"].id, "vi"
            )
            assert (await storage.people.by_telegram_id(901)) is not None  # uncommitted, seen
            await read.wait()
            raise RuntimeError("invite used meanwhile")

    enrolling = asyncio.create_task(enrol_then_fail())
    await asyncio.sleep(0.05)
    assert (await storage.people.by_telegram_id(901)) is None  # as committed: not yet there
    read.set()
    with pytest.raises(RuntimeError):
        await enrolling
    assert await storage.people.by_telegram_id(901) is None


async def test_a_draft_saved_during_an_update_is_committed_with_it(
    storage, enrol, hamlets, tmp_path
):
    head = await enrol(902, Role.HAMLET_HEAD, "00070/Thôn Đông")
    draft = await storage.registrations.start_draft(head.id, hamlets["Thôn Đông"].id, 2026)
    db = storage.db
    with db.update_writes():
        await storage.registrations.save_draft(draft.model_copy(update={"step": 1}))
        assert draft_row(tmp_path, head.id) == (0, "{}")  # held back for the update's commit
        assert (await storage.registrations.draft_of(head.id)).step == 1  # read from memory
        forget_all(db.take_update_writes())  # as if the update's commit failed
    assert (await storage.registrations.draft_of(head.id)).step == 0

    with db.update_writes():
        await storage.registrations.save_draft(
            draft.model_copy(update={"step": 2, "answers": {"kind": "family"}})
        )
        await db.write_many([(sql, params) for sql, params, _ in db.take_update_writes()])
        await storage.registrations.save_draft(draft.model_copy(update={"step": 3}))
        assert draft_row(tmp_path, head.id)[0] == 3  # after the update's writes were taken
    assert draft_row(tmp_path, head.id) == (3, "{}")

    await storage.registrations.save_draft(draft.model_copy(update={"step": 4}))  # no update
    assert draft_row(tmp_path, head.id)[0] == 4
    changed = await storage.registrations.draft_of(head.id)
    changed.answers["kind"] = "clan"  # a caller changing its copy changes nothing kept
    assert (await storage.registrations.draft_of(head.id)).answers == {}


async def test_processed_update_ids_survive_a_restart(api, storage, enrol, tmp_path):
    await enrol(903, Role.STAFF, "00070")
    app = build_application(settings_for(api, tmp_path), storage)
    async with app:
        bot_id = app.bot.id
        assert not await storage.updates.seen(bot_id, 77)
        await storage.updates.record(bot_id, 77)
        assert await storage.updates.seen(bot_id, 77)
    reopened = await Storage.open(tmp_path / "hoctap.sqlite3")
    try:
        assert await reopened.updates.seen(bot_id, 77)
        assert not await reopened.updates.seen(bot_id, 78)
        await reopened.updates.forget_below(bot_id, 78)
        assert not await reopened.updates.seen(bot_id, 77)
    finally:
        await reopened.close()


async def test_programme_year_and_activation_changed_by_another_process_hold_at_once(
    storage, tmp_path
):
    """The command line changes them from another process while the bot runs; they are read
    as committed on every use (`Database.read_small`), never kept, so the next read sees it."""
    assert (await storage.registrations.programme_year("01", 2026)).registration_close.day == 31
    assert await storage.criteria.activated_id("01", 2026, ModelKind.FAMILY) is None
    set_id = (await storage.criteria.in_force("01", 2026, ModelKind.FAMILY)).set_id  # stored
    with sqlite3.connect(tmp_path / "hoctap.sqlite3") as other:  # as `python -m bot …` would
        other.execute(
            "INSERT INTO programme_years VALUES ('01', 2026, '2026-02-15', '2026-11-30',"
            " '2026-12-31')"
        )
        other.execute(
            "INSERT INTO criteria_activations (province_code, year, model_kind,"
            " criteria_set_id, activated_at) VALUES ('01', 2026, 'family', ?, '2026-01-01')",
            (set_id,),
        )
    assert (await storage.registrations.programme_year("01", 2026)).registration_close.day == 15
    assert await storage.criteria.activated_id("01", 2026, ModelKind.FAMILY) == set_id


async def test_a_programme_year_written_in_an_open_transaction_is_read_back_by_it(storage):
    """Inside its own transaction a task reads its own uncommitted dates; others do not."""
    dates = ProgrammeYear.default("01", 2027).model_copy(
        update={"registration_close": date(2027, 3, 1)}
    )
    async with storage.db.transaction():
        await storage.registrations.set_programme_year(dates)
        assert await storage.registrations.programme_year("01", 2027) == dates
        assert storage.db._local is None or (
            storage.db._local.execute("SELECT COUNT(*) FROM programme_years").fetchone()[0] == 0
        )
    assert await storage.registrations.programme_year("01", 2027) == dates
