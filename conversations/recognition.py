"""/congnhan (recognise): the result of a registration by its criteria set's rule, shown
criterion by criterion, then decided by staff and locked.

The list offers the registrations that are assessed by the evidence rule
(`storage.evidence_state`: every evidence-required indicator accepted); any other one can still
be opened by number (or by part of a name, as /tinhtrang finds it) and decided, its card
saying which required evidence is not accepted. The card applies
`storage.reviews.evaluate_with_evidence`: the set's pass rule on the self-assessment, except
that an indicator requiring evidence counts as met only with at least one accepted photo.
Staff choose Recognise (`rc:yes:<id>`) or Do not recognise (`rc:no:<id>`), then may type a
decision number and a date (dd/mm/yyyy), or skip each (`rc:skipno:<id>`, `rc:skipdate:<id>`).
The result, the computation as shown, and the registration's status are stored together and
locked; only an administrator can reopen (`rc:reopen:<id>`, confirmed by `rc:reopen!:<id>`).
Every press loads the registration again and checks access to its hamlet.
"""

import contextlib
import re
from datetime import date

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as tg_filters

from bot.access import hamlet_in_reach, numbered_in_reach, refuse, registration_in_reach
from bot.actions import Action, yes_no
from bot.context import BotContext
from bot.i18n import _, format_moment
from bot.i18n import __ as _l
from bot.labels import state_words
from bot.years import years_label
from conversations.common import buttons, still_allowed
from conversations.evidence import shorten
from conversations.indicators import short_name
from conversations.kit import cancel_handler, dialog, remember_screen, skip
from conversations.registration_form import status_name
from conversations.states import RecognitionStep as State
from storage.criteria import CriteriaSet, PassRuleKind, ScoringKind
from storage.evidence_state import IndicatorState, IndicatorStatus
from storage.models import Area, Role
from storage.registrations import Registration, Status, registration_number
from storage.reviews import Assessed, Recognition, Result
from storage.text import nfc
from storage.usecases.recognition import current_evaluation, recognise, reopen

OPEN = Action("congnhan", "rc:open:{registration_id}", registration_id=int)
DECIDE = Action(
    "congnhan", "rc:{verdict}:{registration_id}", verdict=("yes", "no"), registration_id=int
)
SKIP_NUMBER = Action("congnhan", "rc:skipno:{registration_id}", registration_id=int)
SKIP_DATE = Action("congnhan", "rc:skipdate:{registration_id}", registration_id=int)
REOPEN = Action("congnhan", "rc:reopen:{registration_id}", registration_id=int)
REOPEN_SURE = Action("congnhan", "rc:reopen!:{registration_id}", registration_id=int)
KEEP = Action("congnhan", "rc:keep:{registration_id}", registration_id=int)
DECIDING = "recognition"  # user_data: {"id": registration id, "result", "year", "number"}
DATE_PATTERN = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
MAX_DECISION_NUMBER = 50
LIST_SIZE = 20


# --- rendering ---------------------------------------------------------------------------


def evidence_rule() -> str:
    return _(
        "Rule: an indicator that requires evidence counts as met only if at least one of its "
        "photos was accepted in /duyet; without one it counts as not met, with 0 points."
    )


def render_evidence_states(criteria: CriteriaSet, states: list[IndicatorStatus]) -> str:
    """The required indicators not accepted yet, by the evidence rule."""
    open_ = [s for s in states if s.required and s.state is not IndicatorState.ACCEPTED]
    if not open_:
        return _("Evidence: every required indicator accepted.")
    listed = "; ".join(f"{indicator_name(criteria, s.code)}: {state_words(s.state)}" for s in open_)
    return _("Required evidence not accepted yet: {names}.").format(names=listed)


def indicator_name(criteria: CriteriaSet, code: str) -> str:
    """An indicator as the card shows it: its short name, then its code in brackets, the
    number of its row in the paper scoring table that staff fill in and sign (GD.1.2:
    criterion 1, item 2)."""
    try:
        return f"{short_name(criteria.indicator(code))} ({code})"
    except KeyError:
        return code


def criterion_name(criteria: CriteriaSet, code: str, locale: str) -> str:
    """A criterion's title, cut short only when longer than the shipped sets' (a cut word reads
    as a wrong one), its code in brackets (as `indicator_name`)."""
    try:
        return f"{shorten(criteria.criterion(code).title.get(locale), 80)} ({code})"
    except KeyError:
        return code


