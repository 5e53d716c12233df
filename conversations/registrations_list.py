"""/danhsach (list): the registrations of my area this year, filtered and paged; a card for each,
with Edit and Withdraw for those who may change it until the province's evaluation lock date.

Buttons carry only ids (and the list's filters). Every press loads the registration again and
checks access to its hamlet again, so a forged or replayed press for another area is refused,
audited, and changes nothing. Answers are checked by the same Fields as /dangky asks them.

The card is one screen: Edit, the answer's button, Cancel and a tapped answer edit its message
in place; a typed answer shortens the question to a one-line record and sends the updated card
below it as the screen from then on. A typed answer that cannot be taken takes the question's
buttons away and sends it again below, headed by what was wrong.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import refuse, registration_in_reach
from bot.actions import Action, number, word, yes_no
from bot.commands import command
from bot.context import BotContext
from bot.i18n import _
from bot.i18n import __ as _l
from bot.labels import area_title
from bot.years import years_label
from conversations.actions import ASSESS_OPEN, KIND_FILTERS, LIST_PAGE, STATUS_FILTERS
from conversations.common import area_path, buttons, page_rows
from conversations.indicators import short_name
from conversations.kit import SCREEN, cancel_handler, dialog, remember_screen
from conversations.registration_form import (
    FIELDS,
    Field,
    answer_label,
    field,
    kind_name,
    lowered_below,
    record,
    status_name,
)
from conversations.screen import close_screen, edit_screen
from conversations.states import RegistrationEditStep
from storage.criteria import CriteriaSet, ModelKind, ScoringKind
from storage.models import Area
from storage.registrations import DETAIL_FIELDS, Registration, Status
from storage.usecases.registrations import changeable_by_role, edit, withdraw

PAGE_SIZE = 10
# user_data: {"id": registration id, "key": the answer's key, SCREEN: the question's message id}
EDITING = "registration_edit"
SHOW = Action("danhsach", "rgl:show:{registration_id}", registration_id=int)
EDIT = Action("danhsach", "rgl:edit:{registration_id}", registration_id=int)
FIELD = Action("danhsach", "rgl:field:{registration_id}:{key}", registration_id=int, key=word())
CLEAR = Action("danhsach", "rgl:clear:{registration_id}:{key}", registration_id=int, key=word())
SET = Action(
    "danhsach",
    "rgl:set:{registration_id}:{key}:{value}",
    registration_id=int,
    key=word(),
    value=number(4),
)
WITHDRAW = Action("danhsach", "rgl:wd:{registration_id}", registration_id=int)
WITHDRAW_SURE = Action("danhsach", "rgl:wd!:{registration_id}", registration_id=int)


@dataclass(frozen=True)
class Filters:
    kind: str = "all"
    status: str = "all"

    def data(self, offset: int = 0) -> str:
        return LIST_PAGE.data(kind=self.kind, status=self.status, offset=offset)

    @property
    def model_kind(self) -> ModelKind | None:
        return None if self.kind == "all" else ModelKind(self.kind)

    @property
    def model_status(self) -> Status | None:
        return None if self.status == "all" else Status(self.status)


# --- words ----------------------------------------------------------------------------------


def kind_filter_label(code: str) -> str:
    return {"all": _("All"), "family": _("Families"), "clan": _("Clans")}[code]


def status_filter_label(code: str) -> str:
    return _("All statuses") if code == "all" else status_name(Status(code))


def answer_value(value: object) -> str:
    return "—" if value is None or value == "" else str(value)


def answers_of(registration: Registration) -> dict:
    return {key: getattr(registration, key) for key in DETAIL_FIELDS}


def local_date(value: date) -> str:
    return f"{value:%d/%m/%Y}"


# --- rendering ------------------------------------------------------------------------------


def render_none_yet(area: Area | None, year: int | str, may_register: bool) -> str:
    """An empty list with no filter set: nothing registered yet, and who registers how."""
    text = _("There are no registrations in {area} for {year} yet.").format(
        area=area_title(area), year=year
    )
    if may_register:
        return (
            text
            + "\n"
            + _("To register a family or clan send /dangky; to register many at once, /nhapds.")
        )
    return text + "\n" + _("Hamlet heads register families and clans with /dangky or /nhapds.")


def render_page(
    registrations: list[Registration],
    chosen: Filters,
    offset: int,
    total: int,
    year: int | str,
    area: Area | None = None,
    may_register: bool = False,
) -> tuple[str, InlineKeyboardMarkup]:
    """`year`: the year, or the open years as '2027, 2026'."""
    if total == 0 and chosen == Filters():
        return render_none_yet(area, year, may_register), buttons([])
    if total == 0:
        text = _("No registrations of {year} match these filters.").format(year=year)
    else:
        text = _("Registrations of {year}: {first}–{last} of {total}. Tap one for details.").format(
            year=year, first=offset + 1, last=offset + len(registrations), total=total
        )
    text += "\n" + _("Showing: {kind}; {status}.").format(
        kind=kind_filter_label(chosen.kind), status=status_filter_label(chosen.status)
    )

    def mark(label: str, selected: bool) -> str:
        return f"• {label}" if selected else label

    kinds = [
        (mark(kind_filter_label(k), k == chosen.kind), Filters(k, chosen.status).data())
        for k in KIND_FILTERS
    ]
    statuses = [
        (mark(status_filter_label(s), s == chosen.status), Filters(chosen.kind, s).data())
        for s in STATUS_FILTERS
    ]
    rows = [kinds, statuses[:3], statuses[3:]]
    for registration in registrations:
        label = f"{registration.number} · {registration.name}"
        if registration.status is not Status.REGISTERED:
            label += f" · {status_name(registration.status)}"
        rows.append([SHOW.button(label, registration_id=registration.id)])
    rows += page_rows(offset, total, PAGE_SIZE, chosen.data)
    return text, buttons(rows)


def render_assessment(criteria: CriteriaSet | None, values: dict[str, int]) -> list[str]:
    if criteria is None:
        return []
    lines = []
    for indicator in criteria.all_indicators():
        value = values.get(indicator.code)
        if value is None:
            result = _("— not answered")
        elif indicator.scoring.kind is ScoringKind.PASS_FAIL:
            result = _("✅ Met") if value else _("❌ Not met")
        else:
            result = _("{value}/{max} points").format(value=value, max=indicator.max_points)
        lines.append(f"{short_name(indicator)}: {result}")
    return lines


@dataclass(frozen=True)
class Card:
    registration: Registration
    lineage: list[Area]
    criteria: CriteriaSet | None
    assessment: dict[str, int]
    lock: date
    changeable_by_role: bool
    open: bool  # today is on or before the evaluation lock date


def render_card(card: Card, registered_on: date) -> tuple[str, InlineKeyboardMarkup]:
    registration = card.registration
    kind = registration.kind
    lines = [
        f"{registration.number} · {kind_name(kind)}",
        _("Hamlet: {area}").format(area=area_path(card.lineage)),
        _("Status: {status}").format(status=status_name(registration.status)),
        _("Registered on {date}").format(date=local_date(registered_on)),
        "",
    ]
    lines += [
        f"{answer_label(kind, f.key)}: {answer_value(getattr(registration, f.key))}"
        for f in FIELDS[kind]
    ]
    lines += ["", _("Self-assessment:"), *render_assessment(card.criteria, card.assessment)]
    rows = []
    if registration.status is Status.REGISTERED and card.open:
        rows.append([ASSESS_OPEN.button(_("📝 Self-assessment"), registration_id=registration.id)])
    if card.changeable_by_role and registration.status is Status.REGISTERED:
        if card.open:
            lines += [
                "",
                _("It can be changed until {date}.").format(date=local_date(card.lock)),
            ]
            rows.append(
                [
                    EDIT.button(_("✏️ Edit"), registration_id=registration.id),
                    WITHDRAW.button(_("↩️ Withdraw"), registration_id=registration.id),
                ]
            )
        else:
            lines += ["", locked_text(card.lock)]
    rows.append([(_("⬅️ Back to the list"), Filters().data())])
    return "\n".join(lines), buttons(rows)


def locked_text(lock: date) -> str:
    return _(
        "The evaluation lock date ({date}) has passed: this registration can no longer be changed."
    ).format(date=local_date(lock))


def render_field_choice(registration: Registration) -> tuple[str, InlineKeyboardMarkup]:
    kind = registration.kind
    rows = [
        [
            FIELD.button(
                f"{answer_label(kind, f.key)}: {answer_value(getattr(registration, f.key))}",
                registration_id=registration.id,
                key=f.key,
            )
        ]
        for f in FIELDS[kind]
    ]
    rows.append([SHOW.button(_("⬅️ Back"), registration_id=registration.id)])
    text = _("{number} ({name}): which answer do you want to change?").format(
        number=registration.number, name=registration.name
    )
    return text, buttons(rows)


def number_choices(registration: Registration, answer: Field) -> list[int]:
    """The numbers a question offers as buttons: none below what another answer already needs
    (members for the children), none above what bounds it (children up to members)."""
    if not answer.buttons_up_to:
        return []
    answers = answers_of(registration)
    top = answer.buttons_up_to
    if answer.at_most and answers.get(answer.at_most) is not None:
        top = min(top, answers[answer.at_most])
    low = answer.low_button
    for other in FIELDS[registration.kind]:
        if other.at_most == answer.key and answers.get(other.key) is not None:
            low = max(low, answers[other.key])
    return list(range(low, top + 1))


def render_question(registration: Registration, answer: Field) -> tuple[str, InlineKeyboardMarkup]:
    current = answer_value(getattr(registration, answer.key))
    text = "\n".join(
        [
            _("{number}: {label} is now {value}.").format(
                number=registration.number,
                label=answer_label(registration.kind, answer.key),
                value=current,
            ),
            str(answer.question),
            _("Type the new answer, or send /huy to cancel."),
        ]
    )
    numbers = [
        SET.button(str(n), registration_id=registration.id, key=answer.key, value=n)
        for n in number_choices(registration, answer)
    ]
    rows = [numbers[i : i + 6] for i in range(0, len(numbers), 6)]
    if answer.optional:
        rows.append(
            [
                CLEAR.button(
                    _("🗑 Remove this answer"), registration_id=registration.id, key=answer.key
                )
            ]
        )
    rows.append([SHOW.button(_("Cancel"), registration_id=registration.id)])
    return text, buttons(rows)


def render_withdraw_confirm(registration: Registration) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Withdraw {number} ({name})? It will not be evaluated or recognised this year, and the "
        "bot cannot undo this."
    ).format(number=registration.number, name=registration.name)
    keyboard = buttons(
        yes_no(
            WITHDRAW_SURE.button(_("Yes, withdraw"), registration_id=registration.id),
            SHOW.button(_("No"), registration_id=registration.id),
        )
    )
    return text, keyboard


# --- rules ----------------------------------------------------------------------------------


async def evaluation_lock(context: BotContext, registration: Registration) -> date:
    registrations = context.storage.registrations
    dates = await registrations.programme_year(registration.province_code, registration.year)
    return dates.evaluation_lock


async def tell(update: Update, text: str) -> None:
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await update.effective_message.reply_text(text)


async def changed_meanwhile(
    update: Update, context: BotContext, registration: Registration
) -> None:
    """The registration was decided (or withdrawn) between the check and the change."""
    now = await context.storage.registrations.get(registration.id)
    await tell(
        update,
        _("{number} is {status}; only a registered one can be changed.").format(
            number=now.number, status=status_name(now.status)
        ),
    )


async def changeable(
    update: Update, context: BotContext, registration_id: int, action: str
) -> tuple[Registration, Area] | None:
    """The registration, if the person may change it now; refuses or explains otherwise."""
    found = await registration_in_reach(update, context, registration_id, action)
    if found is None:
        return None
    registration, _hamlet = found
    if not changeable_by_role(context.person, registration):
        await refuse(update, context, action, {"registration_id": registration_id})
        return None
    if registration.status is not Status.REGISTERED:
        await tell(
            update,
            _("{number} is {status}; only a registered one can be changed.").format(
                number=registration.number, status=status_name(registration.status)
            ),
        )
        return None
    lock = await evaluation_lock(context, registration)
    if context.application.today() > lock:
        await tell(update, locked_text(lock))
        return None
    return found


def id_of(context: BotContext) -> int:
    return context.pressed.registration_id


# --- handlers -------------------------------------------------------------------------------


async def list_registrations(update: Update, context: BotContext) -> int:
    context.user_data.pop(EDITING, None)
    text, keyboard = await page(context, Filters(), 0)
    await update.message.reply_text(text, reply_markup=keyboard)
    return ConversationHandler.END


async def page(
    context: BotContext, chosen: Filters, offset: int
) -> tuple[str, InlineKeyboardMarkup]:
    years = await context.open_years()
    registrations, total = await context.storage.registrations.in_area(
        context.area,
        years,
        kind=chosen.model_kind,
        status=chosen.model_status,
        offset=offset,
        limit=PAGE_SIZE,
    )
    may_register = context.person.role in command("dangky").roles
    return render_page(
        registrations, chosen, offset, total, years_label(years), context.area, may_register
    )


async def page_pressed(update: Update, context: BotContext) -> int:
    query = update.callback_query
    kind, status, offset = context.pressed
    context.user_data.pop(EDITING, None)
    await query.answer()
    text, keyboard = await page(context, Filters(kind, status), offset)
    await query.edit_message_text(text, reply_markup=keyboard)
    return ConversationHandler.END


async def card_of(context: BotContext, registration: Registration, hamlet: Area):
    storage = context.storage
    stored = await storage.criteria.get(registration.criteria_set_id)
    lock = await evaluation_lock(context, registration)
    card = Card(
        registration=registration,
        lineage=await storage.areas.lineage(hamlet),
        criteria=stored.criteria_set if stored else None,
        assessment=await storage.registrations.assessment(registration.id),
        lock=lock,
        changeable_by_role=changeable_by_role(context.person, registration),
        open=context.application.today() <= lock,
    )
    registered_on = registration.created_at.astimezone(context.settings.tzinfo).date()
    return render_card(card, registered_on)


async def show_registration(update: Update, context: BotContext) -> int | None:
    found = await registration_in_reach(update, context, id_of(context), "registration.show")
    if found is None:
        return None
    context.user_data.pop(EDITING, None)
    await update.callback_query.answer()
    text, keyboard = await card_of(context, *found)
    await update.callback_query.edit_message_text(text, reply_markup=keyboard)
    return ConversationHandler.END


async def edit_pressed(update: Update, context: BotContext) -> int | None:
    found = await changeable(update, context, id_of(context), "registration.edit")
    if found is None:
        return None
    await update.callback_query.answer()
    text, keyboard = render_field_choice(found[0])
    await update.callback_query.edit_message_text(text, reply_markup=keyboard)
    return ConversationHandler.END


def field_of(registration: Registration, key: str) -> Field | None:
    keys = {f.key for f in FIELDS[registration.kind]}
    return field(registration.kind, key) if key in keys else None


async def field_chosen(update: Update, context: BotContext) -> str | int | None:
    key = context.pressed.key
    found = await changeable(update, context, id_of(context), "registration.edit")
    if found is None:
        return None
    registration = found[0]
    answer = field_of(registration, key)
    if answer is None:
        await refuse(update, context, "registration.edit", {"registration_id": registration.id})
        return None
    editing = {"id": registration.id, "key": key}
    remember_screen(editing, update.callback_query.message)
    context.user_data[EDITING] = editing
    await update.callback_query.answer()
    text, keyboard = render_question(registration, answer)
    await edit_screen(update.callback_query.message, text, keyboard)
    return RegistrationEditStep.VALUE


async def value_typed(update: Update, context: BotContext) -> str | int | None:
    editing = context.user_data.get(EDITING)
    if not editing:
        return ConversationHandler.END
    found = await changeable(update, context, editing["id"], "registration.edit")
    if found is None:
        context.user_data.pop(EDITING, None)
        await close_question(update, context, editing, None)
        return ConversationHandler.END
    registration, hamlet = found
    answer = field_of(registration, editing["key"])
    answers = {k: v for k, v in answers_of(registration).items() if v is not None}
    value = answer.accept(update.message.text, answers)
    problem = (
        str(answer.problem)
        if value is None
        else lowered_below(registration.kind, answers, answer.key, value)
    )
    if problem:
        await ask_again(update, context, editing, registration, answer, problem)
        return None
    await save_change(update, context, registration, hamlet, answer.key, value)
    return ConversationHandler.END


async def ask_again(
    update: Update,
    context: BotContext,
    editing: dict,
    registration: Registration,
    answer: Field,
    problem: str,
) -> None:
    """A typed answer that cannot be taken: the question's buttons are taken away and it is
    sent again below as the screen, headed by what was wrong, as /dangky does."""
    await close_question(update, context, editing, None)
    text, keyboard = render_question(registration, answer)
    sent = await update.message.reply_text(f"{problem}\n\n{text}", reply_markup=keyboard)
    remember_screen(editing, sent)
    context.user_data[EDITING] = editing


NO_ANSWER = object()  # what Remove answers: saved as None


async def tapped(update: Update, context: BotContext, read: Callable) -> int | None:
    """A tapped answer (a number, or Remove): its data can be forged, so `read(registration,
    answer)` checks it as a typed answer is checked; then it is saved and the card is shown
    again on the question's own message."""
    found = await changeable(update, context, id_of(context), "registration.edit")
    if found is None:
        return None
    registration, hamlet = found
    answer = field_of(registration, context.pressed.key)
    value = read(registration, answer) if answer is not None else None
    if value is None:
        await refuse(update, context, "registration.edit", {"registration_id": registration.id})
        return None
    value = None if value is NO_ANSWER else value
    await save_change(update, context, registration, hamlet, answer.key, value)
    return ConversationHandler.END


