"""/duyet (review): staff go through the unreviewed evidence photos of their area, one at a time.

The queue is every photo without a row in `evidence_reviews`, of registrations in the staff
member's area (admins: everywhere), flagged photos (reused, near copies, outside the year)
first. Each is re-sent by file_id with its indicator and registration and three buttons:
Accept (`rv:ok:<evidence id>`), Needs more (`rv:more:<id>`, then a reason picked with
`rv:why:<id>:<n>` or typed) and Skip (`rv:skip:<id>`). Skipped ids are kept in user_data for
this round of /duyet only. Every press loads the photo again and checks access to its
registration's hamlet: a forged or stale press for another area is refused and audited.

"Needs more" tells the photo's uploader, in their language, which registration, which
indicator and why, with a button (`ev:ind:<registration id>:<code>`, the /minhchung
indicator button) that opens /minhchung at that indicator. The new photo has no review, so it
is back in the queue by itself.
"""

from telegram import InputMediaDocument, InputMediaPhoto, Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as tg_filters

from bot.access import allowed, refuse
from bot.actions import Action, number
from bot.context import BotContext
from bot.i18n import _, format_moment, use_locale
from bot.i18n import __ as _l
from bot.labels import flag_text
from conversations.actions import EVIDENCE_INDICATOR
from conversations.common import buttons, still_allowed
from conversations.evidence import shorten
from conversations.indicators import names_by_code, short_name
from conversations.kit import cancel_handler, dialog
from conversations.states import ReviewStep as State
from storage.evidence import Evidence, MediaKind
from storage.models import Area
from storage.registrations import Registration
from storage.reviews import Decision
from storage.usecases.reviews import review

ACCEPT = Action("duyet", "rv:ok:{evidence_id}", evidence_id=int)
MORE = Action("duyet", "rv:more:{evidence_id}", evidence_id=int)
SKIP = Action("duyet", "rv:skip:{evidence_id}", evidence_id=int)
REASON = Action("duyet", "rv:why:{evidence_id}:{index}", evidence_id=int, index=number(2))
SKIPPED = "review_skipped"  # user_data: evidence ids skipped in this round of /duyet
ASKING = "review_reason_for"  # user_data: the evidence id whose reason is awaited
MAX_REASON = 300
CAPTION_LIMIT = 1024
REASONS = (
    _l("The photo is not clear"),
    _l("The photo does not match the indicator"),
    _l("Information is missing; more photos are needed"),
)


# --- rendering ---------------------------------------------------------------------------


def render_item(
    evidence: Evidence,
    registration: Registration,
    hamlet: Area,
    names: dict[str, str],
    indicator_text: str,
    uploader: str,
    waiting: int,
    tzinfo,
) -> tuple[str, object]:
    lines = [
        _("To review: {n} waiting").format(n=waiting),
        _("{number}: {name}, {hamlet}").format(
            number=registration.number, name=registration.name, hamlet=hamlet.name
        ),
        _("Indicator “{name}”: {text}").format(name=name_of(evidence, names), text=indicator_text),
        _("Sent by {name} at {moment}").format(
            name=uploader, moment=format_moment(evidence.message_date, tzinfo)
        ),
    ]
    if evidence.caption:
        lines.append(_("Caption: {caption}").format(caption=evidence.caption))
    lines.extend(flag_text(flag, names) for flag in evidence.flags)
    text = "\n".join(lines)
    if len(text) > CAPTION_LIMIT:
        text = text[: CAPTION_LIMIT - 1] + "…"
    keyboard = buttons(
        [
            [
                ACCEPT.button(_("✅ Accept"), evidence_id=evidence.id),
                MORE.button(_("📝 Needs more"), evidence_id=evidence.id),
            ],
            [SKIP.button(_("⏭ Skip"), evidence_id=evidence.id)],
        ]
    )
    return text, keyboard


def name_of(evidence: Evidence, names: dict[str, str]) -> str:
    """The photo's indicator as staff see it: its short name (the code only for an indicator
    its set no longer has)."""
    return names.get(evidence.indicator_code, evidence.indicator_code)