def result_name(result: Result) -> str:
    return {Result.RECOGNISED: _("Recognised"), Result.NOT_RECOGNISED: _("Not recognised")}[result]


def render_computation(
    criteria: CriteriaSet, assessed: Assessed, assessment: dict[str, int], locale: str
) -> list[str]:
    """Per criterion its points (or indicators met), per indicator its mark, then the totals."""
    evaluation = assessed.evaluation
    points_rule = evaluation.rule is PassRuleKind.POINTS
    lines = []
    for result in evaluation.criteria:
        title = criterion_name(criteria, result.code, locale)
        if points_rule:
            line = _("{title}: {points}/{max} points").format(
                title=title, points=result.points, max=result.max_points
            )
            if result.floor is not None:
                mark = "✅" if result.floor_met else "❌"
                line += " " + _("(floor {floor} {mark})").format(floor=result.floor, mark=mark)
        else:
            met = sum(1 for i in result.indicators if i.met)
            line = _("{title}: {met}/{n} indicators met").format(
                title=title, met=met, n=len(result.indicators)
            )
        lines.append(line)
        for indicator in result.indicators:
            mark = "✅" if indicator.met else ("🔸" if indicator.points else "❌")
            line = f"  {mark} {indicator_name(criteria, indicator.code)}"
            if indicator.kind is ScoringKind.POINTS:
                line += f": {indicator.points}/{indicator.max_points}"
            if indicator.code in assessed.not_counted:
                claimed = assessment.get(indicator.code, 0)
                said = (
                    _("met")
                    if indicator.kind is ScoringKind.PASS_FAIL
                    else _("{points} points").format(points=claimed)
                )
                line += " " + _("(self-assessed {said}; no accepted evidence)").format(said=said)
            elif not indicator.answered:
                line += " " + _("(not answered)")
            lines.append(line)
    if points_rule:
        lines.append(
            _("Total: {total}/{max} points; at least {threshold} needed.").format(
                total=evaluation.total_points,
                max=evaluation.max_points,
                threshold=evaluation.threshold,
            )
        )
        if evaluation.failed_floors:
            below = [criterion_name(criteria, code, locale) for code in evaluation.failed_floors]
            lines.append(_("Below their floor: {names}.").format(names="; ".join(below)))
    else:
        every = [i for c in evaluation.criteria for i in c.indicators]
        lines.append(
            _("Indicators met: {met}/{n}; all must be met.").format(
                met=sum(1 for i in every if i.met), n=len(every)
            )
        )
    lines.append(
        _("By the rule: ✅ passes.") if evaluation.passed else _("By the rule: ❌ does not pass.")
    )
    return lines


def render_card(
    registration: Registration,
    hamlet: Area,
    criteria: CriteriaSet,
    assessed: Assessed,
    assessment: dict[str, int],
    locale: str,
    states: list[IndicatorStatus] = (),
) -> tuple[str, object]:
    lines = [
        _("Recognition of {number}: {name}, {hamlet}").format(
            number=registration.number, name=registration.name, hamlet=hamlet.name
        ),
        _("Criteria set: {title}").format(title=criteria.title.get(locale)),
        evidence_rule(),
        render_evidence_states(criteria, list(states)),
        "",
        *render_computation(criteria, assessed, assessment, locale),
        "",
        _("Your decision:"),
    ]
    keyboard = buttons(
        [
            [
                DECIDE.button(_("✅ Recognise"), verdict="yes", registration_id=registration.id),
                DECIDE.button(
                    _("❌ Do not recognise"), verdict="no", registration_id=registration.id
                ),
            ]
        ]
    )
    return "\n".join(lines), keyboard


def render_decision(
    registration: Registration, recognition: Recognition, decider: str, tzinfo, admin: bool
) -> tuple[str, object]:
    lines = [
        _("{number} ({name}) is decided: {result}.").format(
            number=registration.number,
            name=registration.name,
            result=result_name(recognition.result),
        ),
        _("Decided by {name} at {moment}.").format(
            name=decider, moment=format_moment(recognition.decided_at, tzinfo)
        ),
    ]
    if recognition.decision_number or recognition.decision_date:
        lines.append(
            _("Decision {number}, dated {date}.").format(
                number=recognition.decision_number or "—",
                date=f"{recognition.decision_date:%d/%m/%Y}" if recognition.decision_date else "—",
            )
        )
    evaluation = recognition.evaluation
    if evaluation.get("rule") == PassRuleKind.POINTS.value:
        lines.append(
            _("Computed then: {total}/{max} points; at least {threshold} needed.").format(
                total=evaluation["total_points"],
                max=evaluation["max_points"],
                threshold=evaluation["threshold"],
            )
        )
    rows = []
    if admin:
        rows.append([REOPEN.button(_("🔓 Reopen"), registration_id=registration.id)])
    else:
        lines.append(_("The decision is locked; only an administrator can reopen it."))
    return "\n".join(lines), buttons(rows)


