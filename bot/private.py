"""Private chats only: in a group, supergroup or channel the bot says one line, then leaves.

Personal data must never reach a group, so no update from a non-private chat goes past the
gate: not a command, not a button, not an answer to a dialog. The line tells people to write
to the bot privately, with a link; it is said at most once per chat per hour (in memory: a
restart may say it once more), then the bot leaves the chat.
"""

import logging
import time
from collections.abc import Callable

from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError

from bot.context import BotContext
from bot.i18n import _, set_locale

log = logging.getLogger(__name__)

NOTICE_EVERY = 3600.0
GONE = (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is None or chat.type == ChatType.PRIVATE


class PrivateOnly:
    """Remembers when each non-private chat was last told, so that it is told once an hour."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._told: dict[int, float] = {}

    def due(self, chat_id: int) -> bool:
        now = self.clock()
        last = self._told.get(chat_id)
        if last is not None and now - last < NOTICE_EVERY:
            return False
        self._told = {c: t for c, t in self._told.items() if now - t < NOTICE_EVERY}
        self._told[chat_id] = now
        return True

    async def turn_away(self, update: Update, context: BotContext) -> None:
        """Answer a button quietly; say the line once an hour; leave the chat."""
        set_locale(context.settings.default_locale)
        chat = update.effective_chat
        text = _("I work only in private chats, to keep personal data safe. Write to me: {link}")
        text = text.format(link=f"https://t.me/{context.bot.username}")
        if update.callback_query:
            await _quietly(update.callback_query.answer(text, show_alert=True))
        member = update.my_chat_member
        if member is not None and member.new_chat_member.status in GONE:
            return  # removed from the chat: nothing to say, nowhere to say it
        if self.due(chat.id):
            await _quietly(context.bot.send_message(chat.id, text))
        await _quietly(context.bot.leave_chat(chat.id))


async def _quietly(call) -> None:
    """A refusal in a group must never raise into the error handler (which would write there)."""
    try:
        await call
    except TelegramError as error:
        log.info("in a non-private chat: %s", error)
