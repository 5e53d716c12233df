"""/dangky (register): a learning family or clan, one question a message, saved as it goes.

The draft in SQLite is the source of truth: its `step` indexes the list that `steps()`
derives from its answers (kind, the kind's fields, one step per indicator, the summary).
Buttons carry the step they belong to, so a press on an old question changes nothing.
"""

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import allowed, refuse
from bot.context import BotContext
from bot.i18n import _, format_number
from conversations.common import buttons, close_question, step
from conversations.registration_form import FIELDS, answer_label, field, kind_label, status_name
from conversations.states import Registration as State
from storage.criteria import (
    CriteriaSet,
    Indicator,
    ModelKind,
    PassRuleKind,
    ScoringKind,
    evaluate,
)
from storage.models import Area, AreaLevel, Role
from storage.registrations import IDENTITY_FIELD, Draft, Registration, identity_name

KIND_STEP, SUMMARY_STEP = "kind", "summary"
MAX_HAMLET_BUTTONS = 20


def steps(draft: Draft, criteria: CriteriaSet | None) -> list[str]:
    """Every step of this draft: 'kind', field keys, 'ind:<code>' per indicator, 'summary'."""
    kind = ModelKind(draft.answers.get("kind", ModelKind.FAMILY))
    indicators = [f"ind:{i.code}" for i in criteria.all_indicators()] if criteria else []
    return [KIND_STEP, *(f.key for f in FIELDS[kind]), *indicators, SUMMARY_STEP]


# --- rendering ---------------------------------------------------------------------------


