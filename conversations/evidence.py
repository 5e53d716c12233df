"""/minhchung (evidence): find a registration, pick an indicator, send its photos.

The registration and indicator being worked on live in SQLite (`evidence_sessions`), so a
restart loses nothing. Buttons carry only ids (`ev:ind:<registration id>:<code>`), and every
press, command and photo checks again that the person may reach the registration's hamlet.
An album arrives as one message per photo: each is stored as it comes, and ONE reply is
sent ALBUM_QUIET seconds after its last part (a JobQueue job per media_group_id).
"""

from dataclasses import dataclass, field

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import hamlet_in_reach, numbered_in_reach, refuse
from bot.actions import Action
from bot.context import BotContext
from bot.i18n import _, ngettext, use_locale
from bot.i18n import __ as _l
from bot.labels import flag_text
from conversations.actions import EVIDENCE_INDICATOR, EVIDENCE_PAGE, INDICATOR_CODE
from conversations.common import buttons, page_rows
from conversations.evidence_intake import IntakeResult, Outcome, intake, received_from
from conversations.indicators import marked_name, required_legend, short_name
from conversations.kit import cancel_handler, dialog
from conversations.outside import outside_dialog
from conversations.screen import close_screen, edit_screen
from conversations.states import EvidenceStep as State
from storage.criteria import CriteriaSet, Indicator
from storage.evidence import MediaFolder
from storage.images import MAX_PIXELS
from storage.models import Area
from storage.registrations import Registration, registration_number
from storage.text import nfc, search_key

PAGE = 10
OPEN = Action("minhchung", "ev:open:{registration_id}", registration_id=int)
LIST_PAGE, INDICATOR = EVIDENCE_PAGE, EVIDENCE_INDICATOR
DONE = Action(
    "minhchung", "ev:done:{registration_id}:{code}", registration_id=int, code=INDICATOR_CODE
)
ALBUM_QUIET = 1.0  # seconds after an album's last photo before the one reply
DONE_WORDS = frozenset({"xong", "xong roi", "ok", "oke", "okay", "done"})  # as search_key()s
SHORT_TEXT = 60
SCREEN = "evidence_screen"  # user_data: the message id of the dialog's screen
EARLY_ALBUM = "evidence_early_album"  # user_data: the album answered as sent too early


# --- rendering ---------------------------------------------------------------------------


def photos(n: int) -> str:
    return ngettext("{n} photo", "{n} photos", n).format(n=n)


