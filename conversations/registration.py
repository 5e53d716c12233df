"""/dangky (register): a learning family or clan, on one screen edited in place.

Registering asks only what the registration needs: the kind, then each required answer; the
optional ones (address, phone, a clan's branch) are offered on the summary. The
self-assessment is its own step afterwards (`conversations.self_assessment`).

The draft in SQLite is the source of truth: its `step` indexes the list `steps()` derives
from its answers, and `answers[SCREEN]` is the id of the message that shows the dialog. A
button press edits that message in place; after a typed answer the next screen is sent anew
and the earlier one is shortened to a one-line record of the answer. Buttons carry the step
they belong to, so a press on an old screen changes nothing.
"""

from functools import cache

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import allowed, refuse
from bot.actions import Action, word, yes_no
from bot.context import BotContext
from bot.i18n import _
from bot.years import closed_for, registration_year
from conversations.actions import ASSESS_OPEN, BULK_MODE, REGISTER_AGAIN
from conversations.common import buttons, step
from conversations.kit import dialog
from conversations.registration_form import (
    FIELDS,
    Field,
    answer_label,
    answer_text,
    field,
    kind_label,
    lowered_below,
    record,
    status_name,
)
from conversations.screen import close_screen, edit_screen
from conversations.states import RegistrationStep as State
from storage.criteria import ModelKind
from storage.models import Area, AreaLevel, Role
from storage.registrations import IDENTITY_FIELD, BulkMode, Draft, Registration, identity_name
from storage.usecases.registrations import register

KIND_STEP, SUMMARY_STEP = "kind", "summary"
SCREEN = "screen"  # answers key: the message id of the dialog's screen
EDITING = "editing"  # answers key: the answer being changed from the summary
BOOKKEEPING = frozenset({SCREEN, EDITING})
MAX_HAMLET_BUTTONS = 20
RESUME = Action("dangky", "reg:resume:{choice}", choice=("continue", "new"))
HAMLET = Action("dangky", "reg:hamlet:{hamlet_id}", hamlet_id=int)
CANCEL = Action("dangky", "reg:cancel:{answer}", answer=("yes", "no"))
# The buttons of a step of the form, which they name: a press on an older step is stale.
KIND = Action("dangky", "reg:{step}:kind:{kind}", step=int, kind=ModelKind)
NUMBER = Action("dangky", "reg:{step}:n:{value}", step=int, value=word(6, r"\d"))
SKIP = Action("dangky", "reg:{step}:skip", step=int)
BACK = Action("dangky", "reg:{step}:back", step=int)
EDIT = Action("dangky", "reg:{step}:edit:{key}", step=int, key=word())
DIFFERENT = Action("dangky", "reg:{step}:dupok", step=int)
OPEN_EXISTING = Action(
    "dangky", "reg:{step}:dupopen:{registration_id}", step=int, registration_id=int
)
CONFIRM = Action("dangky", "reg:{step}:ok", step=int)


def steps(draft: Draft) -> tuple[str, ...]:
    """Every step of this draft: 'kind', the kind's required answers, 'summary'."""
    return _steps_of(draft.answers.get("kind", ModelKind.FAMILY))


@cache
def _steps_of(kind: str) -> tuple[str, ...]:
    """The steps of a kind (they depend on nothing else), worked out once per kind."""
    fields = FIELDS[ModelKind(kind)]
    return (KIND_STEP, *(f.key for f in fields if not f.optional), SUMMARY_STEP)


def question_kind(draft: Draft) -> ModelKind:
    return ModelKind(draft.answers["kind"])


def current_question(draft: Draft) -> str:
    """The answer the screen asks for now, or KIND_STEP / SUMMARY_STEP."""
    return draft.answers.get(EDITING) or steps(draft)[draft.step]


# --- rendering ---------------------------------------------------------------------------


def number_buttons(question: Field, answers: dict, index: int) -> list[list[tuple[str, str]]]:
    top = question.buttons_up_to
    if question.at_most and answers.get(question.at_most) is not None:
        top = min(top, answers[question.at_most])
    values = [
        NUMBER.button(str(v), step=index, value=str(v)) for v in range(question.low_button, top + 1)
    ]
    return [values[i : i + 6] for i in range(0, len(values), 6)]


