"""One dialog at a time: turning to another dialog leaves the unfinished one.

Every dialog is a ConversationHandler of group 0, and PTB hands a typed message to the first of
them (in bot/app.py's order) that waits for one; so a dialog left unfinished would take the
answers typed in a dialog opened after it (a number meant for /danhsach read as /dangky's
answer). Before the dialogs, a command or a button press of another command leaves every
dialog of the person's that does not take it; what the dialog collected stays in its draft.
A command that only shows something (`SHOWING`) leaves nothing: people come back after it.
"""

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler, TypeHandler

from bot.actions import ActionHandler, action_of
from bot.context import BotContext
from bot.gate import command_name

GROUP = -2  # after the gate, before the dialogs
SHOWING = frozenset({"toi", "trogiup", "help", "thieu"})


def commands_of(dialog: ConversationHandler) -> frozenset[str]:
    """The commands a dialog answers: those it starts with, /huy, and its buttons' commands."""
    handlers: list[BaseHandler] = [*dialog.entry_points, *dialog.fallbacks]
    for state in dialog.states.values():
        handlers += state
    names = {"huy"}
    for handler in handlers:
        if isinstance(handler, CommandHandler):
            names |= handler.commands
        elif isinstance(handler, ActionHandler):
            names.add(handler.action.command)
    return frozenset(names)


def turned_to(update: Update) -> str | None:
    """The command the person turns to: a command sent, or the command of a button pressed."""
    if update.callback_query is not None:
        action = action_of(update.callback_query.data)
        return action.command if action else ""
    name = command_name(update)
    return None if name in SHOWING else name


def handler() -> TypeHandler:
    """The watch. It runs on every command and button press, so what it needs of the dialogs
    (which are fixed once the bot is built) is worked out on its first run."""
    dialogs: list[tuple[ConversationHandler, frozenset[str]]] = []

    async def leave_others(update: Update, context: BotContext) -> None:
        if update.effective_chat is None or update.effective_user is None:
            return
        command = turned_to(update)
        if command is None:
            return
        if not dialogs:
            dialogs.extend(
                (dialog, commands_of(dialog))
                for dialog in context.application.handlers.get(0, ())
                if isinstance(dialog, ConversationHandler)
            )
        # One key for all: every dialog is made by kit.dialog, keyed by chat and user.
        key = dialogs[0][0]._get_key(update)  # PTB has no public way to end a dialog
        for dialog, commands in dialogs:
            if key in dialog._conversations and command not in commands:
                dialog._update_state(dialog.END, key)

    return TypeHandler(Update, leave_others)