def parse_date(text: str) -> date | None:
    match = DATE_PATTERN.match(nfc(text).replace(" ", ""))
    if not match:
        return None
    day, month, year = (int(part) for part in match.groups())
    if not 2000 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --- finding and checking ----------------------------------------------------------------


def id_of(context: BotContext) -> int:
    return context.pressed.registration_id


async def say(update: Update, text: str, keyboard=None) -> None:
    if update.callback_query:
        with contextlib.suppress(BadRequest):  # answered already by the press that led here
            await update.callback_query.answer()
    await update.effective_message.reply_text(text, reply_markup=keyboard)


async def assess(context: BotContext, registration: Registration):
    return await current_evaluation(context.storage, registration)


async def show(
    update: Update, context: BotContext, registration: Registration, hamlet: Area
) -> None:
    """The card, or why there is none: decided, or withdrawn."""
    storage = context.storage
    recognition = await storage.reviews.recognition(registration.id)
    if recognition is not None:
        await show_decision(update, context, registration, recognition)
        return
    if registration.year > context.today().year:
        await say(
            update,
            _(
                "{number} is registered for {year}: it is decided in that programme year, once "
                "its evidence has been reviewed."
            ).format(number=registration.number, year=registration.year),
        )
        return
    if registration.status is not Status.REGISTERED:
        await say(
            update,
            _("{number} is {status}; it cannot be decided.").format(
                number=registration.number, status=status_name(registration.status).lower()
            ),
        )
        return
    criteria, assessment, assessed = await assess(context, registration)
    states = await storage.evidence_states.of_registration(registration.id)
    text, keyboard = render_card(
        registration, hamlet, criteria, assessed, assessment, context.person.locale, states
    )
    await say(update, text, keyboard)


async def show_decision(
    update: Update, context: BotContext, registration: Registration, recognition: Recognition
) -> None:
    decider = await context.storage.people.get(recognition.decided_by)
    text, keyboard = render_decision(
        registration,
        recognition,
        decider.full_name if decider else "?",
        context.settings.tzinfo,
        context.person.role is Role.ADMIN,
    )
    await say(update, text, keyboard)


# --- handlers ----------------------------------------------------------------------------


async def begin(update: Update, context: BotContext) -> int:
    context.user_data.pop(DECIDING, None)
    typed = nfc(" ".join(context.args or []))
    number = registration_number(typed)
    if typed and number is None:
        await open_by_name(update, context, typed)
        return ConversationHandler.END
    if number:
        registration = await context.storage.registrations.by_number(number)
        missing = _("There is no registration numbered {number}.").format(number=number)
        hamlet = await numbered_in_reach(update, context, registration, "recognition.show", missing)
        if hamlet is not None:
            await show(update, context, registration, hamlet)
        return ConversationHandler.END
    ready = await context.storage.reviews.ready_for_recognition(
        context.area, context.today().year, LIST_SIZE
    )
    if not ready:
        await update.message.reply_text(
            _(
                "No registration in your area has every required indicator's evidence accepted "
                "and no decision yet. Send /congnhan with a number (e.g. /congnhan "
                "GD-2026-00001) to see one."
            )
        )
        return ConversationHandler.END
    rows = [
        [OPEN.button(f"{r.number} · {shorten(r.name, 30)}", registration_id=r.id)] for r in ready
    ]
    await update.message.reply_text(
        _("Ready for a decision (required evidence accepted):"), reply_markup=buttons(rows)
    )
    return ConversationHandler.END


