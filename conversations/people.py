"""/nguoidung (people): the people of my area, 10 a page; deactivate and reactivate them.

Buttons carry only ids. Every press loads the person again and checks access again, so a
forged or replayed press for another area changes nothing.
"""

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.access import allowed, refuse
from bot.actions import Action, yes_no
from bot.context import BotContext
from bot.i18n import _
from bot.menus import clear_person_menu, set_person_menu
from conversations.common import area_path, buttons, page_rows
from conversations.help import role_name
from storage.models import Area, Person
from storage.usecases.people import manageable, set_active

PAGE_SIZE = 10
PAGE = Action("nguoidung", "ppl:page:{offset}", offset=int)
SHOW = Action("nguoidung", "ppl:show:{person_id}", person_id=int)
ACTIVATE = Action("nguoidung", "ppl:{verb}:{person_id}", verb=("on", "off"), person_id=int)
ACTIVATE_SURE = Action("nguoidung", "ppl:{verb}!:{person_id}", verb=("on", "off"), person_id=int)


def render_page(people: list[Person], offset: int, total: int) -> tuple[str, InlineKeyboardMarkup]:
    if total == 0:
        return _("Nobody is enrolled in your area yet."), InlineKeyboardMarkup([])
    text = _("People in your area: {first}–{last} of {total}. Tap a name for details.").format(
        first=offset + 1, last=offset + len(people), total=total
    )
    rows = [
        [
            SHOW.button(
                f"{'' if p.active else '⛔ '}{p.full_name} · {role_name(p.role)}", person_id=p.id
            )
        ]
        for p in people
    ]
    return text, buttons(
        rows + page_rows(offset, total, PAGE_SIZE, lambda at: PAGE.data(offset=at))
    )


def render_person(person: Person, lineage: list[Area], manageable: bool):
    status = _("active") if person.active else _("deactivated")
    text = _("{name}\nRole: {role}\nArea: {area}\nPhone: {phone}\nStatus: {status}").format(
        name=person.full_name,
        role=role_name(person.role),
        area=area_path(lineage) if lineage else _("the whole country"),
        phone=person.phone,
        status=status,
    )
    if not manageable:
        return text, InlineKeyboardMarkup([])
    if person.active:
        action = ACTIVATE.button(_("⛔ Deactivate"), verb="off", person_id=person.id)
    else:
        action = ACTIVATE.button(_("✅ Reactivate"), verb="on", person_id=person.id)
    return text, buttons([[action]])


def render_confirm(person: Person, activate: bool) -> tuple[str, InlineKeyboardMarkup]:
    if activate:
        question = _("Reactivate {name}? They will be able to use the bot again.")
    else:
        question = _("Deactivate {name}? They will no longer be able to use the bot.")
    verb = "on" if activate else "off"
    keyboard = buttons(
        yes_no(
            ACTIVATE_SURE.button(_("Yes"), verb=verb, person_id=person.id),
            SHOW.button(_("No"), person_id=person.id),
        )
    )
    return question.format(name=person.full_name), keyboard


async def list_people(update: Update, context: BotContext) -> None:
    text, keyboard = await page(context, 0)
    await update.message.reply_text(text, reply_markup=keyboard)


async def page(context: BotContext, offset: int) -> tuple[str, InlineKeyboardMarkup]:
    people = context.storage.people
    total = await people.count_in_area(context.area)
    return render_page(await people.in_area(context.area, offset, PAGE_SIZE), offset, total)


async def page_pressed(update: Update, context: BotContext) -> None:
    query = update.callback_query
    await query.answer()
    text, keyboard = await page(context, context.pressed.offset)
    await query.edit_message_text(text, reply_markup=keyboard)


async def person_in_reach(update: Update, context: BotContext, action: str) -> Person | None:
    """The person a button names, if the presser may see them; refuses and audits otherwise."""
    person_id = context.pressed.person_id
    person = await context.storage.people.get(person_id)
    area = await context.storage.areas.get(person.area_id) if person and person.area_id else None
    if person is None or not allowed(context, area):
        await refuse(update, context, action, {"person_id": person_id})
        return None
    return person


async def show_person(update: Update, context: BotContext) -> None:
    person = await person_in_reach(update, context, "person.show")
    if person is None:
        return
    await update.callback_query.answer()
    lineage = await context.storage.areas.lineage_of(person.area_id)
    text, keyboard = render_person(person, lineage, manageable(context.person, person))
    await update.callback_query.edit_message_text(text, reply_markup=keyboard)


async def person_to_manage(update: Update, context: BotContext) -> Person | None:
    """The person a (de)activation button names, if the presser may manage them."""
    person = await person_in_reach(update, context, "person.activation")
    if person is not None and not manageable(context.person, person):
        await refuse(update, context, "person.activation", {"person_id": person.id})
        return None
    return person


async def confirm_pressed(update: Update, context: BotContext) -> None:
    activate = context.pressed.verb == "on"
    person = await person_to_manage(update, context)
    if person is None:
        return
    await update.callback_query.answer()
    text, keyboard = render_confirm(person, activate)
    await update.callback_query.edit_message_text(text, reply_markup=keyboard)


async def activation_confirmed(update: Update, context: BotContext) -> None:
    activate = context.pressed.verb == "on"
    person = await person_to_manage(update, context)
    if person is None:
        return
    if not await set_active(context.storage, context.person, person, activate):
        await update.callback_query.answer(_("Done."))  # done already, by this press's twin
        return
    changed = person.model_copy(update={"active": activate})
    await (set_person_menu if activate else clear_person_menu)(
        context.bot, changed, context.settings.web_base_url
    )
    await update.callback_query.answer(_("Done."))
    text, keyboard = render_person(
        changed, await context.storage.areas.lineage_of(changed.area_id), True
    )
    await update.callback_query.edit_message_text(text, reply_markup=keyboard)


def handlers() -> list:
    return [
        CommandHandler("nguoidung", list_people),
        PAGE.handler(page_pressed),
        SHOW.handler(show_person),
        ACTIVATE.handler(confirm_pressed),
        ACTIVATE_SURE.handler(activation_confirmed),
    ]
