"""A test client that acts as a person talking to the bot through :class:`FakeBotApi`.

Waiting rule, used by every action of :class:`Person` (``send``, ``press``, ``send_photo``...):

1. the update(s) are enqueued on the fake server;
2. wait until the bot has *confirmed* the last of them (a getUpdates ``offset`` passed it);
3. and until at least ``expect`` (default 1) bot actions that send or edit a message
   (sendMessage, sendPhoto, sendDocument, sendMediaGroup, editMessage*) reached this chat
   since the update was enqueued; a media group counts as one action;
4. then until no further bot call touched this chat (including sendChatAction,
   answerCallbackQuery and deleteMessage) for ``quiet`` seconds (default 0.05).

The bot's poller (bot/polling.py) confirms an update only once its handlers are done, so step 2
already covers every call a handler makes; ``quiet`` is for what comes later, from a timer or a
task of its own (the bot's are jobs a second or more away, which ``expect`` waits for).

If that does not happen within ``timeout`` seconds (default 10) an ``AssertionError`` says what
was received. ``expect=0`` means "confirmed, then quiet" - for when the bot should stay silent.
The action returns the bot messages sent or edited in this chat meanwhile, in their current state.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.testkit.fake_api import BotAction, FakeBotApi

JSON = dict[str, Any]

DEFAULT_TIMEOUT = 10.0
DEFAULT_QUIET = 0.05
FAKE_STICKER = b"RIFF\x00\x00\x00\x00WEBPVP8 fake sticker"
FAKE_VOICE = b"OggS\x00fake voice"


@dataclass(frozen=True)
class BotMessage:
    """A bot message as the person sees it now (edits applied)."""

    raw: JSON
    #: A reply keyboard, keyboard removal or force reply sent with the message, if any.
    reply_markup: JSON | None
    parse_mode: str | None
    api: FakeBotApi = field(repr=False, compare=False)

    @property
    def message_id(self) -> int:
        return int(self.raw["message_id"])

    @property
    def text(self) -> str | None:
        """The text, or the caption of a media message (as sent, markup not rendered)."""
        return self.raw.get("text", self.raw.get("caption"))

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        """The inline keyboard's button objects, row by row."""
        return (self.raw.get("reply_markup") or {}).get("inline_keyboard", [])

    @property
    def buttons(self) -> list[list[str]]:
        """Labels of the inline keyboard, row by row."""
        return [[button["text"] for button in row] for row in self.inline_keyboard]

    @property
    def button_data(self) -> dict[str, str]:
        """Label -> callback_data of the inline callback buttons."""
        buttons = itertools.chain.from_iterable(self.inline_keyboard)
        return {b["text"]: b["callback_data"] for b in buttons if "callback_data" in b}

    @property
    def url_buttons(self) -> dict[str, str]:
        """Label -> url of the inline URL buttons."""
        buttons = itertools.chain.from_iterable(self.inline_keyboard)
        return {b["text"]: b["url"] for b in buttons if "url" in b}

    @property
    def reply_buttons(self) -> list[list[str]]:
        """Labels of the reply keyboard sent with this message, row by row."""
        rows = (self.reply_markup or {}).get("keyboard", [])
        return [[b if isinstance(b, str) else b["text"] for b in row] for row in rows]

    @property
    def keyboard_removed(self) -> bool:
        return bool((self.reply_markup or {}).get("remove_keyboard"))

    @property
    def photo(self) -> str | None:
        """file_id of the largest photo size."""
        sizes = self.raw.get("photo")
        return sizes[-1]["file_id"] if sizes else None

    @property
    def document(self) -> str | None:
        document = self.raw.get("document")
        return document["file_id"] if document else None

    @property
    def media_group_id(self) -> str | None:
        return self.raw.get("media_group_id")

    def file_bytes(self) -> bytes:
        """Bytes of the photo or document of this message."""
        file_id = self.photo or self.document
        if file_id is None:
            raise AssertionError(f"message {self.message_id} has no photo or document")
        return self.api.file_bytes(file_id)


