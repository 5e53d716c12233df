"""/danhgia (self-assessment): a registration assessed against its criteria set, one
indicator a screen, on one message edited in place; changeable until the evaluation lock.

Opened from /danhgia, from the card in /danhsach or right after /dangky. Each answer is saved
as it is tapped (with its audit entry), so nothing is lost and it can be finished later. The
buttons carry the registration id and the indicator's place (`sa:v:<id>:<i>:<value>`); every
press loads the registration and checks reach, status and lock again. A score typed instead
of tapped counts for the indicator screen last shown (`SCREEN` in user_data), with the same checks.
"""

import time

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.access import numbered_in_reach, registration_in_reach
from bot.actions import Action
from bot.context import BotContext
from bot.i18n import _, current_locale
from conversations.actions import ASSESS_LIST, ASSESS_OPEN
from conversations.common import buttons, page_rows
from conversations.indicators import marked_name, required_legend, short_name
from conversations.outside import outside_dialog
from conversations.registration_form import status_name
from conversations.registrations_list import evaluation_lock, locked_text
from conversations.screen import close_screen, edit_screen
from storage.criteria import CriteriaSet, Indicator, PassRuleKind, ScoringKind, evaluate
from storage.registrations import Registration, Status
from storage.text import nfc
from storage.usecases.self_assessment import assess

PAGE = 10
# user_data: the indicator screen last shown {"registration", "index", "message", "at"}, so that
# a score typed instead of tapped counts for it (within SCREEN_SECONDS).
SCREEN = "sa_screen"
SCREEN_SECONDS = 30 * 60
LIST, OPEN = ASSESS_LIST, ASSESS_OPEN
INDICATOR = Action("danhgia", "sa:ind:{registration_id}:{index}", registration_id=int, index=int)
VALUE = Action(
    "danhgia", "sa:v:{registration_id}:{index}:{value}", registration_id=int, index=int, value=int
)
SUMMARY = Action("danhgia", "sa:sum:{registration_id}", registration_id=int)
DONE = Action("danhgia", "sa:done:{registration_id}", registration_id=int)


# --- rendering ---------------------------------------------------------------------------


def answer_word(indicator: Indicator, value: int | None) -> str:
    if value is None:
        return _("— not answered")
    if indicator.scoring.kind is ScoringKind.PASS_FAIL:
        return _("Met") if value else _("Not met")
    return _("{value}/{max} points").format(value=value, max=indicator.max_points)


def render_indicator(
    registration: Registration, criteria: CriteriaSet, index: int, answers: dict[str, int]
) -> tuple[str, InlineKeyboardMarkup]:
    indicators = criteria.all_indicators()
    indicator = indicators[index]
    lines = [
        _("Self-assessment of {number} · {name}").format(
            number=registration.number, name=registration.name
        ),
        _("Indicator {k}/{n}: {name}").format(
            k=index + 1, n=len(indicators), name=marked_name(indicator)
        ),
        indicator.text.get(current_locale()),
    ]

    def value(v: int) -> str:
        return VALUE.data(registration_id=registration.id, index=index, value=v)

    if indicator.scoring.kind is ScoringKind.PASS_FAIL:
        lines.append(_("Is it met?"))
        rows = [[(_("Met"), value(1)), (_("Not met"), value(0))]]
    else:
        lines.append(
            _("How many points, from 0 to {top}?").format(top=indicator.scoring.max_points)
        )
        values = [(str(v), value(v)) for v in range(indicator.scoring.max_points + 1)]
        rows = [values[i : i + 6] for i in range(0, len(values), 6)]
    current = answers.get(indicator.code)
    if current is not None:
        lines.append(_("Now: {answer}").format(answer=answer_word(indicator, current)))
    if indicator.evidence_required:
        lines.append(required_legend())
    navigation = []
    if index > 0:
        navigation.append(
            INDICATOR.button(_("⬅️ Back"), registration_id=registration.id, index=index - 1)
        )
    navigation.append(SUMMARY.button(_("📋 All answers"), registration_id=registration.id))
    rows.append(navigation)
    return "\n".join(lines), buttons(rows)


