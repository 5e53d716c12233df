"""The fake Bot API driven over real HTTP by a real python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import hashlib
import html
import io
import struct
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, EndPointNotFound, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.testkit import FakeBotApi
from bot.testkit._files import image_size

TOKEN = "123456:TEST-TOKEN"
Context = ContextTypes.DEFAULT_TYPE


def png(width: int, height: int, seed: int = 0) -> bytes:
    """A valid grey PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + bytes([(seed + x) % 256 for x in range(width)]) for _ in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


def build_app(api: FakeBotApi) -> Application:
    return (
        Application.builder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )


@asynccontextmanager
async def running(
    api: FakeBotApi, *handlers: BaseHandler[Any, Any, Any]
) -> AsyncIterator[Application]:
    app = build_app(api)
    app.add_handlers(list(handlers))
    async with app:
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


async def echo(update: Update, context: Context) -> None:
    await update.effective_message.reply_text(update.effective_message.text)


MENU = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Yes", callback_data="answer:yes")],
        [InlineKeyboardButton("No thanks", callback_data="answer:no")],
        [InlineKeyboardButton("Docs", url="https://example.org/docs")],
    ]
)


async def show_menu(update: Update, context: Context) -> None:
    await update.effective_message.reply_text("Do you agree?", reply_markup=MENU)


async def on_answer(update: Update, context: Context) -> None:
    query = update.callback_query
    await query.answer(text=f"got {query.data}", show_alert=query.data == "answer:no")
    await query.edit_message_text(f"You chose {query.data}")


# -- basics ------------------------------------------------------------------------------------


async def test_echo_round_trip(api: FakeBotApi) -> None:
    lan = api.person(1001)
    async with running(api, MessageHandler(filters.TEXT, echo)):
        reaction = await lan.send("xin chao")
    assert [m.text for m in reaction] == ["xin chao"]
    assert lan.last.raw["chat"] == {"id": 1001, "type": "private", "first_name": "Lan"}
    assert lan.last.raw["from"]["is_bot"] is True
    assert [name for name, _ in api.calls][:2] == ["getMe", "deleteWebhook"]
    sent = [params for name, params in api.calls if name == "sendMessage"]
    assert sent == [{"chat_id": 1001, "text": "xin chao"}]


async def test_start_command_has_entity_and_args(api: FakeBotApi) -> None:
    seen: list[tuple[str, list[str]]] = []

    async def start(update: Update, context: Context) -> None:
        entity = update.message.entities[0]
        seen.append((entity.type, list(context.args or [])))
        await update.message.reply_text(f"start len={entity.length}")

    lan = api.person(1002)
    async with running(api, CommandHandler("start", start)):
        reaction = await lan.send("/start abc")
    assert [m.text for m in reaction] == ["start len=6"]
    assert seen == [("bot_command", ["abc"])]


async def test_wrong_token_is_rejected(api: FakeBotApi) -> None:
    async with aiohttp.ClientSession() as http:
        response = await http.get(f"{api.base_url}999:WRONG/getMe")
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }


async def test_unknown_method_raises_endpoint_not_found(api: FakeBotApi) -> None:
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")
    assert api.calls[-1] == ("noSuchMethod", {})


async def test_silent_bot_with_expect_zero(api: FakeBotApi) -> None:
    lan = api.person(1003)
    async with running(api, CommandHandler("start", echo)):
        assert await lan.send("not a command", expect=0) == []
        with pytest.raises(AssertionError, match="expected >= 1"):
            await lan.send("still nothing", timeout=0.5)


# -- inline keyboards ----------------------------------------------------------------------------


async def test_inline_press_answers_and_edits(api: FakeBotApi) -> None:
    lan = api.person(1004)
    handlers = (CommandHandler("menu", show_menu), CallbackQueryHandler(on_answer))
    async with running(api, *handlers):
        await lan.send("/menu")
        menu = lan.last
        assert menu.buttons == [["Yes"], ["No thanks"], ["Docs"]]
        assert menu.button_data == {"Yes": "answer:yes", "No thanks": "answer:no"}
        assert menu.url_buttons == {"Docs": "https://example.org/docs"}

        reaction = await lan.press("thanks")  # the only button containing "thanks"
    assert [m.text for m in reaction] == ["You chose answer:no"]
    assert lan.last_callback_answer is not None
    assert lan.last_callback_answer["text"] == "got answer:no"
    assert lan.last_callback_answer["show_alert"] is True
    assert [m.message_id for m in lan.messages] == [menu.message_id]
    assert lan.last.buttons == []  # an edit without reply_markup drops the keyboard
    assert "edit_date" in lan.last.raw


