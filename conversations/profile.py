"""/toi (me) and /ngonngu (language)."""

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.actions import Action
from bot.context import BotContext
from bot.i18n import LOCALES, _, language_name, set_locale
from bot.menus import set_person_menu
from conversations.common import area_path, buttons, close_question
from conversations.help import role_name
from storage.models import Area, Person

LANGUAGE = Action("ngonngu", "lang:{locale}", locale=LOCALES)


def render_me(person: Person, lineage: list[Area]) -> str:
    return _("Your account\nName: {name}\nRole: {role}\nArea: {area}\nPhone: {phone}").format(
        name=person.full_name,
        role=role_name(person.role),
        area=area_path(lineage) if lineage else _("the whole country"),
        phone=person.phone,
    )


def render_language_choice() -> tuple[str, InlineKeyboardMarkup]:
    keyboard = buttons([[LANGUAGE.button(language_name(code), locale=code) for code in LOCALES]])
    return _("Choose your language:"), keyboard


async def show_me(update: Update, context: BotContext) -> None:
    lineage = await context.storage.areas.lineage_of(context.person.area_id)
    await update.message.reply_text(render_me(context.person, lineage))


async def ask_language(update: Update, context: BotContext) -> None:
    text, keyboard = render_language_choice()
    await update.message.reply_text(text, reply_markup=keyboard)


async def language_chosen(update: Update, context: BotContext) -> None:
    locale = context.pressed.locale
    await close_question(update.callback_query, language_name(locale))
    await context.storage.people.set_locale(context.person.id, locale)
    person = context.person.model_copy(update={"locale": locale})
    set_locale(locale)
    await set_person_menu(context.bot, person, context.settings.web_base_url)
    await update.effective_message.reply_text(_("From now on I will write to you in English."))


def handlers() -> list:
    return [
        CommandHandler("toi", show_me),
        CommandHandler("ngonngu", ask_language),
        LANGUAGE.handler(language_chosen),
    ]