def render_reason_question(evidence: Evidence, number: str, name: str) -> tuple[str, object]:
    text = _(
        "Why does this photo for “{name}” ({number}) need more? Choose a reason or type your own."
    ).format(name=name, number=number)
    rows = [
        [REASON.button(str(reason), evidence_id=evidence.id, index=n)]
        for n, reason in enumerate(REASONS)
    ]
    return text, buttons(rows)


def render_needs_more(
    registration: Registration, code: str, name: str, indicator_text: str, reason: str
):
    """The message to the uploader, in the current locale (theirs); the indicator is named by
    its short `name` (uploaders are often hamlet heads, who never see codes)."""
    text = _(
        "Evidence needs more: {number} ({name}), indicator {code}: {text}\n"
        "Reason: {reason}\n"
        "Please send another photo for this indicator."
    ).format(
        number=registration.number,
        name=registration.name,
        code=name,
        text=indicator_text,
        reason=reason,
    )
    keyboard = buttons(
        [[(_("📷 Send photos for {code}").format(code=name), ind_data(registration, code))]]
    )
    return text, keyboard


def ind_data(registration: Registration, code: str) -> str:
    """The /minhchung button that opens this indicator (conversations.evidence)."""
    return EVIDENCE_INDICATOR.data(registration_id=registration.id, code=code)


# --- the queue ---------------------------------------------------------------------------


async def begin(update: Update, context: BotContext) -> int:
    context.user_data[SKIPPED] = []
    context.user_data.pop(ASKING, None)
    await send_next(update, context)
    return ConversationHandler.END


async def send_next(update: Update, context: BotContext) -> None:
    storage = context.storage
    skipped = list(context.user_data.get(SKIPPED, []))
    found = await storage.reviews.queue(context.area, skipped, limit=1)
    chat_id = update.effective_chat.id
    if not found:
        await context.bot.send_message(chat_id, _("Nothing left to review in your area."))
        return
    evidence = found[0]
    registration = await storage.registrations.get(evidence.registration_id)
    hamlet = await storage.areas.get(registration.hamlet_id)
    criteria = await criteria_of(context, registration)
    try:
        indicator_text = criteria.indicator(evidence.indicator_code).text.get(context.person.locale)
    except KeyError:
        indicator_text = "?"
    uploader = await storage.people.get(evidence.uploaded_by)
    waiting = await storage.reviews.waiting(context.area) - len(skipped)
    text, keyboard = render_item(
        evidence,
        registration,
        hamlet,
        names_by_code(criteria),
        shorten(indicator_text, 200),
        uploader.full_name if uploader else "?",
        max(waiting, 1),
        context.settings.tzinfo,
    )
    resembled = await resembled_photo(storage, evidence)
    if resembled is not None:
        await send_side_by_side(context, chat_id, evidence, resembled)
        await context.bot.send_message(chat_id, text, reply_markup=keyboard)
    elif evidence.media_kind is MediaKind.PHOTO:
        await context.bot.send_photo(chat_id, evidence.file_id, caption=text, reply_markup=keyboard)
    else:
        await context.bot.send_document(
            chat_id, evidence.file_id, caption=text, reply_markup=keyboard
        )


async def criteria_of(context: BotContext, registration: Registration):
    stored = await context.storage.criteria.get(registration.criteria_set_id)
    return stored.criteria_set if stored else None


async def indicator_name(context: BotContext, evidence: Evidence, registration) -> str:
    names = names_by_code(await criteria_of(context, registration)) if registration else {}
    return name_of(evidence, names)


async def resembled_photo(storage, evidence: Evidence) -> Evidence | None:
    """The stored photo a flagged photo is the same as or a copy of, if it still exists."""
    for flag in evidence.flags:
        if flag.evidence_id is not None and flag.evidence_id != evidence.id:
            found = await storage.evidence.get(flag.evidence_id)
            if found is not None:
                return found
    return None


async def pair_caption(context: BotContext, evidence: Evidence, heading: str) -> str:
    storage = context.storage
    registration = await storage.registrations.get(evidence.registration_id)
    sender = await storage.people.get(evidence.uploaded_by)
    return _("{heading}: {number}, indicator “{indicator}”, sent by {name}").format(
        heading=heading,
        number=registration.number if registration else "?",
        indicator=await indicator_name(context, evidence, registration),
        name=sender.full_name if sender else "?",
    )


