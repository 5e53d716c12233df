"""The gate every update passes first: who is speaking, in which language, and may they."""

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.commands import GUEST_COMMANDS, command
from bot.context import BotContext
from bot.i18n import _, set_locale
from conversations.help import render_not_enrolled

GATE_GROUP = -100


def command_name(update: Update) -> str | None:
    """The command an update carries (`/start@bot x` → `start`), if any."""
    text = update.message.text if update.message and update.message.text else ""
    if not text.startswith("/"):
        return None
    return text[1:].split(maxsplit=1)[0].split("@")[0].lower() if len(text) > 1 else None


async def gate(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        raise ApplicationHandlerStop
    person = await context.storage.people.by_telegram_id(user.id)
    context.person = person if person and person.active else None
    set_locale(context.person.locale if context.person else context.settings.default_locale)
    if context.person is None:
        await turn_away_guest(update, context)
        return
    name = command_name(update)
    if name is not None and (spec := command(name)) and context.person.role not in spec.roles:
        await update.effective_message.reply_text(_("This command is not available to you."))
        raise ApplicationHandlerStop


async def turn_away_guest(update: Update, context: BotContext) -> None:
    """Someone not enrolled sees only the 'not enrolled' answer, whatever they send."""
    if command_name(update) in GUEST_COMMANDS - {"trogiup", "help"} and is_enrolling(update):
        return
    if update.callback_query:
        await update.callback_query.answer(_("You are not enrolled."), show_alert=True)
    elif update.effective_chat:
        await context.bot.send_message(update.effective_chat.id, render_not_enrolled())
    raise ApplicationHandlerStop


def is_enrolling(update: Update) -> bool:
    """Whether a guest's update belongs to enrolment; none does until enrolment exists."""
    return False


def handler() -> TypeHandler:
    return TypeHandler(Update, gate)
