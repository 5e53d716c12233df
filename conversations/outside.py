"""A message outside any dialog (free text, a sticker, a greeting): never silence, but one short
answer with the person's main actions as buttons, at most once a minute per person.

Registered last in bot/app.py, so it only sees what no dialog took. The buttons are entry
points the dialogs already have; each is checked by the gate and the dialog like any press.
"""

import time
from weakref import WeakKeyDictionary

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, MessageHandler, filters

from bot.context import BotContext
from bot.i18n import _
from conversations.actions import ASSESS_LIST, EVIDENCE_PAGE, LIST_PAGE, REGISTER_AGAIN
from conversations.common import buttons
from storage.models import Person, Role

QUIET_SECONDS = 60.0
REGISTERING = frozenset({Role.HAMLET_HEAD, Role.STAFF, Role.ADMIN})
# Per running application: person id -> when they last got this answer (time.monotonic()).
ANSWERED: WeakKeyDictionary[Application, dict[int, float]] = WeakKeyDictionary()


def render_nudge(person: Person) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Hello {name}! I answer commands and buttons. What would you like to do? "
        "(/trogiup lists all your commands.)"
    ).format(name=person.full_name)
    rows = []
    if person.role in REGISTERING:
        rows.append([REGISTER_AGAIN.button(_("📝 Register a family or clan"))])
    rows += [
        [LIST_PAGE.button(_("📋 Registrations of my area"), kind="all", status="all", offset=0)],
        [ASSESS_LIST.button(_("✍️ Self-assessment"), offset=0)],
        [EVIDENCE_PAGE.button(_("📷 Send evidence photos"), offset=0)],
    ]
    return text, buttons(rows)


def answered_lately(context: BotContext, person: Person) -> bool:
    """Whether this person got such an answer in the last minute; remembers this one if not."""
    last = ANSWERED.setdefault(context.application, {})
    now = time.monotonic()
    if now - last.get(person.id, -QUIET_SECONDS) < QUIET_SECONDS:
        return True
    last[person.id] = now
    return False


async def outside_dialog(update: Update, context: BotContext) -> None:
    if context.person is None or answered_lately(context, context.person):
        return
    text, keyboard = render_nudge(context.person)
    await update.effective_message.reply_text(text, reply_markup=keyboard)


def handler() -> MessageHandler:
    return MessageHandler(filters.UpdateType.MESSAGE & ~filters.COMMAND, outside_dialog)