async def send_side_by_side(
    context: BotContext, chat_id: int, evidence: Evidence, resembled: Evidence
) -> None:
    """The flagged photo and the photo it resembles, as an album of two, each captioned with
    its registration, indicator and sender (photos and files cannot share an album)."""
    pair = [
        (evidence, await pair_caption(context, evidence, _("To review"))),
        (resembled, await pair_caption(context, resembled, _("Resembles"))),
    ]
    if evidence.media_kind is resembled.media_kind:
        kind = InputMediaPhoto if evidence.media_kind is MediaKind.PHOTO else InputMediaDocument
        await context.bot.send_media_group(
            chat_id, [kind(item.file_id, caption=caption) for item, caption in pair]
        )
        return
    for item, caption in pair:
        send = (
            context.bot.send_photo
            if item.media_kind is MediaKind.PHOTO
            else context.bot.send_document
        )
        await send(chat_id, item.file_id, caption=caption)


async def in_reach(
    update: Update, context: BotContext, evidence_id: int, action: str
) -> tuple[Evidence, Registration, Area] | None:
    """The photo, its registration and hamlet, if the photo exists and is within reach."""
    storage = context.storage
    evidence = await storage.evidence.get(evidence_id)
    registration = await storage.registrations.get(evidence.registration_id) if evidence else None
    if registration is None:
        await update.callback_query.answer(_("This photo has been deleted."), show_alert=True)
        return None
    hamlet = await storage.areas.get(registration.hamlet_id)
    if hamlet is None or not allowed(context, hamlet):
        subject = {"evidence_id": evidence_id, "registration_id": registration.id}
        await refuse(update, context, action, subject)
        return None
    return evidence, registration, hamlet


def evidence_id_of(context: BotContext) -> int:
    return context.pressed.evidence_id


async def close_item(update: Update, note: str | None) -> None:
    """Answer the press and take the buttons off the photo."""
    query = update.callback_query
    await query.answer(note)
    await query.edit_message_reply_markup(None)


async def accept_pressed(update: Update, context: BotContext) -> int | None:
    found = await in_reach(update, context, evidence_id_of(context), "evidence.review")
    if found is None:
        return None
    context.user_data.pop(ASKING, None)
    await decide(update, context, *found, Decision.ACCEPTED, None)
    return ConversationHandler.END


async def skip_pressed(update: Update, context: BotContext) -> int | None:
    evidence_id = evidence_id_of(context)
    if await in_reach(update, context, evidence_id, "evidence.review") is None:
        return None
    skipped = context.user_data.setdefault(SKIPPED, [])
    if evidence_id not in skipped:
        skipped.append(evidence_id)
    context.user_data.pop(ASKING, None)
    await close_item(update, _("Skipped."))
    await send_next(update, context)
    return ConversationHandler.END


async def more_pressed(update: Update, context: BotContext) -> str | None:
    found = await in_reach(update, context, evidence_id_of(context), "evidence.review")
    if found is None:
        return None
    evidence, registration, _hamlet = found
    context.user_data[ASKING] = evidence.id
    await close_item(update, None)
    name = await indicator_name(context, evidence, registration)
    text, keyboard = render_reason_question(evidence, registration.number, name)
    await update.effective_message.reply_text(text, reply_markup=keyboard)
    return State.REASON


async def reason_pressed(update: Update, context: BotContext) -> int | None:
    evidence_id, index = context.pressed
    found = await in_reach(update, context, evidence_id, "evidence.review")
    if found is None:
        return None
    if not 0 <= index < len(REASONS):
        await update.callback_query.answer(
            _("This button is no longer valid. Please start again from the command."),
            show_alert=True,
        )
        return None
    context.user_data.pop(ASKING, None)
    await decide(update, context, *found, Decision.NEEDS_MORE, index)
    return ConversationHandler.END