async def number_pressed(update: Update, context: BotContext) -> int | None:
    def read(registration: Registration, answer: Field) -> int | None:
        value = context.pressed.value
        return value if value in number_choices(registration, answer) else None

    return await tapped(update, context, read)


async def clear_pressed(update: Update, context: BotContext) -> int | None:
    def read(_registration: Registration, answer: Field) -> object | None:
        return NO_ANSWER if answer.optional else None

    return await tapped(update, context, read)


async def close_question(
    update: Update, context: BotContext, editing: dict, done: str | None
) -> None:
    """Shorten the question on screen to `done`, or only take its buttons away."""
    if editing.get(SCREEN):
        await close_screen(context.bot, update.effective_chat.id, editing[SCREEN], done)


async def save_change(
    update: Update,
    context: BotContext,
    registration: Registration,
    hamlet: Area,
    key: str,
    value: object,
) -> None:
    """Save the answer and show the card again: on the question's message for a tapped answer;
    for a typed one, the question is shortened to a record of the answer and the card sent
    below as the new screen."""
    editing = context.user_data.pop(EDITING, None) or {}
    query = update.callback_query
    unchanged = getattr(registration, key) == value
    if not unchanged:
        changed = await edit(context.storage, context.person, registration.id, key, value)
        if changed is None:
            await close_question(update, context, editing, None)
            await changed_meanwhile(update, context, registration)
            return
        registration = changed
    text, keyboard = await card_of(context, registration, hamlet)
    if query:
        label, shown = answer_label(registration.kind, key), answer_value(value)
        await query.answer(
            _("That is the answer already given.")
            if unchanged
            else _("Saved: {label} is now {value}.").format(label=label, value=shown)
        )
        await edit_screen(query.message, text, keyboard)
        return
    done = record(registration.kind, key, value)
    if unchanged:
        done += " " + _("(unchanged)")
    await close_question(update, context, editing, done)
    await update.effective_message.reply_text(text, reply_markup=keyboard)


