"""Application wiring: base URLs, rate limiter, gate, dialogs, error handler, menus."""

import contextlib
import logging

from telegram import BotCommand, BotCommandScopeDefault, ReplyKeyboardRemove, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import gate
from bot.application import HoctapApplication
from bot.commands import menu_for
from bot.config import Settings
from bot.context import BotContext
from bot.errors import install_redaction, on_error
from bot.flood import PRESS_LIMIT, FloodGuard
from bot.i18n import LOCALES, _, use_locale
from bot.jobs import schedule_jobs
from bot.ordering import PerPersonUpdateProcessor
from bot.private import PrivateOnly
from bot.reminders import schedule_reminders
from conversations import (
    chart,
    digest,
    enrolment,
    evidence,
    evidence_intake,
    evidence_view,
    export,
    households,
    invitation,
    missing,
    one_dialog,
    outside,
    people,
    profile,
    programme_year,
    recognition,
    registration,
    registration_bulk,
    registrations_list,
    review,
    self_assessment,
    status,
    summary,
)
from conversations import help as help_dialog
from storage import Storage
from storage.persistence import SqlitePersistence

log = logging.getLogger(__name__)


def build_application(
    settings: Settings,
    storage: Storage,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> HoctapApplication:
    """The bot as it runs in production; tests inject the request objects."""
    install_redaction(settings.token())
    builder = (
        Application.builder()
        .application_class(HoctapApplication)
        .token(settings.token())
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_base_url)
        .rate_limiter(AIORateLimiter(max_retries=2))
        .context_types(ContextTypes(context=BotContext))
        .persistence(SqlitePersistence(storage.db))
        .concurrent_updates(PerPersonUpdateProcessor())
        .updater(None)
        .post_init(on_start)
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    app = builder.build()
    app.storage, app.settings, app.flood = storage, settings, FloodGuard()
    app.press_flood = FloodGuard(limit=PRESS_LIMIT)
    app.private_only = PrivateOnly()
    add_handlers(app)
    return app


DIALOGS = (
    enrolment,
    help_dialog,
    profile,
    invitation,
    people,
    registration_bulk,  # before registration: /dangky's first screen opens it by button
    registration,
    registrations_list,
    self_assessment,
    programme_year,
    evidence,
    evidence_view,
    review,
    recognition,
    digest,
    summary,
    status,
    missing,
    export,
    chart,
    households,
)


def add_handlers(app: Application) -> None:
    app.add_handler(gate.handler(), group=gate.GATE_GROUP)
    app.add_handler(one_dialog.handler(), group=one_dialog.GROUP)
    for dialog in DIALOGS:
        app.add_handlers(dialog.handlers())
    app.add_handler(CommandHandler("huy", nothing_to_cancel))
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    app.add_handler(self_assessment.typed_handler())  # a score typed on its screen
    app.add_handler(evidence.resumed_photo_handler())  # a photo after /minhchung was left
    app.add_handler(outside.handler())
    app.add_handler(CallbackQueryHandler(stale_button), group=STALE_GROUP)
    app.add_error_handler(on_error)


STALE_GROUP = 100  # after every dialog's group


async def stale_button(update: Update, context: BotContext) -> None:
    """A declared button that no open dialog took (the gate refused every other press): one
    polite alert, and its buttons are taken away so that it is not pressed again."""
    if context.action is not None:  # a dialog's handler took it (bot.actions.ActionHandler)
        return
    query = update.callback_query
    await query.answer(
        _("This button is no longer valid. Please start again from the command."), show_alert=True
    )
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(None)


async def nothing_to_cancel(update: Update, context: BotContext) -> None:
    """/huy outside any dialog: the dialogs' own /huy handlers come first when one is open."""
    if await self_assessment.stop(update, context):
        return
    await update.message.reply_text(
        _("There is nothing to cancel."), reply_markup=ReplyKeyboardRemove()
    )


async def unknown_command(update: Update, context: BotContext) -> None:
    await update.message.reply_text(_("I do not know that command. Send /trogiup to see yours."))


async def on_start(app: HoctapApplication) -> None:
    """post_init: the guest menus, then the timed jobs."""
    await set_guest_menus(app)
    schedule_jobs(app)
    evidence_intake.schedule(app)
    schedule_reminders(app)


async def set_guest_menus(app: Application) -> None:
    """The menu everyone sees before enrolling; a refusal must not stop the bot."""
    for locale in LOCALES:
        with use_locale(locale):
            commands = [BotCommand(name, text) for name, text in menu_for(None)]
        try:
            await app.bot.set_my_commands(
                commands, scope=BotCommandScopeDefault(), language_code=locale
            )
        except TelegramError as error:
            log.warning("setMyCommands for %s refused: %s", locale, error)