def render_step(draft: Draft, hamlet: Area | None) -> tuple[str, InlineKeyboardMarkup]:
    """The screen of the draft's current step, with its buttons."""
    all_steps = steps(draft)
    name, k, n = current_question(draft), draft.step + 1, len(all_steps)
    if name == KIND_STEP:
        return render_kind(draft, hamlet, n)
    if name == SUMMARY_STEP:
        return render_summary(draft)
    kind = ModelKind(draft.answers["kind"])
    question = field(kind, name)
    rows = number_buttons(question, draft.answers, draft.step) if question.buttons_up_to else []
    if question.optional:
        rows.append([SKIP.button(_("Skip"), step=draft.step)])
    rows.append([BACK.button(_("⬅️ Back"), step=draft.step)])
    if draft.answers.get(EDITING):
        return str(question.question), buttons(rows)
    return step(k, n, str(question.question)), buttons(rows)


def render_kind(draft: Draft, hamlet: Area | None, n: int) -> tuple[str, InlineKeyboardMarkup]:
    where = _("{hamlet}, programme year {year}").format(
        hamlet=hamlet.name if hamlet else "", year=draft.year
    )
    text = step(1, n, _("What do you want to register?")) + "\n" + where
    rows = [[KIND.button(kind_label(kind), step=0, kind=kind)] for kind in FIELDS]
    return text, buttons([*rows, *bulk_rows()])


def bulk_rows() -> list[list[tuple[str, str]]]:
    """The list import and last year's carry-over (conversations/registration_bulk.py)."""
    return [
        [BULK_MODE.button(_("📋 Enter a list"), mode=BulkMode.LIST)],
        [BULK_MODE.button(_("🔁 Re-register last year's"), mode=BulkMode.CARRY)],
    ]


def render_summary(draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    kind = ModelKind(draft.answers["kind"])
    n = len(steps(draft))
    lines = [_("Please check the registration ({kind}):").format(kind=kind_label(kind))]
    edits = []
    for question in FIELDS[kind]:
        label = answer_label(kind, question.key)
        lines.append(f"• {label}: {answer_text(draft.answers.get(question.key))}")
        edits.append(EDIT.button(f"✏️ {label}", step=draft.step, key=question.key))
    lines.append(_("Optional answers can be added with ✏️ now or later in /danhsach."))
    rows = [edits[i : i + 2] for i in range(0, len(edits), 2)]
    rows.append([CONFIRM.button(_("✅ Confirm and register"), step=draft.step)])
    return step(n, n, "\n".join(lines)), buttons(rows)


def render_registered(registration: Registration, hamlet: Area) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "Registered! Registration number: {number}\n{kind}: {name}, {hamlet}.\n"
        "Next: the self-assessment (now or later from /danhsach or /danhgia), and evidence "
        "photos with /minhchung."
    ).format(
        number=registration.number,
        kind=kind_label(registration.kind),
        name=registration.name,
        hamlet=hamlet.name,
    )
    keyboard = buttons(
        [
            [ASSESS_OPEN.button(_("📝 Self-assessment now"), registration_id=registration.id)],
            [REGISTER_AGAIN.button(_("➕ Register another"))],
        ]
    )
    return text, keyboard


def render_duplicate(
    draft: Draft, existing: Registration, hamlet: Area
) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "{name} is already registered in {hamlet} for {year}: number {number}.\n"
        "Is this a different one?"
    ).format(name=existing.name, hamlet=hamlet.name, year=existing.year, number=existing.number)
    keyboard = buttons(
        [
            [DIFFERENT.button(_("It is a different one, continue"), step=draft.step)],
            [
                OPEN_EXISTING.button(
                    _("Open the existing registration"),
                    step=draft.step,
                    registration_id=existing.id,
                )
            ],
        ]
    )
    return text, keyboard


def render_existing(registration: Registration, hamlet: Area) -> str:
    return _(
        "Registration {number}: {name}, {hamlet}. Status: {status}.\n"
        "Use /danhsach to see and change it. Your draft was discarded."
    ).format(
        number=registration.number,
        name=registration.name,
        hamlet=hamlet.name,
        status=status_name(registration.status),
    )


def render_resume(draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "You have an unfinished registration (step {k} of {n}). Continue it or start over?"
    ).format(k=draft.step + 1, n=len(steps(draft)))
    keyboard = buttons(
        [
            [
                RESUME.button(_("▶️ Continue"), choice="continue"),
                RESUME.button(_("🔄 Start over"), choice="new"),
            ]
        ]
    )
    return text, keyboard