def render_step(
    draft: Draft, criteria: CriteriaSet | None, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The question of the draft's current step, with its buttons."""
    all_steps = steps(draft, criteria)
    name, k, n = all_steps[draft.step], draft.step + 1, len(all_steps)
    back = [(_("⬅️ Back"), f"reg:{draft.step}:back")]
    if name == KIND_STEP:
        kinds = [[(kind_label(kind), f"reg:0:kind:{kind.value}")] for kind in FIELDS]
        return step(k, n, _("What do you want to register?")), buttons(kinds)
    if name == SUMMARY_STEP:
        return render_summary(draft, criteria, locale)
    if name.startswith("ind:"):
        return render_indicator(criteria.indicator(name[4:]), draft.step, k, n, locale, back)
    kind = ModelKind(draft.answers["kind"])
    question = field(kind, name)
    rows = [[(_("Skip"), f"reg:{draft.step}:skip")]] if question.optional else []
    return step(k, n, str(question.question)), buttons([*rows, back])


def render_indicator(
    indicator: Indicator, index: int, k: int, n: int, locale: str, back: list
) -> tuple[str, InlineKeyboardMarkup]:
    text = _("Self-assessment, indicator {code}:\n{text}").format(
        code=indicator.code, text=getattr(indicator.text, locale)
    )
    if indicator.scoring.kind is ScoringKind.PASS_FAIL:
        choices = [[(_("Met"), f"reg:{index}:v:1"), (_("Not met"), f"reg:{index}:v:0")]]
    else:
        top = indicator.scoring.max_points
        text += "\n" + _("How many points, from 0 to {top}?").format(top=top)
        values = [(str(v), f"reg:{index}:v:{v}") for v in range(top + 1)]
        choices = [values[i : i + 6] for i in range(0, len(values), 6)]
    return step(k, n, text), buttons([*choices, back])


def indicator_answer(indicator: Indicator, value: int | None) -> str:
    """A self-assessment answer as shown: Met / Not met, or the points."""
    if value is None:
        return "—"
    if indicator.scoring.kind is ScoringKind.PASS_FAIL:
        return _("Met") if value else _("Not met")
    return str(value)


def answer_text(draft: Draft, criteria: CriteriaSet | None, key: str) -> str:
    if key.startswith("ind:"):
        value = draft.answers.get("assessment", {}).get(key[4:])
        return indicator_answer(criteria.indicator(key[4:]), value)
    value = draft.answers.get(key)
    if value is None:
        return "—"
    return format_number(value) if isinstance(value, int) else str(value)


def render_summary(
    draft: Draft, criteria: CriteriaSet, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    kind = ModelKind(draft.answers["kind"])
    all_steps = steps(draft, criteria)
    lines = [_("Please check the registration ({kind}):").format(kind=kind_label(kind))]
    edits = []
    for index, key in enumerate(all_steps):
        if key in (KIND_STEP, SUMMARY_STEP):
            continue
        label = key[4:] if key.startswith("ind:") else answer_label(kind, key)
        lines.append(f"• {label}: {answer_text(draft, criteria, key)}")
        edits.append((f"✏️ {label}", f"reg:{draft.step}:edit:{index}"))
    if criteria.pass_rule.kind is PassRuleKind.POINTS:
        result = evaluate(criteria, draft.answers.get("assessment", {}))
        lines.append(
            _("Self-assessed total: {total}/{top} points").format(
                total=result.total_points, top=result.max_points
            )
        )
    rows = [edits[i : i + 2] for i in range(0, len(edits), 2)]
    rows.append([(_("✅ Confirm and register"), f"reg:{draft.step}:ok")])
    text = step(len(all_steps), len(all_steps), "\n".join(lines))
    return text, buttons(rows)


def render_duplicate(
    draft: Draft, existing: Registration, hamlet: Area
) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "{name} is already registered in {hamlet} for {year}: number {number}.\n"
        "Is this a different one?"
    ).format(name=existing.name, hamlet=hamlet.name, year=existing.year, number=existing.number)
    keyboard = buttons(
        [
            [(_("It is a different one, continue"), f"reg:{draft.step}:dupok")],
            [(_("Open the existing registration"), f"reg:{draft.step}:dupopen:{existing.id}")],
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


def render_resume(draft: Draft, criteria: CriteriaSet | None) -> tuple[str, InlineKeyboardMarkup]:
    text = _(
        "You have an unfinished registration (step {k} of {n}). Continue it or start over?"
    ).format(k=draft.step + 1, n=len(steps(draft, criteria)))
    keyboard = buttons(
        [[(_("▶️ Continue"), "reg:resume:continue"), (_("🔄 Start over"), "reg:resume:new")]]
    )
    return text, keyboard


# --- the dialog --------------------------------------------------------------------------


async def begin(update: Update, context: BotContext) -> str | int:
    draft = await context.storage.registrations.draft_of(context.person.id)
    if draft is not None and draft.answers:
        text, keyboard = render_resume(draft, await criteria_of(context, draft))
        await update.message.reply_text(text, reply_markup=keyboard)
        return State.RESUME
    return await start_over(update, context)


async def start_over(update: Update, context: BotContext) -> str | int:
    person, year = context.person, context.today().year
    if person.role is Role.HAMLET_HEAD:
        return await hamlet_chosen(update, context, context.area)
    await context.storage.registrations.start_draft(person.id, None, year)
    text, keyboard = await render_hamlet_choice(context)
    await update.effective_message.reply_text(text, reply_markup=keyboard)
    return State.HAMLET


async def render_hamlet_choice(context: BotContext) -> tuple[str, InlineKeyboardMarkup]:
    area = context.area
    hamlets = []
    if area is not None and area.level is AreaLevel.COMMUNE:
        hamlets = (await context.storage.areas.children(area))[:MAX_HAMLET_BUTTONS]
    text = _("For which hamlet? Pick one, or type it as commune code/hamlet, e.g. 00070/Thôn Đông.")
    return text, buttons([[(h.name, f"reg:hamlet:{h.id}")] for h in hamlets])


async def hamlet_pressed(update: Update, context: BotContext) -> str | None:
    hamlet_id = int(update.callback_query.data.rsplit(":", 1)[1])
    hamlet = await context.storage.areas.get(hamlet_id)
    if hamlet is None or hamlet.level is not AreaLevel.HAMLET or not allowed(context, hamlet):
        await refuse(update, context, "registration.hamlet", {"area_id": hamlet_id})
        return None
    await close_question(update.callback_query, hamlet.name)
    return await hamlet_chosen(update, context, hamlet)


async def hamlet_typed(update: Update, context: BotContext) -> str | None:
    hamlet = await context.storage.areas.resolve(update.message.text)
    if hamlet is None or hamlet.level is not AreaLevel.HAMLET:
        await update.message.reply_text(_("I do not know that hamlet. Please check and retype."))
        return None
    if not allowed(context, hamlet):
        await refuse(update, context, "registration.hamlet", {"area_id": hamlet.id})
        return None
    return await hamlet_chosen(update, context, hamlet)


async def hamlet_chosen(update: Update, context: BotContext, hamlet: Area) -> str | int:
    """Open a draft for the hamlet if its province still takes registrations this year."""
    year = context.today().year
    dates = await context.storage.registrations.programme_year(hamlet.province_code, year)
    if context.today() > dates.registration_close:
        await update.effective_message.reply_text(
            _("Registration for {year} closed on {date:%d/%m/%Y}.").format(
                year=year, date=dates.registration_close
            )
        )
        return ConversationHandler.END
    draft = await context.storage.registrations.start_draft(context.person.id, hamlet.id, year)
    await ask(update, context, draft)
    return State.FORM


async def resume_pressed(update: Update, context: BotContext) -> str | int:
    query = update.callback_query
    if query.data == "reg:resume:new":
        await close_question(query, _("🔄 Start over"))
        await context.storage.registrations.discard_draft(context.person.id)
        return await start_over(update, context)
    await close_question(query, _("▶️ Continue"))
    return await carry_on(update, context)


async def carry_on(update: Update, context: BotContext) -> str | int:
    """Back to where the person's draft stands, after a pause or a resume."""
    draft = await context.storage.registrations.draft_of(context.person.id)
    if draft is None:
        return await start_over(update, context)
    if draft.hamlet_id is None:
        text, keyboard = await render_hamlet_choice(context)
        await update.effective_message.reply_text(text, reply_markup=keyboard)
        return State.HAMLET
    await ask(update, context, draft)
    return State.FORM


async def criteria_of(context: BotContext, draft: Draft) -> CriteriaSet | None:
    """The draft's criteria set; before the kind is chosen, the family set, to count steps."""
    set_id = draft.answers.get("criteria_set_id")
    if set_id:
        return (await context.storage.criteria.get(set_id)).criteria_set
    if draft.hamlet_id is None:
        return None
    hamlet = await context.storage.areas.get(draft.hamlet_id)
    in_force = await context.storage.criteria.in_force(
        hamlet.province_code, draft.year, ModelKind.FAMILY
    )
    return in_force.criteria_set


async def ask(update: Update, context: BotContext, draft: Draft) -> None:
    text, keyboard = render_step(draft, await criteria_of(context, draft), context.person.locale)
    await update.effective_message.reply_text(text, reply_markup=keyboard)


async def current_draft(update: Update, context: BotContext) -> Draft | None:
    draft = await context.storage.registrations.draft_of(context.person.id)
    if draft is None or draft.hamlet_id is None:
        await update.effective_message.reply_text(
            _("This registration is no longer open. Send /dangky to start again.")
        )
    return draft


async def advance(update: Update, context: BotContext, draft: Draft, answers: dict) -> None:
    """Save an answer and ask the next question (back to the summary when editing)."""
    criteria = await criteria_of(context, draft)
    summary = len(steps(draft.model_copy(update={"answers": answers}), criteria)) - 1
    editing = answers.pop("editing", False)
    next_step = summary if editing else draft.step + 1
    draft = draft.model_copy(update={"answers": answers, "step": next_step})
    await context.storage.registrations.save_draft(draft)
    await ask(update, context, draft)


async def text_answer(update: Update, context: BotContext) -> None:
    draft = await current_draft(update, context)
    if draft is None or draft.hamlet_id is None:
        return
    name = steps(draft, await criteria_of(context, draft))[draft.step]
    if name in (KIND_STEP, SUMMARY_STEP) or name.startswith("ind:"):
        await update.message.reply_text(_("Please answer with the buttons above."))
        return
    question = field(ModelKind(draft.answers["kind"]), name)
    value = question.accept(update.message.text, draft.answers)
    if value is None:
        await update.message.reply_text(str(question.problem))
        return
    answers = draft.answers | {name: value}
    if name == IDENTITY_FIELD[ModelKind(answers["kind"])] and await warned_duplicate(
        update, context, draft, answers
    ):
        return
    await advance(update, context, draft, answers)


async def warned_duplicate(update: Update, context: BotContext, draft: Draft, answers) -> bool:
    """Warn once about a registration of the same name in the hamlet and year."""
    kind = ModelKind(answers["kind"])
    name = identity_name(kind, answers)
    if name in answers.get("different_from", []):
        return False
    found = await context.storage.registrations.same_name(draft.hamlet_id, draft.year, kind, name)
    if not found:
        return False
    draft = draft.model_copy(update={"answers": answers})
    await context.storage.registrations.save_draft(draft)
    hamlet = await context.storage.areas.get(draft.hamlet_id)
    text, keyboard = render_duplicate(draft, found[0], hamlet)
    await update.effective_message.reply_text(text, reply_markup=keyboard)
    return True


async def button_answer(update: Update, context: BotContext) -> str | int | None:
    query = update.callback_query
    _prefix, index, action, *value = query.data.split(":")
    draft = await context.storage.registrations.draft_of(context.person.id)
    if draft is None or draft.hamlet_id is None or int(index) != draft.step:
        await query.answer(_("This question has already been answered."))
        return None
    handler = BUTTON_ACTIONS[action]
    return await handler(update, context, draft, value[0] if value else None)


async def on_kind(update: Update, context: BotContext, draft: Draft, value: str) -> None:
    kind = ModelKind(value)
    await close_question(update.callback_query, kind_label(kind))
    if draft.answers.get("kind") == kind.value:  # back to the first question and on again
        await advance(update, context, draft, draft.answers)
        return
    hamlet = await context.storage.areas.get(draft.hamlet_id)
    criteria = await context.storage.criteria.in_force(hamlet.province_code, draft.year, kind)
    answers = {"kind": kind.value, "criteria_set_id": criteria.set_id}
    await advance(update, context, draft, answers)


async def on_skip(update: Update, context: BotContext, draft: Draft, value: None) -> None:
    await close_question(update.callback_query, _("Skip"))
    name = steps(draft, await criteria_of(context, draft))[draft.step]
    await advance(update, context, draft, draft.answers | {name: None})


async def on_back(update: Update, context: BotContext, draft: Draft, value: None) -> None:
    await close_question(update.callback_query, _("⬅️ Back"))
    criteria = await criteria_of(context, draft)
    if draft.answers.get("editing"):
        back_to = len(steps(draft, criteria)) - 1
        answers = {k: v for k, v in draft.answers.items() if k != "editing"}
    else:
        back_to, answers = max(draft.step - 1, 0), draft.answers
    draft = draft.model_copy(update={"step": back_to, "answers": answers})
    await context.storage.registrations.save_draft(draft)
    await ask(update, context, draft)


async def on_value(update: Update, context: BotContext, draft: Draft, value: str) -> None:
    criteria = await criteria_of(context, draft)
    code = steps(draft, criteria)[draft.step][4:]
    points = int(value)
    indicator = criteria.indicator(code)
    top = 1 if indicator.scoring.kind is ScoringKind.PASS_FAIL else indicator.scoring.max_points
    if not 0 <= points <= top:
        await update.callback_query.answer(_("This question has already been answered."))
        return
    await close_question(update.callback_query, indicator_answer(indicator, points))
    assessment = draft.answers.get("assessment", {}) | {code: points}
    await advance(update, context, draft, draft.answers | {"assessment": assessment})


async def on_edit(update: Update, context: BotContext, draft: Draft, value: str) -> None:
    target = int(value)
    criteria = await criteria_of(context, draft)
    if not 0 < target < len(steps(draft, criteria)) - 1:
        await update.callback_query.answer(_("This question has already been answered."))
        return
    await close_question(update.callback_query)
    draft = draft.model_copy(update={"step": target, "answers": draft.answers | {"editing": True}})
    await context.storage.registrations.save_draft(draft)
    await ask(update, context, draft)


async def on_different(update: Update, context: BotContext, draft: Draft, value: None) -> None:
    await close_question(update.callback_query, _("It is a different one, continue"))
    name = identity_name(ModelKind(draft.answers["kind"]), draft.answers)
    different = [*draft.answers.get("different_from", []), name]
    await advance(update, context, draft, draft.answers | {"different_from": different})


async def on_open_existing(update: Update, context: BotContext, draft: Draft, value: str) -> int:
    registration = await context.storage.registrations.get(int(value))
    hamlet = await context.storage.areas.get(registration.hamlet_id) if registration else None
    if registration is None or not allowed(context, hamlet):
        await refuse(update, context, "registration.open", {"registration_id": value})
        return None
    await close_question(update.callback_query, _("Open the existing registration"))
    await context.storage.registrations.discard_draft(context.person.id)
    await update.effective_message.reply_text(render_existing(registration, hamlet))
    return ConversationHandler.END


async def on_confirm(update: Update, context: BotContext, draft: Draft, value: None) -> int:
    """Number the registration; a second press of the same Confirm finds the same one."""
    await close_question(update.callback_query, _("✅ Confirm and register"))
    storage = context.storage
    hamlet = await storage.areas.get(draft.hamlet_id)
    registration = await storage.registrations.register(draft, hamlet, context.person.id)
    await storage.audit.record(
        "registration.created",
        "registration",
        registration.id,
        actor_id=context.person.id,
        actor_telegram_id=context.person.telegram_id,
        area_id=hamlet.id,
        after=registration.model_dump(mode="json"),
    )
    await update.effective_message.reply_text(
        _(
            "Registered! Registration number: {number}\n{kind}: {name}, {hamlet}.\n"
            "Evidence can now be sent with /minhchung."
        ).format(
            number=registration.number,
            kind=kind_label(registration.kind),
            name=registration.name,
            hamlet=hamlet.name,
        )
    )
    return ConversationHandler.END


BUTTON_ACTIONS = {
    "kind": on_kind,
    "skip": on_skip,
    "back": on_back,
    "v": on_value,
    "edit": on_edit,
    "dupok": on_different,
    "dupopen": on_open_existing,
    "ok": on_confirm,
}


async def ask_cancel(update: Update, context: BotContext) -> str:
    keyboard = buttons([[(_("Yes, cancel"), "reg:cancel:yes"), (_("No, go on"), "reg:cancel:no")]])
    await update.message.reply_text(
        _("Cancel this registration? Everything typed so far will be deleted."),
        reply_markup=keyboard,
    )
    return State.CANCEL


async def cancel_answered(update: Update, context: BotContext) -> str | int:
    query = update.callback_query
    if query.data == "reg:cancel:yes":
        await close_question(query, _("Yes, cancel"))
        await context.storage.registrations.discard_draft(context.person.id)
        await update.effective_message.reply_text(_("Cancelled. Nothing was registered."))
        return ConversationHandler.END
    await close_question(query, _("No, go on"))
    return await carry_on(update, context)


def handlers() -> list:
    typed = filters.TEXT & ~filters.COMMAND
    actions = "|".join(BUTTON_ACTIONS)
    return [
        ConversationHandler(
            entry_points=[CommandHandler("dangky", begin)],
            states={
                State.RESUME: [
                    CallbackQueryHandler(resume_pressed, pattern=r"^reg:resume:(continue|new)$")
                ],
                State.HAMLET: [
                    CallbackQueryHandler(hamlet_pressed, pattern=r"^reg:hamlet:\d+$"),
                    MessageHandler(typed, hamlet_typed),
                ],
                State.FORM: [
                    CallbackQueryHandler(button_answer, pattern=rf"^reg:\d+:({actions})(:\w+)?$"),
                    MessageHandler(typed, text_answer),
                ],
                State.CANCEL: [
                    CallbackQueryHandler(cancel_answered, pattern=r"^reg:cancel:(yes|no)$")
                ],
            },
            fallbacks=[CommandHandler("huy", ask_cancel)],
            allow_reentry=True,
            name="registration",
            persistent=True,
        )
    ]