async def reason_typed(update: Update, context: BotContext) -> int | None:
    evidence_id = await still_allowed(update, context, "duyet", ASKING)
    if evidence_id is None:
        return ConversationHandler.END
    reason = " ".join(update.message.text.split())
    if not reason or len(reason) > MAX_REASON:
        await update.message.reply_text(
            _("Please type the reason in at most {n} characters.").format(n=MAX_REASON)
        )
        return None
    storage = context.storage
    evidence = await storage.evidence.get(evidence_id)
    registration = await storage.registrations.get(evidence.registration_id) if evidence else None
    hamlet = await storage.areas.get(registration.hamlet_id) if registration else None
    context.user_data.pop(ASKING, None)
    if hamlet is None:
        await update.message.reply_text(_("This photo has been deleted."))
        return ConversationHandler.END
    if not allowed(context, hamlet):
        await refuse(update, context, "evidence.review", {"evidence_id": evidence_id})
        return ConversationHandler.END
    await decide(update, context, evidence, registration, hamlet, Decision.NEEDS_MORE, reason)
    return ConversationHandler.END


async def decide(
    update: Update,
    context: BotContext,
    evidence: Evidence,
    registration: Registration,
    hamlet: Area,
    decision: Decision,
    reason: str | int | None,
) -> None:
    """Store and audit the decision, tell the uploader if more is needed, show the next photo.

    `reason` is typed text, or the index of one of REASONS (stored in the reviewer's language,
    sent to the uploader in theirs).
    """
    stored_reason = str(REASONS[reason]) if isinstance(reason, int) else reason
    reviewed = await review(
        context.storage,
        context.person,
        evidence,
        registration,
        decision,
        stored_reason,
        context.application.now(),
    )
    if not reviewed.changed:  # decided so already: nothing to store, audit or tell again
        if update.callback_query:
            await update.callback_query.answer(_("Already saved."))
        else:
            await update.effective_message.reply_text(_("Already saved."))
        return
    if update.callback_query:
        await close_item(update, None)
    if decision is Decision.ACCEPTED:
        note = _("✅ Accepted: “{name}” of {number}.")
    else:
        told = await tell_uploader(context, evidence, registration, reason)
        note = _("📝 Needs more: “{name}” of {number}. Reason: {reason}.") + "\n"
        note += _("The sender was told.") if told else _("The sender could not be told.")
    name = await indicator_name(context, evidence, registration)
    text = note.format(name=name, number=registration.number, reason=stored_reason)
    await update.effective_message.reply_text(text)
    await send_next(update, context)


async def tell_uploader(
    context: BotContext, evidence: Evidence, registration: Registration, reason: str | int
) -> bool:
    """Send the uploader the "needs more" message in their language; False if it failed."""
    person = await context.storage.people.get(evidence.uploaded_by)
    if person is None or not person.active:
        return False
    criteria = (await context.storage.criteria.get(registration.criteria_set_id)).criteria_set
    with use_locale(person.locale):
        try:
            indicator = criteria.indicator(evidence.indicator_code)
            name, indicator_text = short_name(indicator), indicator.text.get(person.locale)
        except KeyError:
            name, indicator_text = evidence.indicator_code, ""
        reason_text = str(REASONS[reason]) if isinstance(reason, int) else reason
        text, keyboard = render_needs_more(
            registration, evidence.indicator_code, name, indicator_text, reason_text
        )
    try:
        await context.bot.send_message(person.telegram_id, text, reply_markup=keyboard)
    except TelegramError:
        return False
    return True


async def reason_not_text(update: Update, context: BotContext) -> None:
    """A photo or sticker where the reason is asked: the question stays open."""
    await update.message.reply_text(
        _("Please type the reason in words, or pick one of the reasons above.")
    )


def handlers() -> list:
    # Every button is an entry point: a photo shown earlier can still be decided.
    entry = [
        CommandHandler("duyet", begin),
        ACCEPT.handler(accept_pressed),
        MORE.handler(more_pressed),
        SKIP.handler(skip_pressed),
        REASON.handler(reason_pressed),
    ]
    return [
        dialog(
            "review",
            entry_points=entry,
            states={
                State.REASON: [
                    MessageHandler(tg_filters.TEXT & ~tg_filters.COMMAND, reason_typed),
                    MessageHandler(
                        tg_filters.UpdateType.MESSAGE & ~tg_filters.COMMAND, reason_not_text
                    ),
                ]
            },
            cancel=cancel_handler(_l("Stopped reviewing. Send /duyet to go on."), [ASKING]),
        )
    ]