# --- showing a screen --------------------------------------------------------------------


async def show(
    update: Update,
    context: BotContext,
    draft: Draft,
    text: str,
    keyboard: InlineKeyboardMarkup | None,
    done: str | None = None,
    fresh: bool = False,
) -> Draft:
    """Show the dialog's next screen and save the draft with it.

    A button press edits its own message; a typed answer sends the screen anew and shortens
    the earlier one to `done` (or only takes its buttons away).
    """
    query = update.callback_query
    if query and not fresh:
        await query.answer()
        await edit_screen(query.message, text, keyboard)
        screen = query.message.message_id
    else:
        earlier = draft.answers.get(SCREEN)
        if earlier:
            await close_screen(context.bot, update.effective_chat.id, earlier, done)
        sent = await update.effective_message.reply_text(text, reply_markup=keyboard)
        screen = sent.message_id
    draft = draft.model_copy(update={"answers": draft.answers | {SCREEN: screen}})
    await context.storage.registrations.save_draft(draft)
    return draft


async def show_step(
    update: Update,
    context: BotContext,
    draft: Draft,
    done: str | None = None,
    problem: str | None = None,
) -> Draft:
    """The draft's current screen, headed by what was wrong with the last answer, if anything."""
    hamlet = await context.storage.areas.get(draft.hamlet_id) if draft.hamlet_id else None
    text, keyboard = render_step(draft, hamlet)
    text = f"{problem}\n\n{text}" if problem else text
    return await show(update, context, draft, text, keyboard, done)


# --- the dialog --------------------------------------------------------------------------


async def draft_of(context: BotContext) -> Draft | None:
    """The person's draft; one saved by the dialog before issue 15 (one step per indicator)
    resumes at its summary, its self-assessment kept."""
    draft = await context.storage.registrations.draft_of(context.person.id)
    if draft is not None and draft.step >= len(steps(draft)):
        draft = draft.model_copy(update={"step": len(steps(draft)) - 1})
    return draft


async def begin(update: Update, context: BotContext) -> str | int:
    draft = await draft_of(context)
    return await offer_resume(update, context, draft) or await start_over(update, context, draft)


async def again(update: Update, context: BotContext) -> str | int:
    """'Register another' under a registration number, or the greeting's 'Register': a new
    screen below it; an unfinished registration is offered first, never deleted unasked."""
    await update.callback_query.answer()
    await update.callback_query.edit_message_reply_markup(None)
    draft = await draft_of(context)
    resumed = await offer_resume(update, context, draft, fresh=True)
    return resumed or await start_over(update, context, None, fresh=True)


async def offer_resume(
    update: Update, context: BotContext, draft: Draft | None, fresh: bool = False
) -> str | None:
    """'Continue or start over?' when the person has answered something in a draft."""
    if draft is None or not set(draft.answers) - BOOKKEEPING:
        return None
    text, keyboard = render_resume(draft)
    await show(update, context, draft, text, keyboard, fresh=fresh)
    return State.RESUME


async def start_over(
    update: Update, context: BotContext, earlier: Draft | None, fresh: bool = False
) -> str | int:
    person, year = context.person, context.today().year
    screen = earlier.answers.get(SCREEN) if earlier else None
    if person.role is Role.HAMLET_HEAD:
        return await hamlet_chosen(update, context, context.area, screen, fresh=fresh)
    draft = await context.storage.registrations.start_draft(person.id, None, year)
    draft = draft.model_copy(update={"answers": {SCREEN: screen} if screen else {}})
    text, keyboard = await render_hamlet_choice(context)
    await show(update, context, draft, text, keyboard, fresh=fresh)
    return State.HAMLET


async def render_hamlet_choice(context: BotContext) -> tuple[str, InlineKeyboardMarkup]:
    area = context.area
    hamlets = []
    if area is not None and area.level is AreaLevel.COMMUNE:
        hamlets = (await context.storage.areas.children(area))[:MAX_HAMLET_BUTTONS]
    text = _("For which hamlet? Pick one, or type it as commune code/hamlet, e.g. 00070/Thôn Đông.")
    rows = [[HAMLET.button(h.name, hamlet_id=h.id)] for h in hamlets]
    return text, buttons([*rows, *bulk_rows()])


