"""Who may see or change what: one rule, used by every command and every button."""

from telegram import Update

from bot.context import BotContext
from bot.i18n import _
from storage.models import Area, Person, Role
from storage.registrations import Registration
from storage.usecases.refusals import refused


def may_access(person: Person, person_area: Area | None, area: Area | None) -> bool:
    """Whether `person` may read and write `area`: admins everywhere, others within their area.

    `area` None means the whole country, which only admins cover.
    """
    if person.role is Role.ADMIN:
        return True
    return person_area is not None and area is not None and person_area.contains(area)


def allowed(context: BotContext, area: Area | None) -> bool:
    return context.person is not None and may_access(context.person, context.area, area)


async def audit_denial(update: Update, context: BotContext, action: str, subject: dict) -> None:
    user = update.effective_user
    await refused(context.storage, context.person, user.id if user else None, action, subject)


async def refuse(update: Update, context: BotContext, action: str, subject: dict) -> None:
    """Tell the person they have no access, change nothing, and audit the attempt."""
    await audit_denial(update, context, action, subject)
    text = _("You do not have access to that.")
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await update.effective_message.reply_text(text)


async def hamlet_in_reach(
    update: Update,
    context: BotContext,
    registration: Registration | None,
    action: str,
    subject: dict,
) -> Area | None:
    """The registration's hamlet if the person may reach it; otherwise refused and audited."""
    hamlet = await context.storage.areas.get(registration.hamlet_id) if registration else None
    if hamlet is None or not allowed(context, hamlet):
        await refuse(update, context, action, subject)
        return None
    return hamlet


async def registration_in_reach(
    update: Update, context: BotContext, registration_id: int, action: str
) -> tuple[Registration, Area] | None:
    """The registration a button names and its hamlet, if the presser may reach them."""
    registration = await context.storage.registrations.get(registration_id)
    subject = {"registration_id": registration_id}
    hamlet = await hamlet_in_reach(update, context, registration, action, subject)
    return None if hamlet is None else (registration, hamlet)


async def numbered_in_reach(
    update: Update,
    context: BotContext,
    registration: Registration | None,
    action: str,
    missing: str,
) -> Area | None:
    """The hamlet of a registration someone typed the number of, if they may reach it.

    A number outside one's area gets the same answer (`missing`) as a number that does not
    exist, so that typing numbers tells nothing about other areas; the attempt is audited.
    """
    hamlet = await context.storage.areas.get(registration.hamlet_id) if registration else None
    if hamlet is not None and allowed(context, hamlet):
        return hamlet
    if registration is not None:
        await audit_denial(update, context, action, {"number": registration.number})
    await update.effective_message.reply_text(missing)
    return None