async def withdraw_pressed(update: Update, context: BotContext) -> int | None:
    found = await changeable(update, context, id_of(context), "registration.withdraw")
    if found is None:
        return None
    await update.callback_query.answer()
    text, keyboard = render_withdraw_confirm(found[0])
    await update.callback_query.edit_message_text(text, reply_markup=keyboard)
    return ConversationHandler.END


async def withdraw_confirmed(update: Update, context: BotContext) -> int | None:
    found = await changeable(update, context, id_of(context), "registration.withdraw")
    if found is None:
        return None
    registration, hamlet = found
    changed = await withdraw(context.storage, context.person, registration.id)
    if changed is None:
        await changed_meanwhile(update, context, registration)
        return ConversationHandler.END
    await update.callback_query.answer(_("Withdrawn."))
    text, keyboard = await card_of(context, changed, hamlet)
    await update.callback_query.edit_message_text(text, reply_markup=keyboard)
    return ConversationHandler.END


def handlers() -> list:
    # Every button is an entry point, so a press while an answer is awaited leaves that question.
    buttons_and_command = [
        CommandHandler("danhsach", list_registrations),
        LIST_PAGE.handler(page_pressed),
        SHOW.handler(show_registration),
        EDIT.handler(edit_pressed),
        FIELD.handler(field_chosen),
        CLEAR.handler(clear_pressed),
        SET.handler(number_pressed),
        WITHDRAW.handler(withdraw_pressed),
        WITHDRAW_SURE.handler(withdraw_confirmed),
    ]
    return [
        dialog(
            "registration_edit",
            entry_points=buttons_and_command,
            states={
                RegistrationEditStep.VALUE: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND, value_typed)
                ],
            },
            cancel=cancel_handler(_l("Cancelled. Nothing was changed."), [EDITING]),
        )
    ]