async def hamlet_pressed(update: Update, context: BotContext) -> str | None:
    hamlet_id = context.pressed.hamlet_id
    hamlet = await context.storage.areas.get(hamlet_id)
    if hamlet is None or hamlet.level is not AreaLevel.HAMLET or not allowed(context, hamlet):
        await refuse(update, context, "registration.hamlet", {"area_id": hamlet_id})
        return None
    return await hamlet_chosen(update, context, hamlet, None)


async def hamlet_typed(update: Update, context: BotContext) -> str | None:
    hamlet = await context.storage.areas.resolve(update.message.text, context.area)
    if hamlet is None or hamlet.level is not AreaLevel.HAMLET:
        await update.message.reply_text(_("I do not know that hamlet. Please check and retype."))
        return None
    if not allowed(context, hamlet):
        await refuse(update, context, "registration.hamlet", {"area_id": hamlet.id})
        return None
    draft = await draft_of(context)
    screen = draft.answers.get(SCREEN) if draft else None
    return await hamlet_chosen(update, context, hamlet, screen, f"✔️ {hamlet.name}")


async def hamlet_chosen(
    update: Update,
    context: BotContext,
    hamlet: Area,
    screen: int | None,
    done: str | None = None,
    fresh: bool = False,
) -> str | int:
    """Open a draft for the hamlet if its province still takes registrations."""
    choice = await registration_year(
        context.storage, context.settings, hamlet.province_code, context.today()
    )
    year, closed = choice.year, choice.closed_text()
    if year is None:
        if update.callback_query and not fresh:
            await update.callback_query.answer()
            await edit_screen(update.callback_query.message, closed, None)
        else:
            await update.effective_message.reply_text(closed)
        return ConversationHandler.END
    draft = await context.storage.registrations.start_draft(context.person.id, hamlet.id, year)
    draft = draft.model_copy(update={"answers": {SCREEN: screen} if screen else {}})
    text, keyboard = render_step(draft, hamlet)
    await show(update, context, draft, text, keyboard, done, fresh=fresh)
    return State.FORM


async def resume_pressed(update: Update, context: BotContext) -> str | int:
    draft = await draft_of(context)
    if context.pressed.choice == "new" or draft is None:
        await context.storage.registrations.discard_draft(context.person.id)
        return await start_over(update, context, None)
    return await carry_on(update, context, draft)


async def resume_typed(update: Update, context: BotContext) -> str | int | None:
    """Something typed on "continue or start over?" is the answer to the question the draft
    stands at (people come back from another command with it in mind): going on with it."""
    draft = await draft_of(context)
    if draft is None or draft.hamlet_id is None:
        return await carry_on(update, context, draft)
    if current_question(draft) in (KIND_STEP, SUMMARY_STEP):  # asked by buttons only
        return await carry_on(update, context, draft)
    await text_answer(update, context)
    return State.FORM


async def carry_on(update: Update, context: BotContext, draft: Draft | None) -> str | int:
    """Back to where the person's draft stands, after a pause or a resume."""
    if draft is None:
        return await start_over(update, context, None)
    if draft.hamlet_id is None:
        text, keyboard = await render_hamlet_choice(context)
        await show(update, context, draft, text, keyboard)
        return State.HAMLET
    await show_step(update, context, draft)
    return State.FORM


async def current_draft(update: Update, context: BotContext) -> Draft | None:
    draft = await draft_of(context)
    if draft is None or draft.hamlet_id is None:
        await update.effective_message.reply_text(
            _("This registration is no longer open. Send /dangky to start again.")
        )
        return None
    return draft


async def advance(
    update: Update, context: BotContext, draft: Draft, answers: dict, done: str | None = None
) -> None:
    """Save an answer and show the next screen (back to the summary when editing)."""
    editing = answers.pop(EDITING, None)
    moved = draft.model_copy(update={"answers": answers})
    next_step = len(steps(moved)) - 1 if editing else draft.step + 1
    await show_step(update, context, moved.model_copy(update={"step": next_step}), done)


