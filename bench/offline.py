"""Shared pieces of the benchmarks: an offline Bot API, update builders, machine facts.

Nothing here opens a socket. `OfflineRequest` answers the Bot API methods the dialogs call
with Telegram-shaped JSON, remembers the last inline keyboard it sent to each chat, and
`Script` builds the updates a person would send, pressing only buttons the bot really offered.
"""

import itertools
import json
import os
import platform
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import telegram
from telegram import Update
from telegram.request import BaseRequest, RequestData

from bench.rss import vm_rss_mb  # noqa: F401  (re-exported for the benchmarks)

BOT_USER = {"id": 1, "is_bot": True, "first_name": "Hoctap", "username": "hoctap_bench_bot"}
TOKEN = "123456:bench-offline-token"
DATE = 1_767_225_600  # any fixed time; the bot reads dates from its own clock

# Methods whose answer is a Message; the others the dialogs use answer `true`.
_MESSAGE_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})
_TRUE_METHODS = frozenset(
    {
        "answerCallbackQuery",
        "setMyCommands",
        "deleteMyCommands",
        "sendChatAction",
        "deleteWebhook",
        "setMyDescription",
        "setMyShortDescription",
    }
)


class UnexpectedMethod(Exception):
    """The bot called a method this fake does not answer: the benchmark must not go on."""


class OfflineRequest(BaseRequest):
    """A BaseRequest that never touches the network.

    Message ids increase across the whole fake. For each chat it keeps only the last message
    that carried an inline keyboard (so memory does not grow with the number of updates).
    `calls` counts the methods called.
    """

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self.keyboards: dict[int, dict[str, Any]] = {}  # chat id -> the message with buttons
        self.last_text: dict[int, str] = {}  # chat id -> text of the last message sent or edited
        self.documents: list[tuple[int, int]] = []  # (chat id, bytes) of each document sent
        # Set to a list to log every call: (method, parameters, id of the message it returned)
        self.log: list[tuple[str, dict[str, Any], int | None]] | None = None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        self.calls[api] += 1
        if api == "getMe":
            result: Any = BOT_USER
        elif api in _MESSAGE_METHODS:
            result = self._message(api, params)
        elif api in _TRUE_METHODS:
            result = True
        elif api == "getMyCommands":
            result = []
        elif api == "sendDocument":
            files = (request_data.multipart_data or {}) if request_data else {}
            size = sum(len(part[1]) for part in files.values())
            result = self._document(params, size)
        else:
            raise UnexpectedMethod(api)
        if self.log is not None:
            self.log.append(
                (api, params, result.get("message_id") if api in _MESSAGE_METHODS else None)
            )
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _document(self, params: dict[str, Any], size: int) -> dict[str, Any]:
        """A sent document (an export): its size is kept in `documents`."""
        chat_id = int(params["chat_id"])
        self.documents.append((chat_id, size))
        return {
            "message_id": next(self._ids),
            "date": DATE,
            "chat": {"id": chat_id, "type": "private", "first_name": "Người"},
            "from": BOT_USER,
            "caption": params.get("caption", ""),
            "document": {"file_id": f"doc{size}", "file_unique_id": f"d{size}"},
        }

    def _message(self, api: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if api == "sendMessage":
            message_id, text = next(self._ids), params["text"]
        else:
            message_id = int(params["message_id"])
            previous = self.keyboards.get(chat_id, {})
            same = previous.get("message_id") == message_id
            text = params.get("text", previous.get("text", "") if same else "")
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": DATE,
            "chat": {"id": chat_id, "type": "private", "first_name": "Người"},
            "from": BOT_USER,
            "text": text,
        }
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
            self.keyboards[chat_id] = message
        elif api != "sendMessage" and self.keyboards.get(chat_id, {}).get("message_id") == (
            message_id
        ):
            del self.keyboards[chat_id]  # an edit without buttons closes the question
        self.last_text[chat_id] = text
        return message


class Script:
    """Updates as a person in a private chat would send them, as `Update` objects."""

    def __init__(self, request: OfflineRequest, bot: telegram.Bot) -> None:
        self.request, self.bot = request, bot
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1_000_000_000)  # far from the bot's own ids
        self._callback_ids = itertools.count(1)

    @staticmethod
    def _user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": "Người", "language_code": "vi"}

    def text(self, user_id: int, text: str) -> Update:
        """A text message; a leading /command gets its bot_command entity."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": DATE,
            "chat": {"id": user_id, "type": "private", "first_name": "Người"},
            "from": self._user(user_id),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0].encode("utf-16-le")) // 2
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return Update.de_json({"update_id": next(self._update_ids), "message": message}, self.bot)

    def press(self, user_id: int, data_suffix: str) -> Update:
        """A press on the button whose callback data ends with `data_suffix`, on the last
        inline keyboard the bot sent to this chat; KeyError if the bot offered no such button."""
        message = self.request.keyboards.get(user_id)
        if message is None:
            raise KeyError(f"chat {user_id} has no open inline keyboard")
        data = next(
            (
                button["callback_data"]
                for row in message["reply_markup"]["inline_keyboard"]
                for button in row
                if button.get("callback_data", "").endswith(data_suffix)
            ),
            None,
        )
        if data is None:
            raise KeyError(f"no button ending {data_suffix!r} in chat {user_id}: {message}")
        query = {
            "id": str(next(self._callback_ids)),
            "from": self._user(user_id),
            "chat_instance": f"ci{user_id}",
            "message": message,
            "data": data,
        }
        return Update.de_json(
            {"update_id": next(self._update_ids), "callback_query": query}, self.bot
        )


# --- the machine ---------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def machine_lines() -> list[str]:
    return [
        f"python {platform.python_version()} ({sys.implementation.name}),"
        f" python-telegram-bot {telegram.__version__}",
        f"cpu: {cpu_model()}, {cpu_count()} cores usable",
    ]