def render_summary(
    registration: Registration, criteria: CriteriaSet, answers: dict[str, int]
) -> tuple[str, InlineKeyboardMarkup]:
    indicators = criteria.all_indicators()
    answered = sum(1 for i in indicators if i.code in answers)
    lines = [
        _("Self-assessment of {number} · {name}").format(
            number=registration.number, name=registration.name
        ),
        _("{answered}/{total} indicators answered").format(
            answered=answered, total=len(indicators)
        ),
    ]
    lines += [f"• {short_name(i)}: {answer_word(i, answers.get(i.code))}" for i in indicators]
    if criteria.pass_rule.kind is PassRuleKind.POINTS:
        result = evaluate(criteria, answers)
        lines.append(
            _("Self-assessed total: {total}/{top} points").format(
                total=result.total_points, top=result.max_points
            )
        )
    lines.append(_("Tap an indicator to change its answer; it can be changed until the lock."))
    edits = [
        INDICATOR.button(f"✏️ {short_name(i)}", registration_id=registration.id, index=index)
        for index, i in enumerate(indicators)
    ]
    rows = [edits[i : i + 2] for i in range(0, len(edits), 2)]
    rows.append([DONE.button(_("✅ Done"), registration_id=registration.id)])
    return "\n".join(lines), buttons(rows)


def render_done(registration: Registration, criteria: CriteriaSet, answers: dict) -> str:
    return _("✔️ Self-assessment of {number} saved: {answered}/{total} indicators.").format(
        number=registration.number,
        answered=sum(1 for i in criteria.all_indicators() if i.code in answers),
        total=len(criteria.all_indicators()),
    )


def render_list(
    found: list[Registration], total: int, offset: int
) -> tuple[str, InlineKeyboardMarkup]:
    if not found:
        return _("There are no registrations in your area this year."), buttons([])
    text = _(
        "Self-assessment: which registration? {first}–{last} of {total}. You can also send "
        "/danhgia with a number or part of a name."
    ).format(first=offset + 1, last=offset + len(found), total=total)
    rows = [[OPEN.button(f"{r.number} · {r.name}", registration_id=r.id)] for r in found]
    rows += page_rows(offset, total, PAGE, lambda start: LIST.data(offset=start))
    return text, buttons(rows)


# --- rules -------------------------------------------------------------------------------


async def assessable(
    update: Update, context: BotContext, registration_id: int
) -> tuple[Registration, CriteriaSet] | None:
    """The registration and its set if the person may assess it now; explains otherwise."""
    found = await registration_in_reach(update, context, registration_id, "registration.assess")
    if found is None:
        return None
    registration = found[0]
    problem = None
    if registration.status is not Status.REGISTERED:
        problem = _("{number} is {status}; only a registered one can be assessed.").format(
            number=registration.number, status=status_name(registration.status)
        )
    else:
        lock = await evaluation_lock(context, registration)
        if context.today() > lock:
            problem = locked_text(lock)
    if problem:
        await tell(update, problem)
        return None
    stored = await context.storage.criteria.get(registration.criteria_set_id)
    return registration, stored.criteria_set


def no_longer_valid() -> str:
    return _("This button is no longer valid. Please start again from the command.")


async def tell(update: Update, text: str) -> None:
    if update.callback_query:
        await update.callback_query.answer(text, show_alert=True)
    else:
        await update.effective_message.reply_text(text)


def highest(indicator: Indicator) -> int:
    """The largest answer: 1 (met) for pass/fail, else the indicator's points."""
    return 1 if indicator.scoring.kind is ScoringKind.PASS_FAIL else indicator.max_points


def first_open(criteria: CriteriaSet, answers: dict, after: int = -1) -> int | None:
    """The first unanswered indicator after `after`, else from the start; None when all are."""
    codes = [i.code for i in criteria.all_indicators()]
    order = list(range(after + 1, len(codes))) + list(range(0, after + 1))
    return next((i for i in order if codes[i] not in answers), None)