async def text_answer(update: Update, context: BotContext) -> None:
    draft = await current_draft(update, context)
    if draft is None:
        return
    name = current_question(draft)
    if name in (KIND_STEP, SUMMARY_STEP):
        await update.message.reply_text(_("Please answer with the buttons above."))
        return
    kind = ModelKind(draft.answers["kind"])
    question = field(kind, name)
    value = question.accept(update.message.text, draft.answers)
    problem = (
        str(question.problem) if value is None else lowered_below(kind, draft.answers, name, value)
    )
    if problem:
        await show_step(update, context, draft, problem=problem)
        return
    answers = draft.answers | {name: value}
    if name == IDENTITY_FIELD[kind] and await warned_duplicate(update, context, draft, answers):
        return
    await advance(update, context, draft, answers, record(kind, name, value))


async def warned_duplicate(update: Update, context: BotContext, draft: Draft, answers) -> bool:
    """Warn once about a registration of the same name in the hamlet and year."""
    kind = ModelKind(answers["kind"])
    name = identity_name(kind, answers)
    if name in answers.get("different_from", []):
        return False
    found = await context.storage.registrations.same_name(draft.hamlet_id, draft.year, kind, name)
    if not found:
        return False
    hamlet = await context.storage.areas.get(draft.hamlet_id)
    draft = draft.model_copy(update={"answers": answers})
    text, keyboard = render_duplicate(draft, found[0], hamlet)
    key = IDENTITY_FIELD[kind]
    await show(update, context, draft, text, keyboard, record(kind, key, answers[key]))
    return True


async def button_answer(update: Update, context: BotContext) -> str | int | None:
    """A tap on a question's button: in the dialog, or on a question left on screen for another
    dialog, which takes the person back to the draft's form."""
    query = update.callback_query
    index, *value = context.pressed
    draft = await draft_of(context)
    if draft is None or draft.hamlet_id is None:  # no form to go back to
        await query.answer(_("This question has already been answered."))
        return None
    if index != draft.step:
        await query.answer(_("This question has already been answered."))
        return State.FORM
    handler = BUTTON_ACTIONS[context.action]
    result = await handler(update, context, draft, value[0] if value else None)
    return State.FORM if result is None else result


async def stale(update: Update) -> None:
    await update.callback_query.answer(_("This question has already been answered."))


async def on_kind(update: Update, context: BotContext, draft: Draft, value: str) -> None:
    kind = ModelKind(value)
    if draft.answers.get("kind") == kind.value:  # back to the first question and on again
        return await advance(update, context, draft, draft.answers)
    hamlet = await context.storage.areas.get(draft.hamlet_id)
    criteria = await context.storage.criteria.in_force(hamlet.province_code, draft.year, kind)
    answers = {k: v for k, v in draft.answers.items() if k == SCREEN}
    await advance(
        update, context, draft, answers | {"kind": kind.value, "criteria_set_id": criteria.set_id}
    )


async def on_number(update: Update, context: BotContext, draft: Draft, value: str) -> None:
    name = current_question(draft)
    if name in (KIND_STEP, SUMMARY_STEP):
        return await stale(update)
    question = field(question_kind(draft), name)
    number = question.accept(value, draft.answers) if question.buttons_up_to else None
    if number is None:
        return await stale(update)
    problem = lowered_below(question_kind(draft), draft.answers, name, number)
    if problem:
        await show_step(update, context, draft, problem=problem)
        return
    await advance(update, context, draft, draft.answers | {name: number})


async def on_skip(update: Update, context: BotContext, draft: Draft, value: None) -> None:
    name = current_question(draft)
    if (
        name in (KIND_STEP, SUMMARY_STEP)
        or not field(ModelKind(draft.answers["kind"]), name).optional
    ):
        return await stale(update)
    await advance(update, context, draft, draft.answers | {name: None})


async def on_back(update: Update, context: BotContext, draft: Draft, value: None) -> None:
    if draft.answers.get(EDITING):
        answers = {k: v for k, v in draft.answers.items() if k != EDITING}
        draft = draft.model_copy(update={"answers": answers})
    else:
        draft = draft.model_copy(update={"step": max(draft.step - 1, 0)})
    await show_step(update, context, draft)


async def on_edit(update: Update, context: BotContext, draft: Draft, value: str) -> None:
    if current_question(draft) != SUMMARY_STEP:
        return await stale(update)
    if value not in {f.key for f in FIELDS[ModelKind(draft.answers["kind"])]}:
        return await stale(update)
    await show_step(
        update, context, draft.model_copy(update={"answers": draft.answers | {EDITING: value}})
    )


