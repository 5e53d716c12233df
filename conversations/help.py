"""/trogiup (/help), and the answer for people who are not enrolled."""

from telegram import Update
from telegram.ext import CommandHandler

from bot.commands import commands_for
from bot.context import BotContext
from bot.i18n import _
from bot.labels import render_not_enrolled as render_not_enrolled  # re-exported
from storage.models import Person, Role


def role_name(role: Role) -> str:
    return {
        Role.ADMIN: _("administrator"),
        Role.STAFF: _("supervising staff"),
        Role.BRANCH_CHAIR: _("association branch chair"),
        Role.HAMLET_HEAD: _("hamlet head"),
    }[role]


def render_command_list(person: Person) -> str:
    lines = [f"/{c.name} — {c.description}" for c in commands_for(person.role) if c.in_menu]
    return "\n".join(lines)


def render_help(person: Person) -> str:
    return _(
        "Hello {name}, you are enrolled as {role}.\nWhat you can do here:\n\n{commands}"
    ).format(
        name=person.full_name, role=role_name(person.role), commands=render_command_list(person)
    )


async def show_help(update: Update, context: BotContext) -> None:
    await update.effective_message.reply_text(render_help(context.person))


def handlers() -> list:
    return [CommandHandler(["trogiup", "help"], show_help)]
