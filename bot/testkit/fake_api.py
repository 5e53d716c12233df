"""A fake Telegram Bot API server speaking real HTTP on loopback.

A real python-telegram-bot ``Application`` polls it like the real Bot API; tests act as people
through :class:`bot.testkit.client.Person`. A person's private chat id equals their user id;
group chats (``FakeBotApi.group``) are modelled just enough to see what a bot says there and
whether it leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bot.testkit import _parse_mode
from bot.testkit._files import MAX_DOWNLOAD_SIZE, FileStore, StoredFile
from bot.testkit.client import BotMessage, Member, Person

JSON = dict[str, Any]

# PTB sends non-string values JSON-encoded inside form fields; these are decoded back.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "menu_button",
        "media",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "allowed_updates",
        "link_preview_options",
        "reply_parameters",
    }
)
INT_FIELDS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "user_id", "cache_time", "reply_to_message_id"}
)
FLOAT_FIELDS = frozenset({"timeout"})
BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "drop_pending_updates",
        "disable_notification",
        "protect_content",
        "has_spoiler",
        "disable_content_type_detection",
    }
)
# Bot actions that count as a visible reaction in a chat (see Person's waiting rule).
MESSAGE_ACTIONS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
MAX_TEXT = 4096
MAX_CAPTION = 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """A Telegram-shaped error response: ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.code)


@dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class StoredMessage:
    """A bot message as the server keeps it.

    ``reply_markup`` holds a reply keyboard, keyboard removal or force reply, which Telegram does
    not echo back in the returned message (inline keyboards stay inside ``raw``).
    """

    raw: JSON
    reply_markup: JSON | None = None
    parse_mode: str | None = None


@dataclass(frozen=True)
class BotAction:
    """One bot call that touched a chat; ``counts`` is true for sends and edits."""

    chat_id: int
    method: str
    message_ids: tuple[int, ...]
    at: float
    counts: bool


@dataclass
class _Failure:
    times: int
    error: ApiError


Handler = Callable[[JSON], Awaitable[Any]]


