"""/nhacnho: staff and admins switch their weekly digest on or off (`dg:on`, `dg:off`).

The digest itself is sent by bot.reminders on Monday mornings.
"""

from telegram import Update
from telegram.ext import CommandHandler

from bot.actions import Action
from bot.context import BotContext
from bot.i18n import _
from conversations.common import buttons
from storage.usecases.digest import switch_digest

SWITCH = Action("nhacnho", "dg:{state}", state=("on", "off"))


def render(on: bool) -> tuple[str, object]:
    if on:
        text = _(
            "Your weekly digest is on: every Monday at 08:00 you get your area's counts of "
            "registrations, evidence photos and photos waiting for review."
        )
        keyboard = buttons([[SWITCH.button(_("🔕 Switch off"), state="off")]])
    else:
        text = _(
            "Your weekly digest is off. Switched on, it brings every Monday at 08:00 your "
            "area's counts of registrations, evidence photos and photos waiting for review."
        )
        keyboard = buttons([[SWITCH.button(_("🔔 Switch on"), state="on")]])
    return text, keyboard


async def show(update: Update, context: BotContext) -> None:
    on = await context.storage.reminders.digest_on(context.person.id)
    text, keyboard = render(on)
    await update.message.reply_text(text, reply_markup=keyboard)


async def switch(update: Update, context: BotContext) -> None:
    on = context.pressed.state == "on"
    await switch_digest(context.storage, context.person, on)
    await update.callback_query.answer()
    text, keyboard = render(on)
    await update.callback_query.edit_message_text(text, reply_markup=keyboard)


def handlers() -> list:
    return [
        CommandHandler("nhacnho", show),
        SWITCH.handler(switch),
    ]
