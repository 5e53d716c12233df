"""The gate every update passes first: who is speaking, in which language, and may they."""

from telegram import Update
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.access import refuse
from bot.actions import action_of
from bot.commands import Command, command, command_of_button
from bot.context import BotContext
from bot.flood import Verdict
from bot.i18n import _, set_locale
from bot.labels import render_not_enrolled
from bot.private import is_private

GATE_GROUP = -100
ENROLMENT_COMMANDS = frozenset({"start", "huy"})
ENROLMENT_DRAFT = "enrolment"  # user_data key of /start's dialog; lets a guest past the gate
MAX_COMMAND_TEXT = 200


def command_name(update: Update) -> str | None:
    """The command an update carries (`/start@bot x` → `start`), if any."""
    message = update.effective_message
    text = (message.text or message.caption or "") if message and not update.callback_query else ""
    if not text.startswith("/") or len(text) < 2:
        return None
    return text[1:].split(maxsplit=1)[0].split("@")[0].lower()


async def gate(update: Update, context: BotContext) -> None:
    """Private chats only; messages, edits and button presses only; flood control; who."""
    if update.effective_chat is not None and not is_private(update):
        await context.application.private_only.turn_away(update, context)  # channels too
        raise ApplicationHandlerStop
    user = update.effective_user
    if user is None or update.effective_chat is None:
        raise ApplicationHandlerStop
    if update.message is None and update.callback_query is None and not update.edited_message:
        raise ApplicationHandlerStop  # blocked/unblocked, reactions...: nothing to answer
    verdict = flood_verdict(update, context)
    if verdict is Verdict.DROP:
        raise ApplicationHandlerStop
    person = await context.storage.people.by_telegram_id(user.id)
    context.person = person if person and person.active else None
    if verdict is Verdict.WARN:
        await slow_down(update, context)
    if update.edited_message:
        await refuse_edit(update, context)
    if context.person is None:
        set_locale(context.settings.default_locale)
        await turn_away_guest(update, context)
        await refuse_unknown_button(update, context)
        return
    set_locale(context.person.locale)
    if context.person.area_id is not None:
        context.area = await context.storage.areas.get(context.person.area_id)
    if too_long(update):
        await update.effective_message.reply_text(
            _("That is too long for a command. Please send it again with less text after it.")
        )
        raise ApplicationHandlerStop
    await refuse_unknown_button(update, context)
    spec = command_of(update)
    if spec is not None and context.person.role not in spec.roles:
        if update.callback_query:
            await refuse(update, context, "button", {"data": update.callback_query.data})
        else:
            await update.effective_message.reply_text(_("This command is not available to you."))
        raise ApplicationHandlerStop


async def refuse_unknown_button(update: Update, context: BotContext) -> None:
    """A press whose data no declared action reads (forged, garbled, or of a button kind
    that no longer exists) is refused and audited before any handler sees it."""
    query = update.callback_query
    if query is not None and action_of(query.data) is None:
        await refuse(update, context, "button", {"data": query.data})
        raise ApplicationHandlerStop


def too_long(update: Update) -> bool:
    """A command followed by more text than any command reads (an area, a number, a name):
    refused before a handler echoes it back past Telegram's message limit."""
    message = update.message
    return command_name(update) is not None and len(message.text or "") > MAX_COMMAND_TEXT


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


async def refuse_edit(update: Update, context: BotContext) -> None:
    """An edited message is never acted on (a command in it would skip what the dialog
    expects); the person is told to send a new message instead."""
    set_locale(context.person.locale if context.person else context.settings.default_locale)
    await update.edited_message.reply_text(
        _("I cannot act on a message that was changed after sending. Please send a new message.")
    )
    raise ApplicationHandlerStop


def command_of(update: Update) -> Command | None:
    """The registry entry a command or a button press belongs to."""
    if update.callback_query:
        return command_of_button(update.callback_query.data or "")
    name = command_name(update)
    return command(name) if name else None


def flood_verdict(update: Update, context: BotContext) -> Verdict | None:
    """Messages and edits count against one limit, button presses against another."""
    flood = context.application.flood
    if flood is None:
        return None
    presses = context.application.press_flood if update.callback_query else None
    return (presses or flood).check(update.effective_user.id)


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
        action = action_of(update.callback_query.data)
        return enrolling and action is not None and action.prefix == "enrol"
    return enrolling and update.message is not None


def handler() -> TypeHandler:
    return TypeHandler(Update, gate)
