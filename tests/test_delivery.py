"""Delivery: a redelivered update is handled once; an update is confirmed only when done."""

import asyncio
import sqlite3

from telegram import Update
from telegram.ext import TypeHandler

from bot.app import build_application
from bot.runner import polling
from storage.models import Role
from tests.conftest import settings_for


async def confirmed(api, update_id, timeout=10.0):
    """Wait until the bot confirmed `update_id`, then a little for stray answers."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while api.confirmed_offset <= update_id:
        assert loop.time() < deadline, f"update {update_id} never confirmed"
        await api.wait_for_change(0.1)
    await asyncio.sleep(0.5)


async def asked_past(api, mark, update_id, timeout=10.0):
    """Wait until, after call number `mark`, a getUpdates asked for updates past `update_id`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(
        name == "getUpdates" and params.get("offset", 0) > update_id
        for name, params in api.calls[mark:]
    ):
        assert loop.time() < deadline, f"update {update_id} never confirmed"
        await api.wait_for_change(0.1)
    await asyncio.sleep(0.3)


def processed(db_path, update_id):
    with sqlite3.connect(db_path) as conn:
        query = "SELECT COUNT(*) FROM processed_updates WHERE update_id = ?"
        return conn.execute(query, (update_id,)).fetchone()[0]


async def test_the_same_update_twice_is_answered_once(bot, api, storage, hamlets, tmp_path):
    invite = await storage.invites.create(Role.HAMLET_HEAD, hamlets["Thôn Đông"].id)
    lan = api.person(700)
    await lan.send(f"/start {invite.code}")
    await lan.press("✅ Đúng, tiếp tục", expect=2)

    before = len(lan.messages)
    await lan.send("Nguyễn Thị Lan", wait=False)
    payload = api.pending_updates()[-1]
    api.add_update(dict(payload))  # redelivered: the same update_id
    await confirmed(api, payload["update_id"])
    (reply,) = lan.messages[before:]
    assert reply.text.startswith("Bước 3/4")  # not also "not a mobile number" for the copy
    assert processed(tmp_path / "hoctap.sqlite3", payload["update_id"]) == 1

    await lan.send("0912000700", expect=2)
    await lan.press("Tiếng Việt", expect=2)
    with sqlite3.connect(tmp_path / "hoctap.sqlite3") as conn:
        rows = conn.execute("SELECT full_name FROM people WHERE telegram_id = 700").fetchall()
    assert rows == [("Nguyễn Thị Lan",)]


async def test_an_update_redelivered_after_a_restart_is_skipped(api, storage, enrol, tmp_path):
    await enrol(701, Role.STAFF, "00070")
    person = api.person(701)
    settings = settings_for(api, tmp_path)
    first_bot = build_application(settings, storage)
    handling, release = asyncio.Event(), asyncio.Event()

    async def hold(update: Update, context) -> None:
        handling.set()
        await release.wait()

    first_bot.add_handler(TypeHandler(Update, hold), group=-200)
    async with polling(first_bot, poll_timeout=0.5):
        await person.send("/toi", wait=False)
        update_id = api.last_update_id
        await asyncio.wait_for(handling.wait(), 5)
        # As if the process died after answering, before the next getUpdates confirmed it.
        api.fail_next("getUpdates", 1000, 502, "Bad Gateway")
        release.set()
        await asyncio.wait_for(answered(api, person), 10)  # answered, never confirmed
    api.recover("getUpdates")
    assert api.confirmed_offset <= update_id  # Telegram will send it again
    mark = len(api.calls)
    async with polling(build_application(settings, storage), poll_timeout=0.5):
        await asked_past(api, mark, update_id)
    assert len(person.messages) == 1 and person.messages[0].text.startswith("Tài khoản của bạn")


async def answered(api, person) -> None:
    while not person.messages:
        await api.wait_for_change(0.1)


async def test_an_update_is_confirmed_only_after_it_was_answered(bot, api, enrol):
    await enrol(702, Role.STAFF, "00070")
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(update: Update, context) -> None:
        if update.message and update.message.text == "/toi":
            started.set()
            await release.wait()

    bot.add_handler(TypeHandler(Update, slow), group=-200)
    person = api.person(702)
    await person.send("/toi", wait=False)
    update_id = api.last_update_id
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.sleep(1.2)  # longer than a long poll: the loop must not have moved on
    assert api.confirmed_offset <= update_id
    assert [u["update_id"] for u in api.pending_updates()] == [update_id]
    release.set()
    (reply,) = await person.wait()
    assert reply.text.startswith("Tài khoản của bạn")
    assert api.confirmed_offset > update_id


async def test_polling_backs_off_and_recovers_when_get_updates_fails(bot, api, enrol):
    await enrol(703, Role.STAFF, "00070")
    api.fail_next("getUpdates", 2, 502, "Bad Gateway")
    (reply,) = await api.person(703).send("/toi", timeout=20)
    assert reply.text.startswith("Tài khoản của bạn")
