"""/moi (invite): an admin invites anyone anywhere; staff invite within their own area.

`/moi ROLE AREA` does it in one message; `/moi` alone asks for the role, then the area.
"""

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import allowed, refuse
from bot.actions import Action
from bot.context import BotContext
from bot.i18n import _
from bot.i18n import __ as _l
from conversations.common import area_path, buttons, close_question, step
from conversations.help import role_name
from conversations.kit import cancel_handler, dialog, remember_screen
from conversations.states import InvitationStep
from storage.models import Area, Invite, Person, Role
from storage.usecases.invites import INVITES, fits_area, may_invite
from storage.usecases.invites import invite as make_invite

DRAFT = "invitation"
ROLE = Action("moi", "inv:role:{role}", role=Role)
AREA = Action("moi", "inv:area:{area_id}", area_id=int)
MAX_AREA_BUTTONS = 10


# Who may invite whom, and to what kind of area each role belongs.
def render_roles(inviter: Person) -> tuple[str, InlineKeyboardMarkup]:
    rows = [[ROLE.button(role_name(role), role=role)] for role in INVITES[inviter.role]]
    return step(1, 2, _("Whom do you want to invite?")), buttons(rows)


def render_areas(role: Role, choices: list[Area]) -> tuple[str, InlineKeyboardMarkup]:
    if choices:
        question = _(
            "Which area will the {role} look after? Pick one below, or type its code: "
            "01 (a province), 00070 (a commune) or 00070/Thôn Đông (a hamlet)."
        )
    else:  # an administrator: no area of their own to offer
        question = _(
            "Which area will the {role} look after? Please type its code: "
            "01 (a province), 00070 (a commune) or 00070/Thôn Đông (a hamlet)."
        )
    text = step(2, 2, question.format(role=role_name(role)))
    return text, buttons([[AREA.button(area.name, area_id=area.id)] for area in choices])


def render_invite_made(invite: Invite, lineage: list[Area], bot_username: str, zone=None) -> str:
    return _(
        "Invite created for a {role} in {area}.\nCode: {code}\nValid until {expires:%d/%m/%Y}.\n\n"
        "Send this link to the person; it opens the bot with the code filled in:\n{link}"
    ).format(
        role=role_name(invite.role),
        area=area_path(lineage) if lineage else _("the whole country"),
        code=invite.code,
        expires=invite.expires_at.astimezone(zone) if zone else invite.expires_at,
        link=f"https://t.me/{bot_username}?start={invite.code}",
    )


async def begin(update: Update, context: BotContext) -> str | int:
    if len(context.args) >= 2:
        role, *area_words = context.args
        await invite_by_command(update, context, role, " ".join(area_words))
        return ConversationHandler.END
    text, keyboard = render_roles(context.person)
    await update.message.reply_text(text, reply_markup=keyboard)
    return InvitationStep.ROLE


async def invite_by_command(update: Update, context: BotContext, role: str, spec: str) -> None:
    try:
        chosen = Role(role)
    except ValueError:
        await update.message.reply_text(_("Unknown role. Send /moi to choose from a list."))
        return
    area = await context.storage.areas.resolve(spec, context.area)
    if area is None:
        await update.message.reply_text(_("I do not know that area. Please check the code."))
        return
    await create(update, context, chosen, area)


async def role_chosen(update: Update, context: BotContext) -> str | int:
    role = context.pressed.role
    if role not in INVITES[context.person.role]:
        await refuse(update, context, "invite", {"role": role.value})
        return ConversationHandler.END
    await close_question(update.callback_query, role_name(role))
    if role is Role.ADMIN:
        await create(update, context, role, None)
        return ConversationHandler.END
    context.user_data[DRAFT] = {"role": role.value}
    choices = await area_choices(context)
    text, keyboard = render_areas(role, choices)
    sent = await update.effective_message.reply_text(text, reply_markup=keyboard)
    remember_screen(context.user_data[DRAFT], sent)
    return InvitationStep.AREA


async def area_choices(context: BotContext) -> list[Area]:
    """The inviter's own area and what lies directly beneath it, as far as buttons go."""
    if context.area is None:
        return []
    children = await context.storage.areas.children(context.area)
    return [context.area, *children][:MAX_AREA_BUTTONS]


async def area_pressed(update: Update, context: BotContext) -> int | None:
    area_id = context.pressed.area_id
    area = await context.storage.areas.get(area_id)
    if area is None or not allowed(context, area):
        await refuse(update, context, "invite", {"area_id": area_id})
        return None
    await close_question(update.callback_query, area.name)
    return await area_given(update, context, area)


async def area_typed(update: Update, context: BotContext) -> int | None:
    area = await context.storage.areas.resolve(update.message.text or "", context.area)
    if area is None:
        await update.message.reply_text(_("I do not know that area. Please check the code."))
        return None
    return await area_given(update, context, area)


async def area_given(update: Update, context: BotContext, area: Area | None) -> int | None:
    role = Role(context.user_data[DRAFT]["role"])
    if await create(update, context, role, area):
        context.user_data.pop(DRAFT, None)
        return ConversationHandler.END
    return None


async def create(update: Update, context: BotContext, role: Role, area: Area | None) -> bool:
    """Make the invite if the inviter may; say why not otherwise. True when made."""
    inviter = context.person
    if not may_invite(inviter, role) or not allowed(context, area):
        await refuse(
            update, context, "invite", {"role": role.value, "area_id": area.id if area else None}
        )
        return False
    if not fits_area(role, area):
        await update.effective_message.reply_text(
            _("A {role} cannot be invited for that kind of area. Please choose another.").format(
                role=role_name(role)
            )
        )
        return False
    invite = await make_invite(context.storage, inviter, role, area)
    lineage = await context.storage.areas.lineage(area) if area else []
    await update.effective_message.reply_text(
        render_invite_made(invite, lineage, context.bot.username, context.settings.tzinfo)
    )
    return True


def handlers() -> list:
    return [
        dialog(
            "invitation",
            entry_points=[CommandHandler("moi", begin)],
            states={
                InvitationStep.ROLE: [ROLE.handler(role_chosen)],
                InvitationStep.AREA: [
                    AREA.handler(area_pressed),
                    # text, or a photo sent instead: asked again
                    MessageHandler(filters.UpdateType.MESSAGE & ~filters.COMMAND, area_typed),
                ],
            },
            cancel=cancel_handler(_l("Cancelled. Nothing was created."), [DRAFT]),
        )
    ]
