"""SqlitePersistence on real SQLite files: a dialog that survives a hard kill; round trips."""

import asyncio
import itertools
import json
import sqlite3
import time
import unicodedata
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PersistenceInput,
    filters,
)
from telegram.request import BaseRequest, RequestData

from bot.application import HoctapApplication
from storage.db import Database, migrations
from storage.persistence import SqlitePersistence
from storage.text import nfc

USER_ID = 42
NAME_NFC = "Nguyễn Văn Hoà"
NAME_TYPED = "  " + unicodedata.normalize("NFD", NAME_NFC) + " "  # as some keyboards send it
NAME, AGE = 1, "age"  # one int state and one str state, so both types cross the restart
KEY_JSON = json.dumps([USER_ID, USER_ID])  # (chat_id, user_id) in a private chat


class FakeBotApi(BaseRequest):
    """An offline Bot API: answers the few methods the dialog uses and records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._message_ids = itertools.count(1000)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **kwargs: Any
    ) -> tuple[int, bytes]:
        api = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        self.calls.append((api, params))
        result: object = True
        if api == "getMe":
            result = {"id": 1, "is_bot": True, "first_name": "Học tập", "username": "hoctap_bot"}
        elif api in ("sendMessage", "editMessageText"):
            result = {
                "message_id": params.get("message_id") or next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params["text"],
            }
        elif api != "answerCallbackQuery":
            raise AssertionError(f"the dialog should not call {api}")
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def methods(self) -> list[str]:
        return [api for api, _ in self.calls]

    def sent(self) -> list[tuple[str, str]]:
        """(method, text) of every message sent or edited, in order."""
        return [(api, p["text"]) for api, p in self.calls if "text" in p]


# --- the dialog under test: /start → name → age button → done ---


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await update.effective_message.reply_text("Tên bạn là gì?")
    return NAME


async def got_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    context.user_data["name"] = nfc(update.effective_message.text)
    buttons = [InlineKeyboardButton(a, callback_data=f"age:{a}") for a in ("18-30", "31-60")]
    await update.effective_message.reply_text(
        "Bạn bao nhiêu tuổi?", reply_markup=InlineKeyboardMarkup([buttons])
    )
    return AGE


async def got_age(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer()
    context.user_data["age"] = query.data.removeprefix("age:")
    await query.edit_message_text(f"Cảm ơn {context.user_data['name']}!")
    return ConversationHandler.END


def dialog() -> ConversationHandler:
    return ConversationHandler(
        entry_points=[CommandHandler("start", start)],
        states={
            NAME: [MessageHandler(filters.TEXT & ~filters.COMMAND, got_name)],
            AGE: [CallbackQueryHandler(got_age, pattern=r"^age:")],
        },
        fallbacks=[],
        name="demo",
        persistent=True,
    )


def build_app(
    db: Database, api: FakeBotApi, application_class: type[Application] = HoctapApplication
) -> Application:
    app = (
        Application.builder()
        .token("1:TEST")
        .application_class(application_class)
        .request(api)
        .get_updates_request(api)
        .persistence(SqlitePersistence(db, update_interval=3600))  # the timer never fires
        .build()
    )
    app.add_handler(dialog())
    return app


# --- updates as Telegram sends them ---

PERSON = {"id": USER_ID, "is_bot": False, "first_name": "Hoà", "language_code": "vi"}
CHAT = {"id": USER_ID, "type": "private", "first_name": "Hoà"}
_update_ids = itertools.count(1)


def message(app: Application, text: str) -> Update:
    data: dict[str, Any] = {"message_id": next(_update_ids), "date": 0, "chat": CHAT}
    data |= {"from": PERSON, "text": text}
    if text.startswith("/"):
        data["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return Update.de_json({"update_id": next(_update_ids), "message": data}, app.bot)


def button_press(app: Application, data: str, message_id: int = 1001) -> Update:
    bot_message = {"message_id": message_id, "date": 0, "chat": CHAT, "text": "Bạn bao nhiêu tuổi?"}
    bot_message["from"] = {"id": 1, "is_bot": True, "first_name": "Học tập"}
    query = {"id": "q1", "from": PERSON, "chat_instance": "ci", "data": data}
    query["message"] = bot_message
    return Update.de_json({"update_id": next(_update_ids), "callback_query": query}, app.bot)


# --- fixtures and raw reads ---


@pytest.fixture
async def open_db(tmp_path: Path) -> AsyncIterator[Callable[[], Any]]:
    """Opens migrated connections to tmp_path/bot.sqlite3; closes them all after the test."""
    opened: list[Database] = []

    async def _open() -> Database:
        db = await Database.open(tmp_path / "bot.sqlite3")
        await db.migrate()
        opened.append(db)
        return db

    yield _open
    for db in opened:
        await db.close()


def raw_rows(tmp_path: Path, sql: str) -> list[tuple[Any, ...]]:
    """What a separate sqlite3 connection sees on disk, i.e. only committed data."""
    conn = sqlite3.connect(tmp_path / "bot.sqlite3")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# --- the dialog across a hard kill ---


async def test_dialog_resumes_after_hard_kill(open_db: Callable[[], Any], tmp_path: Path) -> None:
    api = FakeBotApi()
    app = build_app(await open_db(), api)
    await app.initialize()
    await app.process_update(message(app, "/start"))
    await app.process_update(message(app, NAME_TYPED))
    assert api.sent() == [("sendMessage", "Tên bạn là gì?"), ("sendMessage", "Bạn bao nhiêu tuổi?")]
    # Hard kill: no stop(), no shutdown(), no flush(); `app` is simply abandoned.

    assert raw_rows(tmp_path, "SELECT name, key, state FROM conversations") == [
        ("demo", KEY_JSON, '"age"')
    ]
    [(user_json,)] = raw_rows(tmp_path, f"SELECT data FROM user_data WHERE user_id = {USER_ID}")
    assert user_json == '{"name": "Nguyễn Văn Hoà"}'  # readable UTF-8, no \\u escapes
    assert unicodedata.is_normalized("NFC", json.loads(user_json)["name"])

    api2 = FakeBotApi()
    app2 = build_app(await open_db(), api2)
    async with app2:
        assert app2.user_data[USER_ID] == {"name": NAME_NFC}
        await app2.process_update(button_press(app2, "age:31-60"))
        assert api2.methods() == ["getMe", "answerCallbackQuery", "editMessageText"]
        assert api2.sent() == [("editMessageText", f"Cảm ơn {NAME_NFC}!")]
        # Ending the dialog deleted its row at the end of that update, before any shutdown.
        assert raw_rows(tmp_path, "SELECT * FROM conversations") == []
        assert raw_rows(tmp_path, "SELECT data FROM user_data") == [
            ('{"name": "Nguyễn Văn Hoà", "age": "31-60"}',)
        ]


async def test_without_write_per_update_a_kill_loses_the_step(
    open_db: Callable[[], Any], tmp_path: Path
) -> None:
    """The control: PTB's own Application writes on the timer only, so nothing is on disk yet."""
    app = build_app(await open_db(), FakeBotApi(), application_class=Application)
    await app.initialize()
    await app.process_update(message(app, "/start"))
    await app.process_update(message(app, NAME_TYPED))
    assert raw_rows(tmp_path, "SELECT * FROM conversations") == []
    assert raw_rows(tmp_path, "SELECT * FROM user_data") == []


