"""Each person's command menu, in their role and their language."""

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.commands import menu_for
from bot.i18n import use_locale
from storage.models import Person

log = logging.getLogger(__name__)


async def set_person_menu(bot: Bot, person: Person) -> None:
    """Show the person only the commands of their role, in the language they chose."""
    with use_locale(person.locale):
        commands = [BotCommand(name, text) for name, text in menu_for(person.role)]
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(person.telegram_id))
    except TelegramError as error:
        log.warning("menu for person %s refused: %s", person.id, error)


async def clear_person_menu(bot: Bot, person: Person) -> None:
    """Back to the guest menu, for someone deactivated."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(person.telegram_id))
    except TelegramError as error:
        log.warning("menu removal for person %s refused: %s", person.id, error)