# --- handlers ----------------------------------------------------------------------------


async def show(
    update: Update, context: BotContext, text: str, keyboard: InlineKeyboardMarkup | None
) -> None:
    """Edit the pressed message in place; after a command, send the screen. Remembers an
    indicator screen (its value buttons name it) for a score typed instead of tapped."""
    if update.callback_query:
        await update.callback_query.answer()
        message = update.callback_query.message
        await edit_screen(message, text, keyboard)
    else:
        message = await update.effective_message.reply_text(text, reply_markup=keyboard)
    rows = keyboard.inline_keyboard if keyboard else ()
    first = rows[0][0].callback_data if rows and rows[0] else None  # an empty list has none
    shown = VALUE.parse(first) if isinstance(first, str) else None
    if shown:
        context.user_data[SCREEN] = {
            "registration": shown.registration_id,
            "index": shown.index,
            "message": message.message_id,
            "at": time.time(),
        }
    else:
        context.user_data.pop(SCREEN, None)


async def screen_of(
    context: BotContext, registration: Registration, criteria: CriteriaSet, index: int | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The indicator `index`, else the first unanswered one, else all the answers."""
    answers = await context.storage.registrations.assessment(registration.id)
    if index is None:
        index = first_open(criteria, answers)
    if index is None:
        return render_summary(registration, criteria, answers)
    return render_indicator(registration, criteria, index, answers)


async def begin(update: Update, context: BotContext) -> None:
    text = nfc(" ".join(context.args or []))
    years = await context.open_years()
    registrations = context.storage.registrations
    if not text:
        found, total = await registrations.in_area(
            context.area, years, status=Status.REGISTERED, limit=PAGE
        )
        text, keyboard = render_list(found, total, 0)
        await update.message.reply_text(text, reply_markup=keyboard)
        return
    registration = await registrations.by_number(text)
    nothing = _("Nothing in your area matches “{text}”.").format(text=text)
    if registration is None:
        found = await registrations.search(context.area, years, text)
    elif await numbered_in_reach(update, context, registration, "registration.assess", nothing):
        found = [registration]
    else:  # another area's number: answered as one that does not exist
        return
    if len(found) != 1:
        if not found:
            await update.message.reply_text(nothing)
            return
        text, keyboard = render_list(found, len(found), 0)
        await update.message.reply_text(text, reply_markup=keyboard)
        return
    ready = await assessable(update, context, found[0].id)
    if ready:
        await show(update, context, *await screen_of(context, *ready))


async def list_pressed(update: Update, context: BotContext) -> None:
    offset = context.pressed.offset
    years = await context.open_years()
    found, total = await context.storage.registrations.in_area(
        context.area, years, status=Status.REGISTERED, offset=offset, limit=PAGE
    )
    await show(update, context, *render_list(found, total, offset))


async def open_pressed(update: Update, context: BotContext) -> None:
    ready = await assessable(update, context, context.pressed.registration_id)
    if ready:
        await show(update, context, *await screen_of(context, *ready))


async def indicator_pressed(update: Update, context: BotContext) -> None:
    registration_id, index = context.pressed
    ready = await assessable(update, context, registration_id)
    if ready is None:
        return
    if index >= len(ready[1].all_indicators()):
        await tell(update, no_longer_valid())
        return
    await show(update, context, *await screen_of(context, *ready, index=index))


async def value_pressed(update: Update, context: BotContext) -> None:
    registration_id, index, value = context.pressed
    ready = await assessable(update, context, registration_id)
    if ready is None:
        return
    registration, criteria = ready
    indicators = criteria.all_indicators()
    if index >= len(indicators) or not 0 <= value <= highest(indicators[index]):
        await tell(update, no_longer_valid())
        return
    await answer(update, context, registration, criteria, index, value)


async def answer(
    update: Update,
    context: BotContext,
    registration: Registration,
    criteria: CriteriaSet,
    index: int,
    value: int,
) -> None:
    """Save one indicator's answer (tapped or typed), then show the next unanswered indicator,
    or the summary when none is left."""
    code = criteria.all_indicators()[index].code
    if not await assess(context.storage, context.person, registration, code, value):
        await tell(update, _("This registration can no longer be changed."))
        return
    answers = await context.storage.registrations.assessment(registration.id)
    following = first_open(criteria, answers, after=index)
    if following is None:
        await show(update, context, *render_summary(registration, criteria, answers))
    else:
        await show(update, context, *render_indicator(registration, criteria, following, answers))


async def summary_pressed(update: Update, context: BotContext) -> None:
    ready = await assessable(update, context, context.pressed.registration_id)
    if ready is None:
        return
    registration, criteria = ready
    answers = await context.storage.registrations.assessment(registration.id)
    await show(update, context, *render_summary(registration, criteria, answers))


async def done_pressed(update: Update, context: BotContext) -> None:
    found = await registration_in_reach(
        update, context, context.pressed.registration_id, "registration.assess"
    )
    if found is None:
        return
    registration = found[0]
    stored = await context.storage.criteria.get(registration.criteria_set_id)
    answers = await context.storage.registrations.assessment(registration.id)
    await show(update, context, render_done(registration, stored.criteria_set, answers), None)


async def value_typed(update: Update, context: BotContext) -> None:
    """A number typed on an indicator screen: saved as if its button had been tapped, and the
    next screen sent (the typed screen loses its buttons); else the answer outside a dialog."""
    screen = context.user_data.get(SCREEN)
    if not screen or time.time() - screen["at"] > SCREEN_SECONDS:
        await outside_dialog(update, context)
        return
    ready = await assessable(update, context, screen["registration"])
    if ready is None:
        context.user_data.pop(SCREEN, None)
        return
    registration, criteria = ready
    indicators = criteria.all_indicators()
    index = screen["index"]
    if index >= len(indicators):
        context.user_data.pop(SCREEN, None)
        await outside_dialog(update, context)
        return
    await close_screen(context.bot, update.effective_chat.id, screen["message"], None)
    indicator, value = indicators[index], int(update.message.text)
    if indicator.scoring.kind is ScoringKind.PASS_FAIL or value > highest(indicator):
        retry = _("Please tap one of the buttons below.")
        if indicator.scoring.kind is not ScoringKind.PASS_FAIL:
            retry = _("Please tap a number, or type one from 0 to {top}.").format(
                top=highest(indicator)
            )
        answers = await context.storage.registrations.assessment(registration.id)
        text, keyboard = render_indicator(registration, criteria, index, answers)
        await show(update, context, f"{retry}\n\n{text}", keyboard)
        return
    await answer(update, context, registration, criteria, index, value)


async def stop(update: Update, context: BotContext) -> bool:
    """/huy while an indicator screen is shown: its buttons go, what was answered stays."""
    screen = context.user_data.pop(SCREEN, None)
    if not screen or time.time() - screen["at"] > SCREEN_SECONDS:
        return False
    await close_screen(context.bot, update.effective_chat.id, screen["message"], None)
    await update.message.reply_text(
        _("Self-assessment stopped. The answers given are kept; continue any time with /danhgia.")
    )
    return True


def typed_handler() -> MessageHandler:
    """Registered after every dialog (bot/app.py), just before the answer outside a dialog."""
    return MessageHandler(filters.TEXT & filters.Regex(r"^\s*\d{1,3}\s*$"), value_typed)


def handlers() -> list:
    return [
        CommandHandler("danhgia", begin),
        LIST.handler(list_pressed),
        OPEN.handler(open_pressed),
        INDICATOR.handler(indicator_pressed),
        VALUE.handler(value_pressed),
        SUMMARY.handler(summary_pressed),
        DONE.handler(done_pressed),
    ]
