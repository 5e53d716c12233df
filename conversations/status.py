"""/tinhtrang <number | name> (status): one registration's whole state on one card.

Its data and self-assessment (the /danhsach card, without its buttons), the evidence checklist
(photos per indicator and their review state), the review results, the recognition, the flags
on its photos, and its last entries in the audit log. Several matches by name give buttons
(`stt:show:<registration id>`); the registration is loaded and checked again on a press.
"""

from telegram import Update
from telegram.ext import CommandHandler

from bot.access import hamlet_in_reach, numbered_in_reach
from bot.actions import Action
from bot.context import BotContext
from bot.i18n import _, ngettext
from bot.labels import flag_text, history_sentence, local_day, state_words
from bot.years import years_label
from conversations.common import buttons
from conversations.indicators import REQUIRED_MARK, names_by_code
from conversations.registration_form import status_name
from conversations.registrations_list import Card, evaluation_lock, render_card
from conversations.report_common import send_long
from storage.evidence import Evidence
from storage.evidence_state import IndicatorState, IndicatorStatus
from storage.models import Area
from storage.registrations import Registration, Status, registration_number
from storage.summary import HistoryEntry, RecognitionFact, ReviewFact

SHOW = Action("tinhtrang", "stt:show:{registration_id}", registration_id=int)
HISTORY = 8


MARKS = {
    IndicatorState.ACCEPTED: "✅",
    IndicatorState.NEEDS_MORE: "🔸",
    IndicatorState.WAITING: "⏳",
}


def render_evidence(
    states: list[IndicatorStatus], photos: list[Evidence], names: dict[str, str]
) -> list[str]:
    """Per indicator of the set (by its short name, from `names`): its photos and its state
    by the evidence rule."""
    counts: dict[str, int] = {}
    for photo in photos:
        counts[photo.indicator_code] = counts.get(photo.indicator_code, 0) + 1
    lines = [_("Evidence (* required):")]
    for status in states:
        mark = MARKS.get(status.state, "❌" if status.required else "⬜")
        star = f" {REQUIRED_MARK}" if status.required else ""
        n = counts.get(status.code, 0)
        count = ngettext("{n} photo", "{n} photos", n).format(n=n)
        name = names.get(status.code, status.code)
        lines.append(f"{mark} {name}{star}: {count} · {state_words(status.state)}")
    return lines


def render_reviews(
    reviews: list[ReviewFact],
    recognition: RecognitionFact | None,
    zone=None,
    names: dict[str, str] | None = None,
) -> list[str]:
    lines = [_("Review results:")]
    if not reviews:
        lines.append(_("no photo reviewed yet"))
    accepted = sum(1 for r in reviews if r.decision == "accepted")
    if reviews:
        lines.append(
            _("{accepted} of {reviewed} reviewed photos accepted").format(
                accepted=accepted, reviewed=len(reviews)
            )
        )
    for review in reviews:
        if review.decision == "needs_more":
            lines.append(
                _("{code}: needs more ({reason}), {who}, {date}").format(
                    code=(names or {}).get(review.indicator_code, review.indicator_code),
                    reason=review.reason or "—",
                    who=review.reviewer,
                    date=f"{review.reviewed_at.astimezone(zone):%d/%m/%Y}",
                )
            )
    if recognition is not None:
        decision = ""
        if recognition.decision_number:
            decision = _(", decision {number} of {date}").format(
                number=recognition.decision_number, date=local_day(recognition.decision_date)
            )
        lines.append(
            _("Recognition: {result}{decision}").format(
                result=status_name(Status(recognition.result)), decision=decision
            )
        )
    return lines


def render_flags(photos: list[Evidence], names: dict[str, str]) -> list[str]:
    lines = []
    for photo in photos:
        name = names.get(photo.indicator_code, photo.indicator_code)
        lines += [f"{name}: {flag_text(flag, names)}" for flag in photo.flags]
    return [_("Flags:"), *lines] if lines else []


def render_history(entries: list[HistoryEntry], zone, names: dict[str, str]) -> list[str]:
    lines = [_("History (newest first):")]
    if not entries:
        lines.append(_("nothing recorded yet"))
    lines += [history_sentence(entry, zone, names) for entry in entries]
    return lines


async def status_card(context: BotContext, registration: Registration, hamlet: Area) -> str:
    storage = context.storage
    stored = await storage.criteria.get(registration.criteria_set_id)
    criteria = stored.criteria_set if stored else None
    card = Card(
        registration=registration,
        lineage=await storage.areas.lineage(hamlet),
        criteria=criteria,
        assessment=await storage.registrations.assessment(registration.id),
        lock=await evaluation_lock(context, registration),
        changeable_by_role=False,
        open=False,
    )
    zone = context.settings.tzinfo
    text, _keyboard = render_card(card, registration.created_at.astimezone(zone).date())
    photos = await storage.evidence.of_registration(registration.id)
    states = await storage.evidence_states.of_registration(registration.id)
    reviews = await storage.facts.reviews(registration.id)
    recognition = await storage.facts.recognition(registration.id)
    history = await storage.facts.history(registration, HISTORY)
    names = names_by_code(criteria)
    parts = [
        text,
        "\n".join(render_evidence(states, photos, names)),
        "\n".join(render_reviews(reviews, recognition, zone, names)),
        "\n".join(render_flags(photos, names)),
        "\n".join(render_history(history, zone, names)),
    ]
    return "\n\n".join(part for part in parts if part)


async def show_status(update: Update, context: BotContext) -> None:
    text = " ".join(context.args or []).strip()
    if not text:
        await update.message.reply_text(
            _(
                "Send /tinhtrang with a registration number or part of a name, e.g. "
                "/tinhtrang GD-2026-00001"
            )
        )
        return
    storage = context.storage
    number = registration_number(text)
    if number:
        registration = await storage.registrations.by_number(number)
        missing = _("There is no registration {number}.").format(number=number)
        hamlet = await numbered_in_reach(
            update, context, registration, "registration.status", missing
        )
        if hamlet is not None:
            await send_long(update, await status_card(context, registration, hamlet))
        return
    years = await context.open_years()  # the next year's too, from December: as /danhsach
    found = await storage.registrations.search(context.area, years, text)
    if not found:
        await update.message.reply_text(
            _("No registration of {year} in your area matches {text}.").format(
                year=years_label(years), text=text
            )
        )
    elif len(found) == 1:
        hamlet = await hamlet_in_reach(
            update, context, found[0], "registration.status", {"registration_id": found[0].id}
        )
        if hamlet is not None:
            await send_long(update, await status_card(context, found[0], hamlet))
    else:
        rows = [[SHOW.button(f"{r.number} · {r.name}", registration_id=r.id)] for r in found]
        await update.message.reply_text(_("Which one?"), reply_markup=buttons(rows))


async def show_pressed(update: Update, context: BotContext) -> None:
    registration_id = context.pressed.registration_id
    registration = await context.storage.registrations.get(registration_id)
    hamlet = await hamlet_in_reach(
        update, context, registration, "registration.status", {"registration_id": registration_id}
    )
    if hamlet is None:
        return
    await update.callback_query.answer()
    await send_long(update, await status_card(context, registration, hamlet))


def handlers() -> list:
    return [
        CommandHandler("tinhtrang", show_status),
        SHOW.handler(show_pressed),
    ]