class Person:
    """A human user in a private chat with the bot (chat id == user id)."""

    def __init__(self, api: FakeBotApi, user: JSON) -> None:
        self.api = api
        self.user = user
        self.last_callback_id: str | None = None
        self._unwaited_mark: int | None = None  # action count when a wait=False send happened

    @property
    def user_id(self) -> int:
        return int(self.user["id"])

    @property
    def chat_id(self) -> int:
        """The chat this person writes in: their private chat with the bot."""
        return self.user_id

    @property
    def chat(self) -> JSON:
        chat = {"id": self.user_id, "type": "private", "first_name": self.user["first_name"]}
        if "last_name" in self.user:
            chat["last_name"] = self.user["last_name"]
        return chat

    # -- what the person sees -----------------------------------------------------------------

    @property
    def messages(self) -> list[BotMessage]:
        return self.api.chat_messages(self.chat_id)

    @property
    def last(self) -> BotMessage:
        messages = self.messages
        if not messages:
            raise AssertionError("the bot has not sent anything to this chat")
        return messages[-1]

    @property
    def reply_buttons(self) -> list[str]:
        """Labels of the reply keyboard currently shown.

        A reply keyboard stays until another one replaces it or a message removes it.
        """
        for message in reversed(self.messages):
            if message.reply_markup and (message.keyboard_removed or message.reply_buttons):
                return list(itertools.chain.from_iterable(message.reply_buttons))
        return []

    @property
    def last_callback_answer(self) -> JSON | None:
        """Parameters of the bot's answerCallbackQuery for the last press, if answered."""
        if self.last_callback_id is None:
            return None
        return self.api.callback_answers.get(self.last_callback_id)

    # -- actions ------------------------------------------------------------------------------

    async def send(
        self,
        text: str,
        *,
        expect: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        quiet: float = DEFAULT_QUIET,
        wait: bool = True,
    ) -> list[BotMessage]:
        """Send a text message; a leading ``/command`` gets a bot_command entity.

        ``wait=False`` only enqueues the update and returns ``[]``.
        """
        content: JSON = {"text": text}
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self._act([self._message(content)], expect, timeout, quiet, wait)

    async def edit(
        self,
        message_id: int,
        text: str,
        *,
        expect: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        quiet: float = DEFAULT_QUIET,
    ) -> list[BotMessage]:
        """Edit one's own earlier message ``message_id`` to ``text`` (an ``edited_message``)."""
        content: JSON = {"text": text, "edit_date": int(time.time())}
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        message = self._message(content)["message"] | {"message_id": message_id}
        return await self._act([{"edited_message": message}], expect, timeout, quiet)

    async def press(
        self,
        label: str,
        *,
        expect: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        quiet: float = DEFAULT_QUIET,
        wait: bool = True,
    ) -> list[BotMessage]:
        """Press the inline button ``label`` on the most recent message that has it.

        An exact label wins; otherwise the only button containing ``label`` is pressed.
        ``wait=False`` only enqueues the press (see ``send``).
        """
        message, button = self._find_button(label)
        if "callback_data" not in button:
            raise AssertionError(f"button {button['text']!r} is not a callback button: {button}")
        return await self.press_data(
            message, button["callback_data"], expect=expect, timeout=timeout, quiet=quiet, wait=wait
        )

    async def press_data(
        self,
        message: BotMessage | int,
        data: str,
        *,
        expect: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        quiet: float = DEFAULT_QUIET,
        wait: bool = True,
    ) -> list[BotMessage]:
        """Send a callback query with arbitrary (possibly forged) ``data`` on ``message``."""
        message_id = message if isinstance(message, int) else message.message_id
        current = self.api.bot_message(self.chat_id, message_id)
        if current is None:
            raise AssertionError(f"no bot message {message_id} in chat {self.chat_id}")
        self.last_callback_id = self.api.issue_callback_id()
        payload = {
            "callback_query": {
                "id": self.last_callback_id,
                "from": self.user,
                "message": current.raw,
                "chat_instance": f"chat-instance-{self.chat_id}",
                "data": data,
            }
        }
        return await self._act([payload], expect, timeout, quiet, wait)

    async def share_contact(
        self,
        phone: str = "0912345678",
        *,
        user_id: int | None = None,
        first_name: str | None = None,
        expect: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        quiet: float = DEFAULT_QUIET,
    ) -> list[BotMessage]:
        """Share a contact: one's own (as a request_contact button does) or someone else's."""
        own = user_id is None or user_id == self.user_id
        contact: JSON = {
            "phone_number": phone,
            "first_name": self.user["first_name"] if own else first_name or "Contact",
            "user_id": self.user_id if user_id is None else user_id,
        }
        return await self._act([self._message({"contact": contact})], expect, timeout, quiet)

    async def send_photo(
        self,
        data: bytes,
        caption: str | None = None,
        *,
        forwarded: bool = False,
        expect: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        quiet: float = DEFAULT_QUIET,
    ) -> list[BotMessage]:
        content = self._photo_content(data, caption)
        if forwarded:
            content["forward_origin"] = {
                "type": "hidden_user",
                "sender_user_name": "Someone Else",
                "date": int(time.time()) - 3600,
            }
        return await self._act([self._message(content)], expect, timeout, quiet)

    async def send_album(
        self,
        photos: list[bytes],
        caption: str | None = None,
        *,
        expect: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        quiet: float = DEFAULT_QUIET,
    ) -> list[BotMessage]:
        """Several photo messages sharing a media_group_id; the caption goes on the first."""
        group_id = f"album-{self.user_id}-{len(self.api.actions)}-{time.monotonic_ns()}"
        payloads = []
        for index, data in enumerate(photos):
            content = self._photo_content(data, caption if index == 0 else None)
            content["media_group_id"] = group_id
            payloads.append(self._message(content))
        return await self._act(payloads, expect, timeout, quiet)

    async def send_document(
        self,
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        *,
        expect: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        quiet: float = DEFAULT_QUIET,
    ) -> list[BotMessage]:
        suffix = "." + file_name.rsplit(".", 1)[-1] if "." in file_name else ""
        stored = self.api.files.add(data, "documents", suffix, file_name, mime_type)
        content: JSON = {"document": stored.as_document()}
        if caption:
            content["caption"] = caption
        return await self._act([self._message(content)], expect, timeout, quiet)

    async def send_sticker(
        self, *, expect: int = 1, timeout: float = DEFAULT_TIMEOUT, quiet: float = DEFAULT_QUIET
    ) -> list[BotMessage]:
        stored = self.api.files.add(FAKE_STICKER, "stickers", ".webp")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
            "file_size": stored.size,
        }
        return await self._act([self._message({"sticker": sticker})], expect, timeout, quiet)

    async def send_voice(
        self,
        duration: int = 3,
        *,
        expect: int = 1,
        timeout: float = DEFAULT_TIMEOUT,
        quiet: float = DEFAULT_QUIET,
    ) -> list[BotMessage]:
        stored = self.api.files.add(FAKE_VOICE, "voice", ".oga", mime_type="audio/ogg")
        voice = {**stored.as_document(), "duration": duration}
        return await self._act([self._message({"voice": voice})], expect, timeout, quiet)

    async def wait(
        self, *, expect: int = 1, timeout: float = DEFAULT_TIMEOUT, quiet: float = DEFAULT_QUIET
    ) -> list[BotMessage]:
        """Wait (by the waiting rule) for updates already enqueued, e.g. with ``wait=False``."""
        mark = len(self.api.actions) if self._unwaited_mark is None else self._unwaited_mark
        self._unwaited_mark = None
        return await self._wait(self.api.last_update_id, mark, expect, timeout, quiet)

    # -- internals ----------------------------------------------------------------------------

    def _message(self, content: JSON) -> JSON:
        message = {
            "message_id": self.api.next_message_id(self.chat_id),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.user,
            **content,
        }
        return {"message": message}

    def _photo_content(self, data: bytes, caption: str | None) -> JSON:
        content: JSON = {"photo": self.api.files.add_photo(data)}
        if caption:
            content["caption"] = caption
        return content

    def _find_button(self, label: str) -> tuple[BotMessage, JSON]:
        messages = list(reversed(self.messages))
        for message in messages:
            for button in itertools.chain.from_iterable(message.inline_keyboard):
                if button["text"] == label:
                    return message, button
        for message in messages:
            rows = message.inline_keyboard
            found = [b for b in itertools.chain.from_iterable(rows) if label in b["text"]]
            if len(found) == 1:
                return message, found[0]
            if found:
                labels = [b["text"] for b in found]
                raise AssertionError(f"button {label!r} is ambiguous: {labels}")
        visible = [m.buttons for m in self.messages if m.buttons]
        raise AssertionError(f"no inline button {label!r}; visible buttons: {visible}")

    async def _act(
        self, payloads: list[JSON], expect: int, timeout: float, quiet: float, wait: bool = True
    ) -> list[BotMessage]:
        mark = len(self.api.actions)
        update_ids = [self.api.add_update(payload) for payload in payloads]
        if not wait:
            if self._unwaited_mark is None:
                self._unwaited_mark = mark
            return []
        return await self._wait(update_ids[-1], mark, expect, timeout, quiet)

    async def _wait(
        self, update_id: int, mark: int, expect: int, timeout: float, quiet: float
    ) -> list[BotMessage]:
        """Apply the waiting rule of this module to update ``update_id``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        settled_at: float | None = None
        while True:
            now = loop.time()
            actions = [a for a in self.api.actions[mark:] if a.chat_id == self.chat_id]
            confirmed = self.api.confirmed_offset > update_id
            wake_at = deadline
            if confirmed and sum(a.counts for a in actions) >= expect:
                settled_at = now if settled_at is None else settled_at
                quiet_from = max([settled_at, *(a.at for a in actions)])
                if now - quiet_from >= quiet:
                    return self._reaction(actions)
                wake_at = min(deadline, quiet_from + quiet)
            if now >= deadline:
                raise AssertionError(self._timeout_report(update_id, actions, expect, timeout))
            await self.api.wait_for_change(wake_at - now)

    def _reaction(self, actions: list[BotAction]) -> list[BotMessage]:
        ids = dict.fromkeys(i for a in actions if a.counts for i in a.message_ids)
        found = (self.api.bot_message(self.chat_id, i) for i in ids)
        return [message for message in found if message is not None]

    def _timeout_report(
        self, update_id: int, actions: list[BotAction], expect: int, timeout: float
    ) -> str:
        got = [(a.method, [self._text_of(i) for i in a.message_ids]) for a in actions]
        return (
            f"timed out after {timeout} s waiting for the bot in chat {self.chat_id}: "
            f"update {update_id} confirmed={self.api.confirmed_offset > update_id} "
            f"(confirmed offset {self.api.confirmed_offset}); expected >= {expect} "
            f"message action(s), got {sum(a.counts for a in actions)}: {got}"
        )

    def _text_of(self, message_id: int) -> str | None:
        message = self.api.bot_message(self.chat_id, message_id)
        return message.text if message else "<deleted>"


class Member(Person):
    """A person writing in a group or channel chat that the bot is in (see FakeBotApi.group)."""

    def __init__(self, api: FakeBotApi, user: JSON, group: JSON) -> None:
        super().__init__(api, user)
        self.group = group

    @property
    def chat_id(self) -> int:
        return int(self.group["id"])

    @property
    def chat(self) -> JSON:
        return dict(self.group)

    async def add_bot(
        self, *, expect: int = 1, timeout: float = DEFAULT_TIMEOUT, quiet: float = DEFAULT_QUIET
    ) -> list[BotMessage]:
        """Add the bot to the group: a ``my_chat_member`` update, as Telegram sends it."""
        change = {
            "chat": self.chat,
            "from": self.user,
            "date": int(time.time()),
            "old_chat_member": {"status": "left", "user": self.api.bot_user},
            "new_chat_member": {"status": "member", "user": self.api.bot_user},
        }
        return await self._act([{"my_chat_member": change}], expect, timeout, quiet)
