"""The parts every dialog repeats, written once: the ConversationHandler with its /huy cancel,
and the Skip button of a question that may be left unanswered.

A dialog keeps what it has collected in `context.user_data` under its own keys (its drafts). A
draft that is a dict may name the message of the question on screen under `"screen"`; cancelling
takes that question's buttons away, so that nothing stale is left to press.
"""

from collections.abc import Awaitable, Callable, Sequence

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler

from bot.context import BotContext
from bot.i18n import LazyString
from conversations.common import close_question
from conversations.screen import close_screen

SCREEN = "screen"  # in a draft dict: the message id of the question on screen

Callback = Callable[[Update, BotContext], Awaitable[object]]


def remember_screen(draft: dict, message) -> None:
    """Note `message` as the question on screen, for a cancel to close its buttons."""
    draft[SCREEN] = message.message_id


def cancel_handler(
    said: LazyString,
    drafts: Sequence[str] = (),
    *,
    before: Callback | None = None,
    remove_keyboard: bool = False,
) -> Callback:
    """The /huy of a dialog: forget its drafts (closing the buttons of the question on
    screen), run `before` (what the dialog must tidy besides), say `said`, end the dialog."""

    async def cancel(update: Update, context: BotContext) -> int:
        for key in drafts:
            draft = context.user_data.pop(key, None)
            if isinstance(draft, dict) and draft.get(SCREEN):
                await close_screen(context.bot, update.effective_chat.id, draft[SCREEN], None)
        if before is not None:
            await before(update, context)
        markup = ReplyKeyboardRemove() if remove_keyboard else None
        await update.message.reply_text(str(said), reply_markup=markup)
        return ConversationHandler.END

    return cancel


def dialog(
    name: str,
    entry_points: list[BaseHandler],
    states: dict[object, list[BaseHandler]],
    cancel: Callback,
) -> ConversationHandler:
    """A dialog as every one of ours is: persisted under `name` (its state survives a restart),
    entered again from any entry point, left with /huy (usually a `cancel_handler`)."""
    return ConversationHandler(
        entry_points=entry_points,
        states=states,
        fallbacks=[CommandHandler("huy", cancel)],
        allow_reentry=True,
        name=name,
        persistent=True,
    )


def skip(
    find: Callable[[Update, BotContext], Awaitable[dict | int | str | None]],
    answer: str | None,
    go_on: Callable[[Update, BotContext, dict], Awaitable[object]],
) -> Callback:
    """The handler of a question's Skip button. `find` returns the draft the press belongs to
    or, having answered a refused or stale press itself, the state to return. The press leaves
    `answer` (if named) empty in the draft, takes the question's buttons away, and goes on with
    `go_on(update, context, draft)`."""

    async def pressed(update: Update, context: BotContext):
        draft = await find(update, context)
        if not isinstance(draft, dict):
            return draft
        if answer is not None:
            draft[answer] = None
        await close_question(update.callback_query)
        return await go_on(update, context, draft)

    return pressed