async def test_press_unknown_label_lists_buttons(api: FakeBotApi) -> None:
    lan = api.person(1005)
    async with running(api, CommandHandler("menu", show_menu)):
        await lan.send("/menu")
        with pytest.raises(AssertionError, match=r"no inline button 'Maybe'.*'Yes'"):
            await lan.press("Maybe")


async def test_forged_callback_data_reaches_handler(api: FakeBotApi) -> None:
    received: list[str | None] = []

    async def record(update: Update, context: Context) -> None:
        received.append(update.callback_query.data)
        await update.callback_query.answer()

    lan = api.person(1006)
    async with running(api, CommandHandler("menu", show_menu), CallbackQueryHandler(record)):
        await lan.send("/menu")
        await lan.press_data(lan.last, "admin:delete_everything", expect=0)
    assert received == ["admin:delete_everything"]
    assert lan.last_callback_answer == {"callback_query_id": lan.last_callback_id}


async def test_editing_to_same_content_is_bad_request(api: FakeBotApi) -> None:
    errors: list[str] = []

    async def edit_twice(update: Update, context: Context) -> None:
        await update.callback_query.edit_message_text("Same")
        try:
            await update.callback_query.edit_message_text("Same")
        except BadRequest as error:
            errors.append(error.message)

    lan = api.person(1007)
    async with running(api, CommandHandler("menu", show_menu), CallbackQueryHandler(edit_twice)):
        await lan.send("/menu")
        await lan.press("Yes")
    assert len(errors) == 1
    assert errors[0].startswith("Message is not modified")


# -- reply keyboards and contacts --------------------------------------------------------------


async def test_reply_keyboard_and_shared_contact(api: FakeBotApi) -> None:
    contacts: list[tuple[str, int | None]] = []

    async def ask_phone(update: Update, context: Context) -> None:
        keyboard = [[KeyboardButton("Share my phone", request_contact=True)], ["Cancel"]]
        markup = ReplyKeyboardMarkup(keyboard, one_time_keyboard=True)
        await update.message.reply_text("Your phone?", reply_markup=markup)

    async def got_contact(update: Update, context: Context) -> None:
        contact = update.message.contact
        contacts.append((contact.phone_number, contact.user_id))
        await update.message.reply_text("Thanks", reply_markup=ReplyKeyboardRemove())

    lan = api.person(1008)
    handlers = (CommandHandler("phone", ask_phone), MessageHandler(filters.CONTACT, got_contact))
    async with running(api, *handlers):
        await lan.send("/phone")
        assert lan.reply_buttons == ["Share my phone", "Cancel"]
        assert lan.last.reply_buttons == [["Share my phone"], ["Cancel"]]
        await lan.share_contact(phone="0912345678")
        assert lan.last.keyboard_removed
        assert lan.reply_buttons == []
        await lan.share_contact(phone="0987654321", user_id=2002, first_name="Minh")
    assert contacts == [("0912345678", 1008), ("0987654321", 2002)]


# -- getUpdates semantics ----------------------------------------------------------------------


async def test_confirmed_updates_are_not_redelivered(api: FakeBotApi) -> None:
    lan = api.person(1009)
    first_seen: list[str] = []
    second_seen: list[str] = []

    async def record_into(seen: list[str], update: Update) -> None:
        seen.append(update.message.text)
        await update.message.reply_text(f"ok {update.message.text}")

    async def first(update: Update, context: Context) -> None:
        await record_into(first_seen, update)

    async def second(update: Update, context: Context) -> None:
        await record_into(second_seen, update)

    async with running(api, MessageHandler(filters.TEXT, first)):
        await lan.send("one")
    assert api.confirmed_offset == 2  # update 1 was confirmed
    assert api.pending_updates() == []

    await lan.send("two", wait=False)
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        fetched = await bot.get_updates(timeout=0)  # fetched but not confirmed
    assert [u.update_id for u in fetched] == [2]
    assert [u["update_id"] for u in api.pending_updates()] == [2]

    async with running(api, MessageHandler(filters.TEXT, second)):
        reaction = await lan.wait()
        assert [m.text for m in reaction] == ["ok two"]
        await lan.send("three")
    assert first_seen == ["one"]
    assert second_seen == ["two", "three"]
    assert api.confirmed_offset == 4