async def test_restart_on_a_stale_button_does_nothing(
    open_db: Callable[[], Any], tmp_path: Path
) -> None:
    """A finished dialog is gone for good: pressing its old button after a restart is ignored."""
    api = FakeBotApi()
    async with build_app(await open_db(), api) as app:
        for update in (message(app, "/start"), message(app, NAME_NFC)):
            await app.process_update(update)
        await app.process_update(button_press(app, "age:18-30"))
    api2 = FakeBotApi()
    async with build_app(await open_db(), api2) as app2:
        await app2.process_update(button_press(app2, "age:31-60"))
        assert api2.methods() == ["getMe"]
        assert app2.user_data[USER_ID] == {"name": NAME_NFC, "age": "18-30"}


async def test_data_that_cannot_be_stored_goes_to_the_error_handler_the_rest_is_written(
    open_db: Callable[[], Any], tmp_path: Path
) -> None:
    """As in PTB's own persistence run: a piece that cannot be written (a tuple would come back
    a list) reaches the error handlers, and the update's other pieces are still committed."""
    errors: list[BaseException] = []

    async def keep_a_tuple(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        context.user_data["pair"] = (1, 2)
        context.bot_data["seen"] = 1

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    app = build_app(await open_db(), FakeBotApi())
    app.add_handler(CommandHandler("start", keep_a_tuple), group=1)
    app.add_error_handler(on_error)
    async with app:
        await app.process_update(message(app, "/start"))
        assert [type(e) for e in errors] == [TypeError]
        assert "round-trippable" in str(errors[0])
        assert raw_rows(tmp_path, "SELECT name, key, state FROM conversations") == [
            ("demo", KEY_JSON, str(NAME))
        ]
        assert raw_rows(tmp_path, "SELECT data FROM bot_data") == [('{"seen": 1}',)]
        assert raw_rows(tmp_path, "SELECT data FROM user_data") == []


# --- the persistence methods, read back through a second connection ---


async def test_store_data_default_leaves_callback_data_out(open_db: Callable[[], Any]) -> None:
    persistence = SqlitePersistence(await open_db())
    assert persistence.store_data == PersistenceInput(
        bot_data=True, chat_data=True, user_data=True, callback_data=False
    )
    assert persistence.update_interval == 60


async def test_conversation_keys_and_states_round_trip(open_db: Callable[[], Any]) -> None:
    writer = SqlitePersistence(await open_db())
    await writer.update_conversation("demo", (-1001234, 42), 1)
    await writer.update_conversation("demo", (7, 8), "age")
    await writer.update_conversation("demo", (7, 8, "inline-1"), 2)
    await writer.update_conversation("other", (-1001234, 42), "x")
    await writer.update_conversation("demo", (7, 8, "inline-1"), None)

    reader = SqlitePersistence(await open_db())
    demo = await reader.get_conversations("demo")
    assert demo == {(-1001234, 42): 1, (7, 8): "age"}
    assert {type(k) for k in demo} == {tuple}
    assert [type(s) for s in demo.values()] == [int, str]
    assert await reader.get_conversations("other") == {(-1001234, 42): "x"}
    assert await reader.get_conversations("missing") == {}

    demo[(9, 9)] = 3  # callers get a fresh dict, not a shared cache
    assert (9, 9) not in await reader.get_conversations("demo")


async def test_bot_chat_and_user_data_round_trip(open_db: Callable[[], Any]) -> None:
    writer = SqlitePersistence(await open_db())
    await writer.update_bot_data({"welcome": "Chào mừng", "counts": [1, 2]})
    await writer.update_chat_data(-1001234, {"hamlet": "Thôn Đông", "ids": [3]})
    await writer.update_user_data(42, {"lang": "vi"})
    await writer.update_user_data(42, {"lang": "en"})  # replaces, not appends
    await writer.update_user_data(43, {"lang": "vi"})

    reader = SqlitePersistence(await open_db())
    assert await reader.get_bot_data() == {"welcome": "Chào mừng", "counts": [1, 2]}
    assert await reader.get_chat_data() == {-1001234: {"hamlet": "Thôn Đông", "ids": [3]}}
    assert await reader.get_user_data() == {42: {"lang": "en"}, 43: {"lang": "vi"}}
    first, second = await reader.get_user_data(), await reader.get_user_data()
    first[42]["lang"] = "fr"
    assert second[42] == {"lang": "en"}


async def test_empty_database_gives_empty_data(open_db: Callable[[], Any]) -> None:
    persistence = SqlitePersistence(await open_db())
    assert await persistence.get_bot_data() == {}
    assert await persistence.get_user_data() == {}
    assert await persistence.get_chat_data() == {}
    assert await persistence.get_callback_data() is None


async def test_drop_deletes_rows(open_db: Callable[[], Any], tmp_path: Path) -> None:
    persistence = SqlitePersistence(await open_db())
    await persistence.update_user_data(42, {"lang": "vi"})
    await persistence.update_user_data(43, {"lang": "en"})
    await persistence.update_chat_data(-5, {"a": 1})
    await persistence.drop_user_data(42)
    await persistence.drop_chat_data(-5)
    assert raw_rows(tmp_path, "SELECT user_id FROM user_data") == [(43,)]
    assert raw_rows(tmp_path, "SELECT * FROM chat_data") == []

    await persistence.update_user_data(42, {"lang": "vi"})  # written again after a drop
    assert await SqlitePersistence(await open_db()).get_user_data() == {
        42: {"lang": "vi"},
        43: {"lang": "en"},
    }


async def test_unchanged_data_is_not_rewritten(open_db: Callable[[], Any]) -> None:
    """PTB hands over bot, chat and user data after every update; same JSON, no write."""
    db = await open_db()
    persistence = SqlitePersistence(db)
    await persistence.update_user_data(42, {"lang": "vi"})
    await persistence.update_bot_data({"n": 1})
    before = db.conn.total_changes
    await persistence.update_user_data(42, {"lang": "vi"})
    await persistence.update_bot_data({"n": 1})
    assert db.conn.total_changes == before
    await persistence.update_user_data(42, {"lang": "en"})
    await persistence.update_user_data(43, {"lang": "vi"})
    assert db.conn.total_changes == before + 2


async def test_write_is_not_swallowed_by_a_failing_transaction(
    open_db: Callable[[], Any], tmp_path: Path
) -> None:
    """A persistence write during a handler's open transaction waits for it, not joins it."""
    db = await open_db()
    persistence = SqlitePersistence(db)
    with pytest.raises(RuntimeError, match="handler failed"):
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO chat_data (chat_id, data) VALUES (-5, '{}')")
            write = asyncio.create_task(persistence.update_user_data(42, {"lang": "vi"}))
            await asyncio.sleep(0.05)  # the handler awaits the network; the write gets its turn
            raise RuntimeError("handler failed")
    await write
    assert raw_rows(tmp_path, "SELECT user_id, data FROM user_data") == [(42, '{"lang": "vi"}')]
    assert raw_rows(tmp_path, "SELECT * FROM chat_data") == []


async def test_data_that_json_would_change_is_refused(open_db: Callable[[], Any]) -> None:
    persistence = SqlitePersistence(await open_db())
    with pytest.raises(TypeError, match="round-trippable"):
        await persistence.update_user_data(42, {"scores": {1: "a"}})  # int key would become "1"
    with pytest.raises(TypeError, match="round-trippable"):
        await persistence.update_chat_data(-5, {"pair": (1, 2)})  # tuple would become a list
    assert await persistence.get_user_data() == {}
    assert await persistence.get_chat_data() == {}


async def test_callback_data_round_trips(open_db: Callable[[], Any]) -> None:
    persistence = SqlitePersistence(await open_db())
    data = ([("kb1", 1700000000.5, {"b1": "yes"})], {"q1": "kb1"})
    await persistence.update_callback_data(data)
    assert await SqlitePersistence(await open_db()).get_callback_data() == data


async def test_flush_and_shutdown_leave_the_connection_open(open_db: Callable[[], Any]) -> None:
    db = await open_db()
    async with build_app(db, FakeBotApi()):
        pass  # shutdown() calls update_persistence() and flush()
    assert await db.schema_version() == migrations()[-1][0]