async def open_by_name(update: Update, context: BotContext, text: str) -> None:
    """Part of a name, with or without diacritics, found as /tinhtrang finds it."""
    years = await context.open_years()
    found = await context.storage.registrations.search(context.area, years, text)
    if not found:
        await update.message.reply_text(
            _("No registration of {year} in your area matches {text}.").format(
                year=years_label(years), text=text
            )
        )
    elif len(found) == 1:
        subject = {"registration_id": found[0].id}
        hamlet = await hamlet_in_reach(update, context, found[0], "recognition.show", subject)
        if hamlet is not None:
            await show(update, context, found[0], hamlet)
    else:
        rows = [
            [OPEN.button(f"{r.number} · {shorten(r.name, 30)}", registration_id=r.id)]
            for r in found
        ]
        await update.message.reply_text(_("Which one?"), reply_markup=buttons(rows))


async def open_pressed(update: Update, context: BotContext) -> int | None:
    found = await registration_in_reach(update, context, id_of(context), "recognition.show")
    if found is None:
        return None
    context.user_data.pop(DECIDING, None)
    await show(update, context, *found)
    return ConversationHandler.END


async def result_pressed(update: Update, context: BotContext) -> str | int | None:
    found = await registration_in_reach(update, context, id_of(context), "recognition.decide")
    if found is None:
        return None
    registration, hamlet = found
    decided = await context.storage.reviews.recognition(registration.id) is not None
    if decided or registration.year > context.today().year:  # next year's: not yet (bot/years)
        await show(update, context, registration, hamlet)
        return ConversationHandler.END
    result = Result.RECOGNISED if context.pressed.verdict == "yes" else Result.NOT_RECOGNISED
    context.user_data[DECIDING] = {
        "id": registration.id,
        "result": result.value,
        "year": registration.year,
    }
    await update.callback_query.answer()
    await update.callback_query.edit_message_reply_markup(None)
    sent = await update.effective_message.reply_text(
        _("{result}: {number}. Type the decision number (e.g. 125/QĐ-UBND), or press Skip.").format(
            result=result_name(result), number=registration.number
        ),
        reply_markup=buttons([[SKIP_NUMBER.button(_("Skip"), registration_id=registration.id)]]),
    )
    remember_screen(context.user_data[DECIDING], sent)
    return State.NUMBER


def deciding(context: BotContext, registration_id: int | None = None) -> dict | None:
    """The decision under way, if it is for this registration (any, when None)."""
    current = context.user_data.get(DECIDING)
    if not current or (registration_id is not None and current["id"] != registration_id):
        return None
    return current


async def stale(update: Update) -> None:
    await update.callback_query.answer(
        _("This button is no longer valid. Please start again from the command."), show_alert=True
    )


async def ask_date(update: Update, context: BotContext, current: dict) -> str:
    registration_id = current["id"]
    sent = await update.effective_message.reply_text(
        _("Type the decision date as dd/mm/yyyy (e.g. 15/12/2026), or press Skip."),
        reply_markup=buttons([[SKIP_DATE.button(_("Skip"), registration_id=registration_id)]]),
    )
    remember_screen(current, sent)
    return State.DATE


async def number_typed(update: Update, context: BotContext) -> str | int | None:
    current = await still_allowed(update, context, "congnhan", DECIDING)
    if current is None:
        return ConversationHandler.END
    number = " ".join(nfc(update.message.text or "").split())  # a photo: no number
    if not number or len(number) > MAX_DECISION_NUMBER or not number.isprintable():
        await update.message.reply_text(
            _("Please type the decision number in at most {n} characters, or press Skip.").format(
                n=MAX_DECISION_NUMBER
            )
        )
        return None
    current["number"] = number
    return await ask_date(update, context, current)


async def decision_pressed(update: Update, context: BotContext) -> dict | int | None:
    """The decision a Skip press belongs to, if the registration is still in reach."""
    registration_id = id_of(context)
    if await registration_in_reach(update, context, registration_id, "recognition.decide") is None:
        return None
    current = deciding(context, registration_id)
    if current is None:
        await stale(update)
        return ConversationHandler.END
    return current


async def saved_without_date(update: Update, context: BotContext, current: dict) -> int:
    return await save(update, context, current, None)


skip_number_pressed = skip(decision_pressed, "number", ask_date)
skip_date_pressed = skip(decision_pressed, None, saved_without_date)