async def on_different(update: Update, context: BotContext, draft: Draft, value: None) -> None:
    kind = draft.answers.get("kind")
    if kind is None or IDENTITY_FIELD[ModelKind(kind)] not in draft.answers:
        return await stale(update)  # no duplicate was shown: a forged or garbled press
    name = identity_name(ModelKind(kind), draft.answers)
    different = [*draft.answers.get("different_from", []), name]
    await advance(update, context, draft, draft.answers | {"different_from": different})


async def on_open_existing(update: Update, context: BotContext, draft: Draft, value: str) -> int:
    registration = await context.storage.registrations.get(int(value))
    hamlet = await context.storage.areas.get(registration.hamlet_id) if registration else None
    if registration is None or not allowed(context, hamlet):
        await refuse(update, context, "registration.open", {"registration_id": value})
        return None
    await context.storage.registrations.discard_draft(context.person.id)
    await update.callback_query.answer()
    await edit_screen(update.callback_query.message, render_existing(registration, hamlet), None)
    return ConversationHandler.END


async def on_confirm(update: Update, context: BotContext, draft: Draft, value: None) -> int:
    """Number the registration; a second press of the same Confirm finds the same one."""
    if current_question(draft) != SUMMARY_STEP:
        return await stale(update)
    storage = context.storage
    hamlet = await storage.areas.get(draft.hamlet_id)
    closed = await closed_for(
        storage, context.settings, hamlet.province_code, draft.year, context.today()
    )
    if closed:  # begun before the close; the draft stays until it expires
        await update.callback_query.answer()
        await edit_screen(update.callback_query.message, closed, None)
        return ConversationHandler.END
    registration = await register(storage, context.person, draft, hamlet)
    text, keyboard = render_registered(registration, hamlet)
    await update.callback_query.answer()
    await edit_screen(update.callback_query.message, text, keyboard)
    return ConversationHandler.END


BUTTON_ACTIONS = {
    KIND: on_kind,
    NUMBER: on_number,
    SKIP: on_skip,
    BACK: on_back,
    EDIT: on_edit,
    DIFFERENT: on_different,
    OPEN_EXISTING: on_open_existing,
    CONFIRM: on_confirm,
}


async def ask_cancel(update: Update, context: BotContext) -> str:
    keyboard = buttons(
        yes_no(
            CANCEL.button(_("Yes, cancel"), answer="yes"),
            CANCEL.button(_("No, go on"), answer="no"),
        )
    )
    text = _("Cancel this registration? Everything typed so far will be deleted.")
    draft = await draft_of(context)
    if draft is None:
        await update.message.reply_text(text, reply_markup=keyboard)
    else:
        await show(update, context, draft, text, keyboard)
    return State.CANCEL


async def cancel_typed(update: Update, context: BotContext) -> None:
    """ "khong", "co" typed at "Cancel this registration?": the question is the buttons'."""
    await update.message.reply_text(_("Please answer with the buttons above."))


async def cancel_answered(update: Update, context: BotContext) -> str | int:
    query = update.callback_query
    draft = await draft_of(context)
    if context.pressed.answer == "yes":
        await context.storage.registrations.discard_draft(context.person.id)
        await query.answer()
        await edit_screen(query.message, _("Cancelled. Nothing was registered."), None)
        return ConversationHandler.END
    return await carry_on(update, context, draft)


def handlers() -> list:
    typed = filters.TEXT & ~filters.COMMAND
    return [
        dialog(
            "registration",
            entry_points=[
                CommandHandler("dangky", begin),
                REGISTER_AGAIN.handler(again),
                # A question's buttons, in every state (the kit's dialogs check their entry
                # points first): a question left on screen for another dialog still works.
                *(action.handler(button_answer) for action in BUTTON_ACTIONS),
            ],
            states={
                State.RESUME: [
                    RESUME.handler(resume_pressed),
                    MessageHandler(typed, resume_typed),
                ],
                State.HAMLET: [
                    HAMLET.handler(hamlet_pressed),
                    MessageHandler(typed, hamlet_typed),
                ],
                State.FORM: [MessageHandler(typed, text_answer)],
                State.CANCEL: [
                    CANCEL.handler(cancel_answered),
                    MessageHandler(typed, cancel_typed),
                ],
            },
            cancel=ask_cancel,
        )
    ]
