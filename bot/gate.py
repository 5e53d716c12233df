"""The gate every update passes first: who is speaking, in which language, and may they."""

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.access import refuse
from bot.commands import Command, command, command_of_button
from bot.context import BotContext
from bot.flood import Verdict
from bot.i18n import _, set_locale
from bot.labels import render_not_enrolled

GATE_GROUP = -100
ENROLMENT_COMMANDS = frozenset({"start", "huy"})
ENROLMENT_DRAFT = "enrolment"  # user_data key of /start's dialog; lets a guest past the gate


def command_name(update: Update) -> str | None:
    """The command an update carries (`/start@bot x` → `start`), if any."""
    text = update.message.text if update.message and update.message.text else ""
    if not text.startswith("/") or len(text) < 2:
        return None
    return text[1:].split(maxsplit=1)[0].split("@")[0].lower()


async def gate(update: Update, context: BotContext) -> None:
    user = update.effective_user
    if user is None:
        raise ApplicationHandlerStop
    verdict = flood_verdict(update, context)
    if verdict is Verdict.DROP:
        raise ApplicationHandlerStop
    person = await context.storage.people.by_telegram_id(user.id)
    context.person = person if person and person.active else None
    if verdict is Verdict.WARN:
        await slow_down(update, context)
    if context.person is None:
        set_locale(context.settings.default_locale)
        await turn_away_guest(update, context)
        return
    set_locale(context.person.locale)
    if context.person.area_id is not None:
        context.area = await context.storage.areas.get(context.person.area_id)
    spec = command_of(update)
    if spec is not None and context.person.role not in spec.roles:
        if update.callback_query:
            await refuse(update, context, "button", {"data": update.callback_query.data})
        else:
            await update.effective_message.reply_text(_("This command is not available to you."))
        raise ApplicationHandlerStop


async def slow_down(update: Update, context: BotContext) -> None:
    """Once per flood: ask the person to slow down; this and later messages are ignored."""
    set_locale(context.person.locale if context.person else context.settings.default_locale)
    text = _(
        "You are sending messages faster than I can read them. Please wait a few seconds, "
        "then send again what is still needed."
    )
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    elif update.effective_chat:
        await context.bot.send_message(update.effective_chat.id, text)
    raise ApplicationHandlerStop


def command_of(update: Update) -> Command | None:
    """The registry entry a command or a button press belongs to."""
    if update.callback_query:
        return command_of_button(update.callback_query.data or "")
    name = command_name(update)
    return command(name) if name else None


def flood_verdict(update: Update, context: BotContext) -> Verdict | None:
    """Messages count against the flood limit; button presses answer questions and do not."""
    if update.message is None or context.application.flood is None:
        return None
    return context.application.flood.check(update.effective_user.id)


async def turn_away_guest(update: Update, context: BotContext) -> None:
    """Someone not enrolled gets only the 'not enrolled' answer, unless they are enrolling."""
    if is_enrolment(update, enrolling=ENROLMENT_DRAFT in context.user_data):
        return
    if update.callback_query:
        await update.callback_query.answer(_("You are not enrolled."), show_alert=True)
    elif update.effective_chat:
        await context.bot.send_message(update.effective_chat.id, render_not_enrolled())
    raise ApplicationHandlerStop


def is_enrolment(update: Update, enrolling: bool) -> bool:
    """/start and /huy, and once enrolment has begun, its answers and its buttons."""
    name = command_name(update)
    if name is not None:
        return name in ENROLMENT_COMMANDS
    if update.callback_query:
        return enrolling and (update.callback_query.data or "").startswith("enrol:")
    return enrolling and update.message is not None


def handler() -> TypeHandler:
    return TypeHandler(Update, gate)