class FakeBotApi:
    """An in-memory Bot API on ``127.0.0.1``; use as ``async with FakeBotApi() as api:``.

    Inspection for tests: :attr:`calls`, :attr:`commands`, :attr:`callback_answers`,
    :attr:`confirmed_offset`, :meth:`pending_updates`, :attr:`actions`, :attr:`files`.

    Not modelled: group membership and rights, inline mode, webhooks, ``allowed_updates`` filtering
    (accepted and ignored), and sending files by URL (answered with 400 as an unknown file).
    Sending to a chat no :meth:`person` was created for gives 400 "chat not found".
    """

    def __init__(
        self, token: str = "123456:TEST-TOKEN", bot_username: str = "hoctap_test_bot"
    ) -> None:
        self.token = token
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Hoctap Test Bot",
            "username": bot_username,
        }
        self.calls: list[tuple[str, JSON]] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.menu_buttons: dict[int | None, JSON] = {}  # chat id (None: default) -> button
        self.descriptions: dict[tuple[str, str], str] = {}
        self.callback_answers: dict[str, JSON] = {}
        self.actions: list[BotAction] = []
        self.files = FileStore()
        self.confirmed_offset = 0
        self._updates: list[JSON] = []
        self.last_update_id = 0
        self._people: dict[int, JSON] = {}
        self._groups: dict[int, JSON] = {}
        self.left_chats: list[int] = []
        self._chats: dict[int, dict[int, StoredMessage]] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids: set[str] = set()
        self._failures: dict[str, _Failure] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._methods = self._method_table()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port``; port 0 picks a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{file_path:.*}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self._port = self._runner.addresses[0][1]
        self._closing = False

    async def stop(self) -> None:
        """Wake pending long polls (they answer ``[]``) and shut the server down."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/file/bot"

    # -- test-facing API ----------------------------------------------------------------------

    def person(
        self,
        user_id: int,
        first_name: str = "Lan",
        last_name: str | None = None,
        language_code: str = "vi",
    ) -> Person:
        """A person with a private chat to the bot (chat id == ``user_id``)."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        user["language_code"] = language_code
        self._people[user_id] = user
        self._chats.setdefault(user_id, {})
        return Person(self, user)

    def group(self, chat_id: int, title: str = "Nhóm thôn", kind: str = "supergroup") -> JSON:
        """A group (or ``kind`` "channel") chat the bot can be added to; ``chat_id`` < 0."""
        chat: JSON = {"id": chat_id, "type": kind, "title": title}
        self._groups[chat_id] = chat
        self._chats.setdefault(chat_id, {})
        return chat

    def member(self, person: Person, group: JSON) -> Member:
        """``person`` writing in ``group``."""
        return Member(self, person.user, group)

    def fail_next(
        self,
        method: str,
        times: int = 1,
        error_code: int = 500,
        description: str = "Internal Server Error",
        retry_after: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with a Telegram-shaped error."""
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        self._failures[method.lower()] = _Failure(
            times, ApiError(error_code, description, parameters)
        )

    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    def add_update(self, payload: JSON) -> int:
        """Enqueue an update (``payload`` without ``update_id``); return its update_id."""
        self.last_update_id += 1
        update_id = self.last_update_id
        self._updates.append({"update_id": update_id, **payload})
        self._notify()
        return update_id

    def next_message_id(self, chat_id: int) -> int:
        """Message ids are counted per chat and shared by both sides, as in Telegram."""
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def issue_callback_id(self) -> str:
        callback_id = str(4_000_000 + len(self._callback_ids) + 1)
        self._callback_ids.add(callback_id)
        return callback_id

    def chat_messages(self, chat_id: int) -> list[BotMessage]:
        """Current bot messages in a chat (edits applied, deleted ones gone), oldest first."""
        return [self._view(stored) for stored in self._chats.get(chat_id, {}).values()]

    def bot_message(self, chat_id: int, message_id: int) -> BotMessage | None:
        stored = self._chats.get(chat_id, {}).get(message_id)
        return self._view(stored) if stored else None

    def file_bytes(self, file_id: str) -> bytes:
        stored = self.files.get(file_id)
        if stored is None:
            raise KeyError(f"unknown file_id {file_id!r}")
        return stored.data

    async def wait_for_change(self, timeout: float) -> None:
        """Sleep until any state change (update, confirmation, bot action) or ``timeout``."""
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _view(self, stored: StoredMessage) -> BotMessage:
        return BotMessage(stored.raw, stored.reply_markup, stored.parse_mode, self)

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        name = request.match_info["method"]
        try:
            params = await _read_params(request)
            self.calls.append((name, params))
            handler = self._methods.get(name.lower())
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            self._raise_injected_failure(name)
            result = await handler(params)
        except ApiError as error:
            return error.response()
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return ApiError(401, "Unauthorized").response()
        stored = self.files.by_path(request.match_info["file_path"])
        if stored is None:
            return ApiError(404, "Not Found").response()
        return web.Response(body=stored.data, content_type="application/octet-stream")

    def recover(self, method: str) -> None:
        """Stop failing ``method`` (see ``fail_next``)."""
        self._failures.pop(method.lower(), None)

    def _raise_injected_failure(self, method: str) -> None:
        failure = self._failures.get(method.lower())
        if failure is None:
            return
        failure.times -= 1
        if failure.times <= 0:
            del self._failures[method.lower()]
        raise failure.error

    def _method_table(self) -> dict[str, Handler]:
        handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "deleteMyCommands": self._delete_my_commands,
            "setMyDescription": self._set_description("description"),
            "setMyShortDescription": self._set_description("short_description"),
            "getMyDescription": self._get_description("description"),
            "getMyShortDescription": self._get_description("short_description"),
            "sendChatAction": self._send_chat_action,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendMediaGroup": self._send_media_group,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "leaveChat": self._leave_chat,
        }
        # Telegram method names are case-insensitive.
        return {name.lower(): handler for name, handler in handlers.items()}

    # -- bot identity, webhook, updates -------------------------------------------------------

    async def _true(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates") and self._updates:
            self._confirm(self._updates[-1]["update_id"] + 1)
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        """Confirm updates below ``offset``, then long-poll up to ``timeout`` seconds."""
        self._confirm(int(params.get("offset", 0)))
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout", 0))
        while not self._updates and not self._closing:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await self.wait_for_change(remaining)
        return self._updates[:limit]

    def _confirm(self, offset: int) -> None:
        """Drop updates below ``offset`` for good; a negative offset keeps the last -offset."""
        if offset < 0:
            kept = self._updates[offset:]
            offset = kept[0]["update_id"] if kept else self.confirmed_offset
        if offset <= self.confirmed_offset:
            return
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self.confirmed_offset = offset
        self._notify()

    # -- commands and descriptions ------------------------------------------------------------

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        scope_key = scope["type"] if set(scope) == {"type"} else json.dumps(scope, sort_keys=True)
        return scope_key, str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: parameter commands is required")
        for command in commands:
            _check_command(command)
        key = self._commands_key(params)
        if commands:
            self.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _set_chat_menu_button(self, params: JSON) -> bool:
        button = params.get("menu_button") or {"type": "default"}
        if button.get("type") not in ("default", "commands", "web_app"):
            raise ApiError(400, "Bad Request: unsupported menu button type")
        if button["type"] == "web_app":
            _check_web_app(button)
        chat_id = params.get("chat_id")
        self.menu_buttons[int(chat_id) if chat_id is not None else None] = button
        return True

    async def _get_chat_menu_button(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        return self.menu_buttons.get(
            int(chat_id) if chat_id is not None else None, {"type": "default"}
        )

    def _set_description(self, kind: str) -> Handler:
        async def handler(params: JSON) -> bool:
            key = (kind, str(params.get("language_code") or ""))
            self.descriptions[key] = str(params.get(kind) or "")
            return True

        return handler

    def _get_description(self, kind: str) -> Handler:
        async def handler(params: JSON) -> JSON:
            key = (kind, str(params.get("language_code") or ""))
            return {kind: self.descriptions.get(key, "")}

        return handler

    # -- sending ------------------------------------------------------------------------------

    def _chat(self, params: JSON) -> tuple[int, JSON]:
        chat_id = params.get("chat_id")
        if chat_id in self._groups and chat_id not in self.left_chats:
            return chat_id, dict(self._groups[chat_id])
        if not isinstance(chat_id, int) or chat_id not in self._people:
            raise ApiError(400, "Bad Request: chat not found")
        user = self._people[chat_id]
        chat = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        if "last_name" in user:
            chat["last_name"] = user["last_name"]
        return chat_id, chat

    def _record(self, chat_id: int, method: str, message_ids: tuple[int, ...] = ()) -> None:
        loop_time = asyncio.get_running_loop().time()
        counts = method in MESSAGE_ACTIONS
        self.actions.append(BotAction(chat_id, method, message_ids, loop_time, counts))
        self._notify()

    def _store_message(self, params: JSON, content: JSON, extra: JSON | None = None) -> JSON:
        """Create a bot message in the chat of ``params``; return its raw dict."""
        chat_id, chat = self._chat(params)
        raw: JSON = {
            "message_id": self.next_message_id(chat_id),
            "date": int(time.time()),
            "chat": chat,
            "from": self.bot_user,
            **(extra or {}),
            **content,
        }
        stored = StoredMessage(raw, parse_mode=params.get("parse_mode"))
        _apply_markup(stored, params.get("reply_markup"))
        self._chats.setdefault(chat_id, {})[raw["message_id"]] = stored
        return raw

    async def _send_chat_action(self, params: JSON) -> bool:
        chat_id, _ = self._chat(params)
        self._record(chat_id, "sendChatAction")
        return True

    async def _send_message(self, params: JSON) -> JSON:
        text = _text(params, "text", MAX_TEXT, "Bad Request: message text is empty")
        content: JSON = {"text": text}
        if params.get("entities"):
            content["entities"] = params["entities"]
        raw = self._store_message(params, content)
        self._record(raw["chat"]["id"], "sendMessage", (raw["message_id"],))
        return raw

    async def _send_photo(self, params: JSON) -> JSON:
        sizes = self._photo_sizes(self._resolve_media(params, params.get("photo")))
        raw = self._store_message(params, {"photo": sizes, **_caption(params)})
        self._record(raw["chat"]["id"], "sendPhoto", (raw["message_id"],))
        return raw

    async def _send_document(self, params: JSON) -> JSON:
        stored = self._document(self._resolve_media(params, params.get("document")))
        raw = self._store_message(params, {"document": stored.as_document(), **_caption(params)})
        self._record(raw["chat"]["id"], "sendDocument", (raw["message_id"],))
        return raw

    async def _send_media_group(self, params: JSON) -> list[JSON]:
        media = params.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the album")
        self._chat(params)
        group_id = str(10_000_000 + len(self.actions))
        for item in media:  # as Telegram: one unknown file and nothing of the album is sent
            self._resolve_media(params, item.get("media"))
        results = [self._album_item(params, item, group_id) for item in media]
        chat_id = results[0]["chat"]["id"]
        self._record(chat_id, "sendMediaGroup", tuple(r["message_id"] for r in results))
        return results

    def _album_item(self, params: JSON, item: JSON, group_id: str) -> JSON:
        stored = self._resolve_media(params, item.get("media"))
        if item.get("type") == "photo":
            content: JSON = {"photo": self._photo_sizes(stored)}
        elif item.get("type") == "document":
            content = {"document": self._document(stored).as_document()}
        else:
            raise ApiError(400, f"Bad Request: unsupported media type {item.get('type')!r}")
        content.update(_caption(item))
        item_params = {"chat_id": params["chat_id"], "parse_mode": item.get("parse_mode")}
        return self._store_message(item_params, content, {"media_group_id": group_id})

    def _resolve_media(self, params: JSON, value: Any) -> Upload | StoredFile:
        """An upload (direct or ``attach://name``) or a known file_id."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if isinstance(value, Upload):
            return value
        stored = self.files.get(value) if isinstance(value, str) else None
        if stored is None:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return stored

    def _photo_sizes(self, media: Upload | StoredFile) -> list[JSON]:
        if isinstance(media, StoredFile):
            return media.photo or self.files.add_photo(media.data)
        return self.files.add_photo(media.data)

    def _document(self, media: Upload | StoredFile) -> StoredFile:
        if isinstance(media, StoredFile):
            return media
        suffix = "." + media.filename.rsplit(".", 1)[-1] if "." in media.filename else ""
        return self.files.add(
            media.data, "documents", suffix, media.filename, media.content_type or None
        )

    # -- editing and deleting -----------------------------------------------------------------

    def _existing(self, params: JSON, missing: str) -> StoredMessage:
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: inline messages are not supported by the fake API")
        chat_id, _ = self._chat(params)
        stored = self._chats[chat_id].get(params.get("message_id", 0))
        if stored is None:
            raise ApiError(400, f"Bad Request: {missing}")
        return stored

    def _edit(self, params: JSON, method: str, drop: tuple[str, ...], content: JSON) -> JSON:
        """Apply an edit; Telegram rejects edits that change nothing.

        ``reply_markup`` is always dropped first: an edit without it removes the inline keyboard.
        """
        stored = self._existing(params, "message to edit not found")
        kept = {k: v for k, v in stored.raw.items() if k not in ("reply_markup", *drop)}
        parse_mode = params.get("parse_mode", stored.parse_mode)
        candidate = StoredMessage({**kept, **content}, stored.reply_markup, parse_mode)
        _apply_markup(candidate, params.get("reply_markup"))
        if _visible(candidate.raw) == _visible(stored.raw):
            raise ApiError(400, NOT_MODIFIED)
        candidate.raw["edit_date"] = int(time.time())
        stored.raw, stored.parse_mode = candidate.raw, candidate.parse_mode
        self._record(stored.raw["chat"]["id"], method, (stored.raw["message_id"],))
        return stored.raw

    async def _edit_message_text(self, params: JSON) -> JSON:
        stored = self._existing(params, "message to edit not found")
        if "text" not in stored.raw:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        content: JSON = {
            "text": _text(params, "text", MAX_TEXT, "Bad Request: message text is empty")
        }
        if params.get("entities"):
            content["entities"] = params["entities"]
        return self._edit(params, "editMessageText", ("text", "entities"), content)

    async def _edit_message_caption(self, params: JSON) -> JSON:
        return self._edit(params, "editMessageCaption", ("caption",), _caption(params))

    async def _edit_message_reply_markup(self, params: JSON) -> JSON:
        return self._edit(params, "editMessageReplyMarkup", (), {})

    async def _delete_message(self, params: JSON) -> bool:
        stored = self._existing(params, "message to delete not found")
        chat_id = stored.raw["chat"]["id"]
        del self._chats[chat_id][stored.raw["message_id"]]
        self._record(chat_id, "deleteMessage", (stored.raw["message_id"],))
        return True

    # -- callbacks and files ------------------------------------------------------------------

    async def _answer_callback_query(self, params: JSON) -> bool:
        callback_id = str(params.get("callback_query_id", ""))
        if callback_id not in self._callback_ids or callback_id in self.callback_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.callback_answers[callback_id] = params
        self._notify()
        return True

    async def _leave_chat(self, params: JSON) -> bool:
        chat_id, _ = self._chat(params)
        if chat_id not in self._groups:
            raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
        self.left_chats.append(chat_id)
        self._record(chat_id, "leaveChat")
        return True

    async def _get_file(self, params: JSON) -> JSON:
        stored = self.files.get(str(params.get("file_id", "")))
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if stored.size > MAX_DOWNLOAD_SIZE:
            raise ApiError(400, "Bad Request: file is too big")
        return stored.as_file()


# -- request parsing and small helpers -------------------------------------------------------


async def _read_params(request: web.Request) -> JSON:
    """Merge query string, form/multipart fields (uploads become :class:`Upload`) and JSON."""
    raw: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.read()
        if body:
            try:
                raw.update(json.loads(body))
            except (ValueError, TypeError) as error:
                raise ApiError(400, "Bad Request: can't parse JSON body") from error
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                raw[key] = Upload(value.filename, value.content_type, value.file.read())
            elif isinstance(value, (bytes, bytearray)):
                raw[key] = bytes(value).decode()
            else:
                raw[key] = value
    return {key: _decode(key, value) for key, value in raw.items()}


def _decode(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if key in JSON_FIELDS:
            return json.loads(value)
        if key in INT_FIELDS:
            return int(value)
        if key in FLOAT_FIELDS:
            return float(value)
    except ValueError as error:
        if key in INT_FIELDS:
            return value  # e.g. chat_id="@channel"
        raise ApiError(400, f"Bad Request: can't parse {key}") from error
    if key in BOOL_FIELDS:
        return value.lower() == "true"
    return value


def _text(params: JSON, key: str, limit: int, empty: str) -> str:
    text = params.get(key)
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, empty)
    if len(text) > limit:
        raise ApiError(400, "Bad Request: message is too long")
    _check_formatting(text, params)
    return text


def _caption(params: JSON) -> JSON:
    caption = params.get("caption")
    if not caption:
        return {}
    if len(caption) > MAX_CAPTION:
        raise ApiError(400, "Bad Request: message caption is too long")
    _check_formatting(caption, params)
    return {"caption": caption}


def _check_formatting(text: str, params: JSON) -> None:
    try:
        _parse_mode.check(text, params.get("parse_mode"))
    except _parse_mode.ParseError as error:
        raise ApiError(400, f"Bad Request: can't parse entities: {error}") from error


def _check_command(command: Any) -> None:
    name = command.get("command", "") if isinstance(command, dict) else ""
    if not (1 <= len(name) <= 32 and all(c.islower() or c.isdigit() or c == "_" for c in name)):
        raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
    if not 1 <= len(command.get("description", "")) <= 256:
        raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")


def _apply_markup(stored: StoredMessage, markup: Any) -> None:
    """Inline keyboards live in the message; other markups are kept aside."""
    if not markup:
        return
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
        stored.raw["reply_markup"] = markup
    else:
        stored.reply_markup = markup


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array of Arrays')
    for button in itertools.chain.from_iterable(rows):
        if not isinstance(button, dict) or not button.get("text"):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: text is empty")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= 64:
            raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        if "web_app" in button:
            _check_web_app(button)
        if data is None and "url" not in button and "web_app" not in button:
            raise ApiError(
                400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed"
            )


def _check_web_app(button: JSON) -> None:
    """A Mini App button: its text and an http(s) address (Telegram itself wants https)."""
    web_app = button.get("web_app")
    url = web_app.get("url", "") if isinstance(web_app, dict) else ""
    if not button.get("text") or not url.startswith(("https://", "http://")):
        raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")


def _visible(raw: JSON) -> JSON:
    """The parts of a message an edit can change."""
    keys = ("text", "caption", "entities", "reply_markup")
    return {key: raw.get(key) for key in keys}