async def test_long_poll_returns_when_update_arrives(api: FakeBotApi) -> None:
    lan = api.person(1010)
    url = f"{api.base_url}{TOKEN}/getUpdates"
    async with aiohttp.ClientSession() as http:
        loop = asyncio.get_running_loop()
        started = loop.time()
        empty = await (await http.post(url, data={"timeout": "0.3"})).json()
        assert empty == {"ok": True, "result": []}
        assert loop.time() - started >= 0.3

        poll = asyncio.create_task(http.post(url, json={"offset": 0, "timeout": 5}))
        await asyncio.sleep(0.2)
        started = loop.time()
        await lan.send("wake up", wait=False)
        body = await (await poll).json()
        assert loop.time() - started < 1.0
    assert [u["message"]["text"] for u in body["result"]] == ["wake up"]


# -- files ---------------------------------------------------------------------------------------


async def report_photo(update: Update, context: Context) -> None:
    photo = update.message.photo[-1]
    data = bytes(await (await photo.get_file()).download_as_bytearray())
    digest = hashlib.sha256(data).hexdigest()
    await update.message.reply_text(f"{len(data)} {digest} {photo.width}x{photo.height}")


async def test_photo_from_person_is_downloaded_intact(api: FakeBotApi) -> None:
    image = png(3, 2)
    lan = api.person(1011)
    async with running(api, MessageHandler(filters.PHOTO, report_photo)):
        reaction = await lan.send_photo(image, caption="my certificate")
    expected = f"{len(image)} {hashlib.sha256(image).hexdigest()} 3x2"
    assert [m.text for m in reaction] == [expected]
    photo_update = next(u for n, u in api.calls if n == "getFile")
    assert api.files.get(photo_update["file_id"]).data == image


async def test_download_to_memory_and_get_file_retries(api: FakeBotApi) -> None:
    async def download(update: Update, context: Context) -> None:
        file_id = update.message.photo[-1].file_id
        for attempt in range(1, 4):
            try:
                telegram_file = await context.bot.get_file(file_id)
            except NetworkError as error:
                await update.message.reply_text(f"attempt {attempt} failed: {error.message}")
                continue
            buffer = io.BytesIO()
            await telegram_file.download_to_memory(buffer)
            await update.message.reply_text(f"attempt {attempt}: {len(buffer.getvalue())} bytes")
            return

    image = png(40, 30, seed=7)
    lan = api.person(1012)
    api.fail_next("getFile", 2)
    async with running(api, MessageHandler(filters.PHOTO, download)):
        reaction = await lan.send_photo(image, expect=3)
    assert [m.text for m in reaction] == [
        "attempt 1 failed: Internal Server Error",
        "attempt 2 failed: Internal Server Error",
        f"attempt 3: {len(image)} bytes",
    ]
    assert [n for n, _ in api.calls].count("getFile") == 3


async def test_get_file_errors(api: FakeBotApi) -> None:
    big = api.files.add(b"x" * (20 * 1024 * 1024 + 1), "documents", ".bin")
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        with pytest.raises(BadRequest, match="Invalid file_id"):
            await bot.get_file("nope")
        with pytest.raises(BadRequest, match="File is too big"):
            await bot.get_file(big.file_id)


async def test_album_gives_updates_with_one_media_group(api: FakeBotApi) -> None:
    groups: list[tuple[int, str | None, str | None]] = []

    async def record(update: Update, context: Context) -> None:
        message = update.message
        groups.append((update.update_id, message.media_group_id, message.caption))

    lan = api.person(1013)
    async with running(api, MessageHandler(filters.PHOTO, record)):
        await lan.send_album([png(2, 2, s) for s in range(3)], caption="album", expect=0)
    assert [update_id for update_id, _, _ in groups] == [1, 2, 3]
    assert len({group for _, group, _ in groups}) == 1
    assert groups[0][1] is not None
    assert [caption for _, _, caption in groups] == ["album", None, None]


async def test_bot_sends_photo_document_and_media_group(api: FakeBotApi) -> None:
    image = png(120, 60)

    async def send_files(update: Update, context: Context) -> None:
        message = update.message
        sent = await message.reply_photo(image, caption="a photo")
        await message.reply_photo(sent.photo[-1].file_id, caption="again by file_id")
        await message.reply_document(b"col1,col2\n1,2\n", filename="report.csv", caption="csv")
        await message.reply_media_group(
            [InputMediaPhoto(png(5, 5, 1)), InputMediaPhoto(png(6, 6, 2), caption="two")]
        )

    lan = api.person(1014)
    async with running(api, CommandHandler("files", send_files)):
        reaction = await lan.send("/files", expect=4)
    assert [m.text for m in reaction] == ["a photo", "again by file_id", "csv", None, "two"]
    first, again, document, album_a, album_b = reaction
    assert first.file_bytes() == image
    assert again.photo == first.photo
    assert [size["width"] for size in first.raw["photo"]] == [90, 120]
    assert document.file_bytes() == b"col1,col2\n1,2\n"
    assert document.raw["document"]["file_name"] == "report.csv"
    assert album_a.media_group_id is not None
    assert album_a.media_group_id == album_b.media_group_id
    assert album_b.file_bytes() == png(6, 6, 2)


