"""Each person's command menu, in their role and their language."""

import logging

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)
from telegram.error import TelegramError

from bot.commands import STAFF_AND_ADMIN, menu_for
from bot.i18n import _, use_locale
from storage.models import Person

log = logging.getLogger(__name__)


async def set_person_menu(bot: Bot, person: Person, web_base_url: str | None = None) -> None:
    """Show the person only the commands of their role, in the language they chose; and, with
    the dashboard configured, its button as the chat's menu button for staff and admins."""
    with use_locale(person.locale):
        commands = [BotCommand(name, text) for name, text in menu_for(person.role)]
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(person.telegram_id))
    except TelegramError as error:
        log.warning("menu for person %s refused: %s", person.id, error)
    await set_dashboard_button(bot, person, web_base_url)


async def set_dashboard_button(bot: Bot, person: Person, web_base_url: str | None) -> None:
    """The chat's menu button opens the dashboard for staff and admins; the default otherwise
    (nothing is changed while the dashboard is not configured)."""
    if not web_base_url:
        return
    if person.active and person.role in STAFF_AND_ADMIN:
        with use_locale(person.locale):
            button = MenuButtonWebApp(_("Dashboard"), WebAppInfo(web_base_url))
    else:
        button = MenuButtonDefault()
    try:
        await bot.set_chat_menu_button(chat_id=person.telegram_id, menu_button=button)
    except TelegramError as error:
        log.warning("menu button for person %s refused: %s", person.id, error)


async def clear_person_menu(bot: Bot, person: Person, web_base_url: str | None = None) -> None:
    """Back to the guest menu, for someone deactivated."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(person.telegram_id))
    except TelegramError as error:
        log.warning("menu removal for person %s refused: %s", person.id, error)
    if web_base_url:
        await set_dashboard_button(bot, person.model_copy(update={"active": False}), web_base_url)