def shorten(text: str, limit: int = SHORT_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_checklist(
    registration: Registration,
    hamlet: Area,
    criteria: CriteriaSet,
    counts: dict[str, int],
    locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """Every indicator by name with ✅ or ⬜ and its photo count, required ones marked, and how
    many of the required ones have a photo."""
    indicators = criteria.all_indicators()
    lines = [
        _("Evidence of {number}: {name}, {hamlet}").format(
            number=registration.number, name=registration.name, hamlet=hamlet.name
        )
    ]
    choices = []
    for indicator in indicators:
        n = counts.get(indicator.code, 0)
        mark = "✅" if n else "⬜"
        lines.append(f"{mark} {marked_name(indicator)} ({photos(n)})")
        choices.append(
            INDICATOR.button(
                f"{mark} {marked_name(indicator)}",
                registration_id=registration.id,
                code=indicator.code,
            )
        )
    required = [i for i in indicators if i.evidence_required]
    covered = sum(1 for i in required if counts.get(i.code))
    lines.append(
        _("{covered}/{total} required indicators have photos").format(
            covered=covered, total=len(required)
        )
    )
    lines.append(required_legend())
    lines.append(_("Choose an indicator to send its photos."))
    rows = [choices[i : i + 2] for i in range(0, len(choices), 2)]
    return "\n".join(lines), buttons(rows)


def done_button(registration: Registration, code: str) -> InlineKeyboardMarkup:
    return buttons([[DONE.button(_("✅ Done"), registration_id=registration.id, code=code)]])


def render_indicator(
    registration: Registration, indicator: Indicator, count: int, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    hint = indicator.evidence_hint.get(locale) if indicator.evidence_hint else None
    text = _("{number} · {name}\n{text}").format(
        number=registration.number, name=marked_name(indicator), text=indicator.text.get(locale)
    )
    if hint:
        text += "\n" + _("What to send: {hint}").format(hint=hint)
    text += "\n" + _("Already stored: {photos}.").format(photos=photos(count))
    text += "\n" + _(
        "Send one or more photos (an album is fine, or images sent as files: JPEG, PNG, WEBP, "
        "HEIC, up to 20 MB), with a caption if you like. Press Done when you have finished."
    )
    return text, done_button(registration, indicator.code)


def render_outcomes(code: str, outcomes: list[Outcome], names: dict[str, str] | None = None) -> str:
    """The one reply to a photo or an album: what was stored, refused or is still coming.
    `code` is the indicator as people see it (its short name); `names` as in `flag_text`."""
    stored = [o for o in outcomes if o.result is IntakeResult.STORED]
    lines = []
    if stored:
        lines.append(_("Stored {photos} for {code}.").format(photos=photos(len(stored)), code=code))
    pending = sum(1 for o in outcomes if o.result is IntakeResult.PENDING)
    if pending:
        lines.append(
            _(
                "{photos} could not be fetched from Telegram just now. They are kept and will "
                "be fetched automatically; there is no need to send them again."
            ).format(photos=photos(pending))
        )
    duplicates = sum(1 for o in outcomes if o.result is IntakeResult.DUPLICATE)
    if duplicates:
        lines.append(
            _("{photos} already sent for {code}, so not stored again.").format(
                photos=photos(duplicates), code=code
            )
        )
    explained = (
        (IntakeResult.NOT_IMAGE, not_an_image),
        (IntakeResult.TOO_BIG, too_big),
        (IntakeResult.TOO_LARGE, too_large),
    )
    for result, explain in explained:
        if any(o.result is result for o in outcomes):
            lines.append(explain())
    not_saved = sum(1 for o in outcomes if o.result is IntakeResult.NOT_SAVED)
    if not_saved:
        lines.append(
            _(
                "{photos} could not be saved: the server could not store them (its storage "
                "may be full). They were NOT kept; please send them again later."
            ).format(photos=photos(not_saved))
        )
    for outcome in outcomes:
        lines.extend(flag_text(flag, names) for flag in outcome.flags)
    lines.append(_("Send more photos, or press Done."))
    return "\n".join(lines)


def not_an_image() -> str:
    return _(
        "This file is not a photo. Please send photos, or images as files (JPEG, PNG, WEBP or "
        "HEIC)."
    )


def too_big() -> str:
    return _("This file is larger than 20 MB. Please send a smaller photo.")


def too_large() -> str:
    return _(
        "This image is too large to check (more than {megapixels} megapixels). Please send it "
        "as a photo (not as a file), or a smaller copy."
    ).format(megapixels=MAX_PIXELS // 1_000_000)


def wrong_content(message: Message) -> str:
    """Why something that is not a photo cannot be taken at the photo step."""
    if message.sticker:
        what = _("A sticker cannot be evidence.")
    elif message.voice or message.audio:
        what = _("A voice message cannot be evidence.")
    elif message.video or message.video_note or message.animation:
        what = _("A video cannot be evidence.")
    elif message.text:
        what = _("I am waiting for photos, not text.")
    else:
        what = _("This cannot be evidence.")
    return what + "\n" + _("Please send photos, then press Done (or send /huy to stop).")


def render_list(
    found: list[tuple[Registration, int]], total: int, offset: int, prompt: bool
) -> tuple[str, InlineKeyboardMarkup]:
    lines = []
    if prompt:
        lines.append(
            _(
                "Which registration? Send its number (e.g. GD-2026-00001) or part of the name, "
                "or choose one below."
            )
        )
    if not found:
        lines.append(_("There are no registrations in your area this year."))
        return "\n".join(lines), buttons([])
    lines.append(
        _("Registrations {first}-{last} of {total}, fewest indicators with evidence first:").format(
            first=offset + 1, last=offset + len(found), total=total
        )
    )
    rows = [
        [OPEN.button(f"{r.number} · {shorten(r.name, 30)} · {covered}", registration_id=r.id)]
        for r, covered in found
    ]
    rows += page_rows(offset, total, PAGE, lambda start: LIST_PAGE.data(offset=start))
    return "\n".join(lines), buttons(rows)


# --- finding the registration ------------------------------------------------------------


async def begin(update: Update, context: BotContext) -> str | None:
    if context.args:
        return await open_by_text(update, context, " ".join(context.args))
    text, keyboard = await list_page(context, 0, prompt=True)
    await show(update, context, text, keyboard)
    return State.FIND


async def list_page(context: BotContext, offset: int, prompt: bool):
    found, total = await context.storage.evidence.by_coverage(
        context.area, await context.open_years(), offset, PAGE
    )
    return render_list(found, total, offset, prompt)


async def page_pressed(update: Update, context: BotContext) -> None:
    offset = context.pressed.offset
    text, keyboard = await list_page(context, offset, prompt=False)
    await update.callback_query.answer()
    await edit_screen(update.callback_query.message, text, keyboard)
    context.user_data[SCREEN] = update.callback_query.message.message_id


async def typed(update: Update, context: BotContext) -> str | None:
    return await open_by_text(update, context, update.message.text)


async def open_by_text(update: Update, context: BotContext, text: str) -> str | None:
    text = nfc(text)
    number = registration_number(text)
    if number:
        registration = await context.storage.registrations.by_number(number)
        missing = _("There is no registration numbered {number}.").format(number=number)
        if await numbered_in_reach(update, context, registration, "evidence", missing) is None:
            return State.FIND
        return await open_registration(update, context, registration)
    if not search_key(text):
        return State.FIND
    found = await context.storage.registrations.search(
        context.area, await context.open_years(), text, PAGE
    )
    if len(found) == 1:
        return await open_registration(update, context, found[0])
    if not found:
        await update.message.reply_text(
            _(
                "Nothing in your area matches “{text}”. Send a number such as GD-2026-00001 "
                "or part of a name."
            ).format(text=text)
        )
        return State.FIND
    counts = [len(await context.storage.evidence.counts(r.id)) for r in found]
    body, keyboard = render_list(list(zip(found, counts, strict=True)), len(found), 0, False)
    await update.message.reply_text(body, reply_markup=keyboard)
    return State.FIND


async def open_pressed(update: Update, context: BotContext) -> str | None:
    registration_id = context.pressed.registration_id
    registration = await context.storage.registrations.get(registration_id)
    if registration is None:
        await refuse(update, context, "evidence.open", {"registration_id": registration_id})
        return None
    return await open_registration(update, context, registration)


async def open_registration(
    update: Update, context: BotContext, registration: Registration
) -> str | None:
    hamlet = await hamlet_in_reach(
        update, context, registration, "evidence", {"registration_id": registration.id}
    )
    if hamlet is None:
        return None
    await context.storage.evidence.start_session(context.person.id, registration.id, None)
    await send_checklist(update, context, registration, hamlet)
    return State.CHECKLIST


async def criteria_of(context: BotContext, registration: Registration) -> CriteriaSet:
    return (await context.storage.criteria.get(registration.criteria_set_id)).criteria_set


async def indicator_name(context: BotContext, registration: Registration, code: str) -> str:
    try:
        return short_name((await criteria_of(context, registration)).indicator(code))
    except KeyError:
        return code


async def flag_names(
    context: BotContext, registration: Registration, outcomes: list[Outcome]
) -> dict[str, str]:
    """The short names of the indicators that the outcomes' flags point to."""
    codes = {f.indicator_code for o in outcomes for f in o.flags if f.indicator_code}
    return {code: await indicator_name(context, registration, code) for code in codes}


async def send_checklist(
    update: Update,
    context: BotContext,
    registration: Registration,
    hamlet: Area,
    heading: str | None = None,
) -> None:
    counts = await context.storage.evidence.counts(registration.id)
    text, keyboard = render_checklist(
        registration,
        hamlet,
        await criteria_of(context, registration),
        counts,
        context.person.locale,
    )
    text = f"{heading}\n\n{text}" if heading else text
    await show(update, context, text, keyboard)


async def show(
    update: Update, context: BotContext, text: str, keyboard: InlineKeyboardMarkup
) -> None:
    """A press on the screen (or on Done) edits its message; a command, text, photo or a press
    on another message (a reviewer's note) sends the screen anew and takes the buttons off the
    earlier screen."""
    query = update.callback_query
    if query and (
        query.message.message_id == context.user_data.get(SCREEN) or context.action is DONE
    ):
        await update.callback_query.answer()
        await edit_screen(update.callback_query.message, text, keyboard)
        context.user_data[SCREEN] = update.callback_query.message.message_id
        return
    earlier = context.user_data.get(SCREEN)
    if earlier:
        await close_screen(context.bot, update.effective_chat.id, earlier, None)
    sent = await update.effective_message.reply_text(text, reply_markup=keyboard)
    context.user_data[SCREEN] = sent.message_id


# --- an indicator and its photos ---------------------------------------------------------


async def indicator_pressed(update: Update, context: BotContext) -> str | None:
    query = update.callback_query
    registration_id, code = context.pressed
    registration = await context.storage.registrations.get(registration_id)
    subject = {"registration_id": registration_id, "indicator": code}
    if await hamlet_in_reach(update, context, registration, "evidence", subject) is None:
        return None
    criteria = await criteria_of(context, registration)
    try:
        indicator = criteria.indicator(code)
    except KeyError:
        await query.answer(
            _("This button is no longer valid. Please start again from the command.")
        )
        return None
    await flush_albums(context, update.effective_chat.id)
    await context.storage.evidence.start_session(context.person.id, registration.id, code)
    count = (await context.storage.evidence.counts(registration.id)).get(code, 0)
    text, keyboard = render_indicator(registration, indicator, count, context.person.locale)
    await show(update, context, text, keyboard)
    return State.PHOTOS


@dataclass
class Album:
    """The outcomes of an album's photos so far, for its one reply."""

    chat_id: int
    locale: str
    registration: Registration
    code: str
    name: str  # the indicator's short name, as the reply shows it
    outcomes: list[Outcome] = field(default_factory=list)


# media_group_id -> Album; in memory: the photos themselves are already stored as they come.
ALBUMS: dict[str, Album] = {}


def album_job_name(group_id: str) -> str:
    return f"evidence-album:{group_id}"


async def photo_received(update: Update, context: BotContext) -> str | None:
    message = update.message
    session = await context.storage.evidence.session_of(context.person.id)
    if session is None or session.indicator_code is None:
        await message.reply_text(_("Please choose an indicator first."))
        return None
    registration = await context.storage.registrations.get(session.registration_id)
    subject = {"registration_id": session.registration_id, "message": "photo"}
    if await hamlet_in_reach(update, context, registration, "evidence", subject) is None:
        return ConversationHandler.END
    code = session.indicator_code
    name = await indicator_name(context, registration, code)
    received = received_from(message, registration.id, code, context.person.id)
    if isinstance(received, IntakeResult):
        outcome = Outcome(received)
    else:
        media = MediaFolder(context.settings.media_dir)
        outcome = await intake(
            context.bot, context.storage, media, context.person, registration, received
        )
        if outcome.result is IntakeResult.STORED:
            await context.storage.evidence.count_stored(context.person.id)
    if message.media_group_id is None:
        names = await flag_names(context, registration, [outcome])
        text = render_outcomes(name, [outcome], names)
        await send_screen(context, message.chat_id, text, done_button(registration, code))
        return None
    group_id = message.media_group_id
    album = ALBUMS.setdefault(
        group_id, Album(message.chat_id, context.person.locale, registration, code, name)
    )
    album.outcomes.append(outcome)
    name = album_job_name(group_id)
    for job in context.job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    context.job_queue.run_once(
        album_done,
        ALBUM_QUIET,
        data=group_id,
        name=name,
        chat_id=message.chat_id,
        user_id=message.from_user.id,  # the job's context.user_data: the person's screen
    )
    return None


async def photo_resumed(update: Update, context: BotContext) -> None:
    """A photo outside this dialog, which another command left (conversations/one_dialog.py):
    it goes to the indicator still chosen, as before the interruption (its receipt's Done goes
    on); without one, it gets the answer to a message outside any dialog."""
    session = await context.storage.evidence.session_of(context.person.id)
    if session is None or session.indicator_code is None:
        await outside_dialog(update, context)
        return
    await photo_received(update, context)


async def album_done(context: BotContext) -> None:
    """The one reply to an album, once its photos stopped coming."""
    album = ALBUMS.pop(context.job.data, None)
    if album is not None:
        await reply_album(context, album)


async def reply_album(context: BotContext, album: Album) -> None:
    names = await flag_names(context, album.registration, album.outcomes)
    with use_locale(album.locale):
        text = render_outcomes(album.name, album.outcomes, names)
        keyboard = done_button(album.registration, album.code)
    await send_screen(context, album.chat_id, text, keyboard)


async def send_screen(
    context: BotContext, chat_id: int, text: str, keyboard: InlineKeyboardMarkup
) -> None:
    """A receipt with its Done button becomes the screen: the earlier one loses its buttons."""
    earlier = context.user_data.get(SCREEN)
    if earlier:
        await close_screen(context.bot, chat_id, earlier, None)
    sent = await context.bot.send_message(chat_id, text, reply_markup=keyboard)
    context.user_data[SCREEN] = sent.message_id


async def flush_albums(context: BotContext, chat_id: int) -> None:
    """Reply now to albums of this chat still waiting for their reply (Done was pressed)."""
    for group_id, album in list(ALBUMS.items()):
        if album.chat_id != chat_id:
            continue
        for job in context.job_queue.get_jobs_by_name(album_job_name(group_id)):
            job.schedule_removal()
        if ALBUMS.pop(group_id, None) is not None:
            await reply_album(context, album)


async def done_pressed(update: Update, context: BotContext) -> str | None:
    registration_id, code = context.pressed
    registration = await context.storage.registrations.get(registration_id)
    subject = {"registration_id": registration_id, "indicator": code}
    if await hamlet_in_reach(update, context, registration, "evidence", subject) is None:
        return None
    return await finish(update, context, registration, code)


async def text_at_photos(update: Update, context: BotContext) -> str | None:
    if search_key(update.message.text).rstrip(" .!") not in DONE_WORDS:
        await update.message.reply_text(wrong_content(update.message))
        return None
    session = await context.storage.evidence.session_of(context.person.id)
    if session is None or session.indicator_code is None:
        return None
    registration = await context.storage.registrations.get(session.registration_id)
    subject = {"registration_id": session.registration_id}
    if await hamlet_in_reach(update, context, registration, "evidence", subject) is None:
        return ConversationHandler.END
    return await finish(update, context, registration, session.indicator_code)


async def finish(update: Update, context: BotContext, registration: Registration, code: str) -> str:
    """The receipt: how many photos were stored in this round, and the updated checklist."""
    await flush_albums(context, update.effective_chat.id)
    session = await context.storage.evidence.session_of(context.person.id)
    stored = session.stored if session and session.registration_id == registration.id else 0
    await context.storage.evidence.start_session(context.person.id, registration.id, None)
    hamlet = await context.storage.areas.get(registration.hamlet_id)
    heading = _("Receipt: {photos} stored for {code} of {number}.").format(
        photos=photos(stored),
        code=await indicator_name(context, registration, code),
        number=registration.number,
    )
    await send_checklist(update, context, registration, hamlet, heading)
    return State.CHECKLIST


async def other_content(update: Update, context: BotContext) -> None:
    await update.message.reply_text(wrong_content(update.message))


async def photo_before_registration(update: Update, context: BotContext) -> None:
    text = _("Not saved: please choose a registration above first, then send the photos again.")
    await not_kept(update, context, text)


async def photo_too_early(update: Update, context: BotContext) -> None:
    text = _("Not saved: please choose an indicator above first, then send the photos again.")
    await not_kept(update, context, text)


async def not_kept(update: Update, context: BotContext, text: str) -> None:
    """Photos sent before a registration and an indicator are chosen: one answer an album."""
    group = update.message.media_group_id
    if group is not None and context.user_data.get(EARLY_ALBUM) == group:
        return
    context.user_data[EARLY_ALBUM] = group
    await update.message.reply_text(text)


async def stop(update: Update, context: BotContext) -> None:
    """Before /huy ends the dialog: the album under way is stored, the session closed, the
    screen's buttons taken away."""
    await flush_albums(context, update.effective_chat.id)
    await context.storage.evidence.end_session(context.person.id)
    screen = context.user_data.pop(SCREEN, None)
    if screen:
        await close_screen(context.bot, update.effective_chat.id, screen, None)


def handlers() -> list:
    text = filters.TEXT & ~filters.COMMAND
    media = filters.PHOTO | filters.Document.ALL
    return [
        dialog(
            "evidence",
            # Buttons, also of an earlier round, in every state (the kit's dialogs check their
            # entry points first); each press is checked like any other.
            entry_points=[
                CommandHandler("minhchung", begin),
                OPEN.handler(open_pressed),
                LIST_PAGE.handler(page_pressed),
                INDICATOR.handler(indicator_pressed),
                DONE.handler(done_pressed),
            ],
            states={
                State.FIND: [
                    MessageHandler(text, typed),
                    MessageHandler(media, photo_before_registration),
                ],
                State.CHECKLIST: [
                    MessageHandler(text, typed),
                    MessageHandler(media, photo_too_early),
                ],
                State.PHOTOS: [
                    MessageHandler(media, photo_received),
                    MessageHandler(text, text_at_photos),
                    MessageHandler(~filters.COMMAND, other_content),
                ],
            },
            cancel=cancel_handler(_l("Stopped. The photos already sent are kept."), before=stop),
        ),
    ]


def resumed_photo_handler() -> MessageHandler:
    """`photo_resumed`, registered after every dialog (bot/app.py), so that a dialog waiting
    for something else (a reviewer's reason) answers a photo first."""
    return MessageHandler(filters.PHOTO | filters.Document.ALL, photo_resumed)