async def test_other_person_messages(api: FakeBotApi) -> None:
    kinds: list[str] = []

    async def record(update: Update, context: Context) -> None:
        message = update.message
        if message.sticker:
            kinds.append("sticker")
        elif message.voice:
            kinds.append("voice")
        elif message.document:
            kinds.append(f"document {message.document.file_name} {message.document.mime_type}")
        await message.reply_text(kinds[-1])

    lan = api.person(1015)
    async with running(api, MessageHandler(filters.ALL, record)):
        await lan.send_sticker()
        await lan.send_voice()
        await lan.send_document(b"%PDF-1.4", "proof.pdf", "application/pdf")
    assert kinds == ["sticker", "voice", "document proof.pdf application/pdf"]


# -- commands and fault injection ----------------------------------------------------------------


async def test_set_my_commands_per_scope_and_language(api: FakeBotApi) -> None:
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        await bot.set_my_commands([BotCommand("start", "Start")])
        await bot.set_my_commands(
            [BotCommand("start", "Bat dau"), BotCommand("help", "Tro giup")],
            scope=BotCommandScopeAllPrivateChats(),
            language_code="vi",
        )
        await bot.set_my_commands([BotCommand("admin", "Admin")], scope=BotCommandScopeChat(7))
        vi = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="vi")
        api.fail_next("setMyCommands", error_code=400, description="Bad Request: nope")
        with pytest.raises(BadRequest, match="Nope"):
            await bot.set_my_commands([BotCommand("later", "Later")])
        with pytest.raises(BadRequest, match="Bot_command_invalid"):
            await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    assert [c.command for c in vi] == ["start", "help"]
    assert api.commands[("default", "")] == [{"command": "start", "description": "Start"}]
    assert [c["command"] for c in api.commands[("all_private_chats", "vi")]] == ["start", "help"]
    assert api.commands[('{"chat_id": 7, "type": "chat"}', "")][0]["command"] == "admin"
    assert len(api.commands) == 3


# -- formatting and image sizes ----------------------------------------------------------------


async def test_unescaped_html_is_rejected_like_telegram(api: FakeBotApi) -> None:
    outcomes: list[str] = []

    async def greet(update: Update, context: Context) -> None:
        name = update.message.text.removeprefix("/hi ")
        for text in (f"<b>Hi {name}</b>", f"<b>Hi {html.escape(name)}</b>"):
            try:
                await update.message.reply_html(text)
                outcomes.append("sent")
            except BadRequest as error:
                outcomes.append(error.message)

    lan = api.person(1016)
    async with running(api, CommandHandler("hi", greet)):
        reaction = await lan.send("/hi <Lan>")
    assert outcomes == [
        'Can\'t parse entities: unsupported start tag "lan" at byte offset 6',
        "sent",
    ]
    assert [(m.text, m.parse_mode) for m in reaction] == [("<b>Hi &lt;Lan&gt;</b>", "HTML")]


def test_image_size_reads_png_gif_and_jpeg_headers() -> None:
    jpeg = (
        b"\xff\xd8"
        + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + b"\xff\xc0\x00\x11\x08\x01\xe0\x02\x80\x03"
        + b"\x00" * 9
    )
    assert image_size(png(7, 5)) == (7, 5)
    assert image_size(b"GIF89a\x0a\x00\x14\x00") == (10, 20)
    assert image_size(jpeg) == (640, 480)
    assert image_size(b"not an image") == (1, 1)


# PTB 22 itself warns when it builds RetryAfter with an int, unless PTB_TIMEDELTA=1 is set.
@pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")
async def test_deleted_messages_disappear_and_retry_after_is_passed_on(api: FakeBotApi) -> None:
    async def close_menu(update: Update, context: Context) -> None:
        await update.callback_query.answer()
        await update.callback_query.delete_message()
        await context.bot.send_message(update.effective_chat.id, "Closed")

    lan = api.person(1017)
    async with running(api, CommandHandler("menu", show_menu), CallbackQueryHandler(close_menu)):
        await lan.send("/menu")
        await lan.press("Yes")
        assert [m.text for m in lan.messages] == ["Closed"]
        assert "deleteMessage" in [a.method for a in api.actions]

    api.fail_next("sendMessage", error_code=429, description="Too Many Requests", retry_after=3)
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        with pytest.raises(RetryAfter):
            await bot.send_message(1017, "too fast")
        await bot.send_message(1017, "later")
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(999, "nobody")
    assert lan.last.text == "later"
