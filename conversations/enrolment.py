"""Enrolment by invite: the code, then confirm the role and area, name, phone and language."""

from datetime import timedelta

from telegram import (
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import (
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.actions import Action, yes_no
from bot.context import BotContext
from bot.gate import ENROLMENT_DRAFT as DRAFT  # its presence lets a guest past the gate
from bot.i18n import LOCALES, _, language_name, set_locale
from bot.i18n import __ as _l
from bot.menus import set_person_menu
from bot.validation import person_name, vietnamese_mobile
from conversations.common import area_path, buttons, close_question, step
from conversations.help import render_command_list, render_help, render_not_enrolled, role_name
from conversations.kit import cancel_handler, dialog
from conversations.states import EnrolmentStep
from storage.clock import utcnow
from storage.models import Area, Invite, InviteStatus, Person
from storage.usecases.enrolment import change_role, enrol

ROLE_CHANGE = "role_change"  # user_data key: the invite an enrolled person may switch to
STEPS = 4
INVITE_RIGHT = Action("start", "enrol:yes")
INVITE_WRONG = Action("start", "enrol:no")
LANGUAGE = Action("start", "enrol:lang:{locale}", locale=LOCALES)
ROLE_CHANGE_ANSWER = Action("start", "rolechg:{answer}", answer=("yes", "no"))
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)


# --- rendering ---------------------------------------------------------------------------


def render_ask_code() -> str:
    """For a guest's plain /start: how to get a code, and where to type one."""
    return (
        render_not_enrolled()
        + "\n\n"
        + _("If you already have an invite code (12 letters and digits), type it here.")
    )


def render_code_problem(status: InviteStatus | None) -> str:
    return {
        None: _("I do not know this code. Please check it and type it again."),
        InviteStatus.EXPIRED: _("This code has expired. Please ask for a new one."),
        InviteStatus.USED: _("This code has already been used. Please ask for a new one."),
        InviteStatus.REVOKED: _("This code has been withdrawn. Please ask for a new one."),
    }[status]


def render_throttled() -> str:
    return _("Too many wrong codes. Please wait an hour before trying again.")


def render_invite(invite: Invite, lineage: list[Area]) -> tuple[str, InlineKeyboardMarkup]:
    where = area_path(lineage) if lineage else _("the whole country")
    text = step(
        1,
        STEPS,
        _("This invite is for:\nRole: {role}\nArea: {area}\n\nIs this right?").format(
            role=role_name(invite.role), area=where
        ),
    )
    keyboard = buttons(
        yes_no(
            INVITE_RIGHT.button(_("✅ Yes, continue")),
            INVITE_WRONG.button(_("❌ No, this is not for me")),
            stacked=True,
        )
    )
    return text, keyboard


def render_ask_name() -> str:
    return step(2, STEPS, _("Please type your full name, for example: Nguyễn Văn An"))


def render_bad_name() -> str:
    return _(
        "Sorry, that does not look like a full name, such as Nguyễn Văn An. Please type the "
        "family name and the given name, at least two words: letters, spaces and . ' - only."
    )


def render_ask_phone() -> tuple[str, ReplyKeyboardMarkup]:
    text = step(
        3,
        STEPS,
        _("Please share your phone number with the button below, or type it (e.g. 0912345678)."),
    )
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton(_("📱 Share my phone number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )
    return text, keyboard


def render_bad_phone() -> str:
    return _(
        "Sorry, that is not a Vietnamese mobile number. Please type 10 digits starting with 0, "
        "for example 0912345678, or use the button below."
    )


def render_not_own_contact() -> str:
    return _("Please share your own phone number with the button below, or type it.")


def render_ask_language() -> tuple[str, InlineKeyboardMarkup]:
    text = step(4, STEPS, _("Which language do you prefer?"))
    return text, buttons([[LANGUAGE.button(language_name(code), locale=code) for code in LOCALES]])


def render_role_change(
    person: Person, current: list[Area], invite: Invite, offered: list[Area]
) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "You are enrolled as {role} for {area}.\nThis invite is for {new_role} in {new_area}.\n\n"
        "Do you want to switch to the new role? The old one ends."
    ).format(
        role=role_name(person.role),
        area=area_path(current) if current else _("the whole country"),
        new_role=role_name(invite.role),
        new_area=area_path(offered) if offered else _("the whole country"),
    )
    keyboard = buttons(
        yes_no(
            ROLE_CHANGE_ANSWER.button(_("✅ Yes, switch"), answer="yes"),
            ROLE_CHANGE_ANSWER.button(_("❌ No, keep my role"), answer="no"),
            stacked=True,
        )
    )
    return text, keyboard


def render_welcome(person: Person, lineage: list[Area]) -> str:
    where = area_path(lineage) if lineage else _("the whole country")
    return _(
        "Welcome, {name}! You are enrolled as {role} for {area}.\n\nYour commands:\n{commands}"
    ).format(
        name=person.full_name,
        role=role_name(person.role),
        area=where,
        commands=render_command_list(person),
    )


# --- handlers ----------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> str | int:
    if context.person is not None:
        if context.args:
            await offer_role_change(update, context, context.args[0])
        else:
            await update.message.reply_text(render_help(context.person))
        return ConversationHandler.END
    known = await context.storage.people.by_telegram_id(update.effective_user.id)
    if known is not None:  # enrolled once, deactivated since: only an officer can undo that
        await update.message.reply_text(
            _(
                "Your account has been deactivated. Please ask the officer who manages your "
                "area to reactivate it; a new invite code cannot do that."
            )
        )
        return ConversationHandler.END
    context.user_data[DRAFT] = {}
    if context.args:
        return await check_code(update, context, context.args[0])
    await update.message.reply_text(render_ask_code())
    return EnrolmentStep.CODE


async def code_typed(update: Update, context: BotContext) -> str:
    return await check_code(update, context, update.message.text)


async def check_code(update: Update, context: BotContext, typed: str) -> str:
    invite = await valid_invite(update, context, typed)
    if invite is None:
        return EnrolmentStep.CODE
    context.user_data[DRAFT] = {"invite_id": invite.id}
    text, keyboard = render_invite(invite, await context.storage.areas.lineage_of(invite.area_id))
    await update.message.reply_text(text, reply_markup=keyboard)
    return EnrolmentStep.CONFIRM


async def valid_invite(update: Update, context: BotContext, typed: str) -> Invite | None:
    """The invite a typed code names, if usable; counts every other code, silent after 5."""
    storage, user_id, now = context.storage, update.effective_user.id, utcnow()
    failures = await storage.enrolment_failures.count_since(user_id, now - FAILURE_WINDOW)
    if failures >= MAX_FAILURES:
        return None
    invite = await storage.invites.by_code(typed)
    status = invite.status(now) if invite else None
    if status is InviteStatus.VALID:
        return invite
    await storage.enrolment_failures.record(user_id, now)
    throttled = failures + 1 >= MAX_FAILURES
    await update.message.reply_text(
        render_throttled() if throttled else render_code_problem(status)
    )
    return None


async def confirmed(update: Update, context: BotContext) -> str:
    await close_question(update.callback_query, _("✅ Yes, continue"))
    await update.effective_message.reply_text(render_ask_name())
    return EnrolmentStep.NAME


async def declined(update: Update, context: BotContext) -> int:
    await close_question(update.callback_query, _("❌ No, this is not for me"))
    context.user_data.pop(DRAFT, None)
    await update.effective_message.reply_text(
        _("Nothing was saved. If the code is wrong, please ask the person who gave it to you.")
    )
    return ConversationHandler.END


async def name_typed(update: Update, context: BotContext) -> str | None:
    name = person_name(update.message.text)
    if name is None:
        await update.message.reply_text(render_bad_name())
        return None
    context.user_data[DRAFT]["name"] = name
    text, keyboard = render_ask_phone()
    await update.message.reply_text(text, reply_markup=keyboard)
    return EnrolmentStep.PHONE


async def contact_shared(update: Update, context: BotContext) -> str | None:
    contact = update.message.contact
    if contact.user_id != update.effective_user.id:
        await update.message.reply_text(render_not_own_contact())
        return None
    return await phone_given(update, context, contact.phone_number)


async def phone_typed(update: Update, context: BotContext) -> str | None:
    return await phone_given(update, context, update.message.text)


async def phone_given(update: Update, context: BotContext, raw: str) -> str | None:
    phone = vietnamese_mobile(raw)
    if phone is None:
        await update.message.reply_text(render_bad_phone())
        return None
    context.user_data[DRAFT]["phone"] = phone
    await update.message.reply_text(_("Thank you."), reply_markup=ReplyKeyboardRemove())
    text, keyboard = render_ask_language()
    await update.message.reply_text(text, reply_markup=keyboard)
    return EnrolmentStep.LANGUAGE


async def language_chosen(update: Update, context: BotContext) -> int:
    query = update.callback_query
    locale = context.pressed.locale
    await close_question(query, language_name(locale))
    draft = context.user_data.pop(DRAFT)
    set_locale(locale)
    person = await enrol(
        context.storage,
        update.effective_user.id,
        draft["name"],
        draft["phone"],
        draft["invite_id"],
        locale,
    )
    if person is None:
        await update.effective_message.reply_text(render_code_problem(InviteStatus.USED))
        return ConversationHandler.END
    await set_person_menu(context.bot, person, context.settings.web_base_url)
    lineage = await context.storage.areas.lineage_of(person.area_id)
    await update.effective_message.reply_text(render_welcome(person, lineage))
    return ConversationHandler.END


async def offer_role_change(update: Update, context: BotContext, typed: str) -> None:
    """An enrolled person with a new invite may take its role and area instead of theirs."""
    invite = await valid_invite(update, context, typed)
    if invite is None:
        return
    context.user_data[ROLE_CHANGE] = invite.id
    storage, person = context.storage, context.person
    text, keyboard = render_role_change(
        person,
        await storage.areas.lineage_of(person.area_id),
        invite,
        await storage.areas.lineage_of(invite.area_id),
    )
    await update.message.reply_text(text, reply_markup=keyboard)


async def role_change_answered(update: Update, context: BotContext) -> None:
    query, person = update.callback_query, context.person
    invite_id = context.user_data.pop(ROLE_CHANGE, None)
    if context.pressed.answer == "no" or invite_id is None:
        await close_question(query, _("❌ No, keep my role") if invite_id else None)
        return
    await close_question(query, _("✅ Yes, switch"))
    storage, now = context.storage, utcnow()
    invite = await storage.invites.get(invite_id)
    if invite.status(now) is not InviteStatus.VALID:
        await update.effective_message.reply_text(render_code_problem(invite.status(now)))
        return
    changed = await change_role(storage, person, invite.id, now)
    if changed is None:
        await update.effective_message.reply_text(render_code_problem(InviteStatus.USED))
        return
    await set_person_menu(context.bot, changed, context.settings.web_base_url)
    lineage = await storage.areas.lineage_of(changed.area_id)
    await update.effective_message.reply_text(render_welcome(changed, lineage))


async def use_buttons(update: Update, context: BotContext) -> None:
    await update.message.reply_text(_("Please answer with the buttons above."))


def handlers() -> list:
    typed = filters.TEXT & ~filters.COMMAND
    return [
        dialog(
            "enrolment",
            entry_points=[CommandHandler("start", start)],
            states={
                EnrolmentStep.CODE: [MessageHandler(typed, code_typed)],
                EnrolmentStep.CONFIRM: [
                    INVITE_RIGHT.handler(confirmed),
                    INVITE_WRONG.handler(declined),
                    MessageHandler(typed, use_buttons),
                ],
                EnrolmentStep.NAME: [MessageHandler(typed, name_typed)],
                EnrolmentStep.PHONE: [
                    MessageHandler(filters.CONTACT, contact_shared),
                    MessageHandler(typed, phone_typed),
                ],
                EnrolmentStep.LANGUAGE: [
                    LANGUAGE.handler(language_chosen),
                    MessageHandler(typed, use_buttons),
                ],
            },
            cancel=cancel_handler(
                _l("Enrolment cancelled. Send /start when you are ready."),
                [DRAFT],
                remove_keyboard=True,
            ),
        ),
        ROLE_CHANGE_ANSWER.handler(role_change_answered),
    ]