async def date_typed(update: Update, context: BotContext) -> int | None:
    current = await still_allowed(update, context, "congnhan", DECIDING)
    if current is None:
        return ConversationHandler.END
    day = parse_date(update.message.text or "")  # a photo or sticker: no date
    if day is None:
        await update.message.reply_text(
            _(
                "Sorry, I cannot read that date. Please type it as dd/mm/yyyy, for example "
                "15/12/2026, or press Skip."
            )
        )
        return None
    year = current.get("year", day.year)
    if not year <= day.year <= year + 1:  # a slip of the thumb: 2030, 2062
        await update.message.reply_text(
            _(
                "The decision of a registration of {year} is dated in {year} or {next}. Please "
                "type the date again as dd/mm/yyyy, or press Skip."
            ).format(year=year, next=year + 1)
        )
        return None
    return await save(update, context, current, day)


async def save(update: Update, context: BotContext, current: dict, day: date | None) -> int:
    """Compute again, store the locked result with the registration's status, audit, report."""
    context.user_data.pop(DECIDING, None)
    found = await registration_in_reach(update, context, current["id"], "recognition.decide")
    if found is None:
        return ConversationHandler.END
    registration, hamlet = found
    storage = context.storage
    result = Result(current["result"])
    recognition = await recognise(
        storage,
        context.person,
        registration,
        result,
        current.get("number"),
        day,
        context.application.now(),
    )
    if recognition is None:
        await update.effective_message.reply_text(
            _("{number} was decided meanwhile; nothing was changed.").format(
                number=registration.number
            )
        )
        registration = await storage.registrations.get(registration.id)
        await show(update, context, registration, hamlet)
        return ConversationHandler.END
    await update.effective_message.reply_text(
        _("Saved and locked: {number} is {result}.").format(
            number=registration.number, result=result_name(result).lower()
        )
    )
    return ConversationHandler.END


async def reopenable(update: Update, context: BotContext) -> tuple[Registration, Area] | None:
    """The registration a reopen button names, if in reach and the presser is an admin."""
    found = await registration_in_reach(update, context, id_of(context), "recognition.reopen")
    if found is not None and context.person.role is not Role.ADMIN:
        await refuse(update, context, "recognition.reopen", {"registration_id": found[0].id})
        return None
    return found


async def reopen_pressed(update: Update, context: BotContext) -> int | None:
    found = await reopenable(update, context)
    if found is None:
        return None
    registration, _hamlet = found
    await say(
        update,
        _(
            "Reopen {number}? Its decision is deleted (the audit log keeps it) and its status "
            "goes back to registered."
        ).format(number=registration.number),
        buttons(
            yes_no(
                REOPEN_SURE.button(_("Yes, reopen"), registration_id=registration.id),
                KEEP.button(_("No, keep it"), registration_id=registration.id),
            )
        ),
    )
    return ConversationHandler.END


async def reopen_confirmed(update: Update, context: BotContext) -> int | None:
    found = await reopenable(update, context)
    if found is None:
        return None
    registration, _hamlet = found
    before = await reopen(context.storage, context.person, registration)
    await update.callback_query.answer()
    if before is None:  # reopened already, by this press's twin or another admin
        await update.effective_message.reply_text(
            _("{number} has no decision to reopen.").format(number=registration.number)
        )
        return ConversationHandler.END
    await update.callback_query.edit_message_reply_markup(None)
    await update.effective_message.reply_text(
        _("Reopened: {number} is registered again and can be decided with /congnhan.").format(
            number=registration.number
        )
    )
    return ConversationHandler.END


async def keep_pressed(update: Update, context: BotContext) -> None:
    await update.callback_query.answer(_("Nothing was changed."))
    await update.callback_query.edit_message_reply_markup(None)


def handlers() -> list:
    answer = tg_filters.UpdateType.MESSAGE & ~tg_filters.COMMAND  # text, or asked again
    entry = [
        CommandHandler("congnhan", begin),
        OPEN.handler(open_pressed),
        DECIDE.handler(result_pressed),
        SKIP_NUMBER.handler(skip_number_pressed),
        SKIP_DATE.handler(skip_date_pressed),
        REOPEN.handler(reopen_pressed),
        REOPEN_SURE.handler(reopen_confirmed),
        KEEP.handler(keep_pressed),
    ]
    return [
        dialog(
            "recognition",
            entry_points=entry,
            states={
                State.NUMBER: [MessageHandler(answer, number_typed)],
                State.DATE: [MessageHandler(answer, date_typed)],
            },
            cancel=cancel_handler(_l("Cancelled. Nothing was changed."), [DECIDING]),
        )
    ]
