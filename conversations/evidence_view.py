"""/xemminhchung <number>: a registration's evidence, re-sent by file_id, and deleting a photo.

Photos go out as albums of up to 10 per indicator (sendMediaGroup), captioned with the
indicator and who sent them; a list follows, with a delete button on each photo the person
may delete (their own; staff and admins any). Deleting asks first, is audited
(`evidence.deleted`, with the row before) and moves the file to MEDIA_DIR/trash/.
"""

import asyncio
import logging
from itertools import groupby

from telegram import InputMediaDocument, InputMediaPhoto, Update
from telegram.error import BadRequest
from telegram.ext import CommandHandler

from bot.access import hamlet_in_reach, numbered_in_reach, refuse
from bot.actions import Action, yes_no
from bot.context import BotContext
from bot.i18n import _, format_moment
from bot.labels import flag_text
from conversations.common import buttons, close_question
from conversations.evidence import criteria_of, indicator_name, photos
from conversations.indicators import short_name
from conversations.report_common import split_message
from storage.evidence import Evidence, EvidenceStatus, MediaFolder, MediaKind
from storage.models import Person
from storage.registrations import Registration, registration_number
from storage.usecases.evidence import delete_evidence, may_delete

log = logging.getLogger(__name__)

ALBUM_SIZE = 10
CAPTION_LIMIT = 1024
DELETE_BUTTONS_PER_ROW = 4
DELETE = Action("xemminhchung", "evx:del:{evidence_id}", evidence_id=int)
DELETE_SURE = Action("xemminhchung", "evx:delok:{evidence_id}", evidence_id=int)
KEEP = Action("xemminhchung", "evx:delno:{evidence_id}", evidence_id=int)


def caption(evidence: Evidence, uploader: str, index: int, indicator: str) -> str:
    """The photo's caption, within Telegram's 1,024 characters however long the sender's was;
    `indicator` is the indicator's short name (people see words, not codes)."""
    text = _("#{index} · {code} · sent by {name}").format(
        index=index, code=indicator, name=uploader
    )
    return shorten_text(f"{text}\n{evidence.caption}" if evidence.caption else text, CAPTION_LIMIT)


def shorten_text(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_summary(
    registration: Registration,
    items: list[Evidence],
    names: dict[int, str],
    person: Person,
    tzinfo,
    indicators: dict[str, str],
) -> tuple[str, object]:
    lines = [
        _("Evidence of {number} ({name}): {photos}.").format(
            number=registration.number, name=registration.name, photos=photos(len(items))
        )
    ]
    deletable = []
    for index, evidence in enumerate(items, start=1):
        line = _("#{index} {code} · {name} · {moment}").format(
            index=index,
            code=indicators.get(evidence.indicator_code, evidence.indicator_code),
            name=names.get(evidence.uploaded_by, "?"),
            moment=format_moment(evidence.message_date, tzinfo),
        )
        if evidence.status is EvidenceStatus.PENDING_DOWNLOAD:
            line += " · " + _("not yet downloaded")
        lines.append(line)
        lines.extend("   " + flag_text(flag, indicators) for flag in evidence.flags)
        if may_delete(person, evidence):
            deletable.append(DELETE.button(f"🗑 #{index}", evidence_id=evidence.id))
    rows = [
        deletable[i : i + DELETE_BUTTONS_PER_ROW]
        for i in range(0, len(deletable), DELETE_BUTTONS_PER_ROW)
    ]
    return "\n".join(lines), buttons(rows)


async def show(update: Update, context: BotContext) -> None:
    if not context.args:
        await update.message.reply_text(
            _("Send /xemminhchung with a registration number, e.g. /xemminhchung GD-2026-00001.")
        )
        return
    typed = " ".join(context.args)
    number = registration_number(typed) or typed.upper()
    registration = await context.storage.registrations.by_number(number)
    missing = _("There is no registration numbered {number}.").format(number=number)
    if not await numbered_in_reach(update, context, registration, "evidence.view", missing):
        return
    items = await context.storage.evidence.of_registration(registration.id)
    if not items:
        await update.message.reply_text(
            _("{number} has no evidence yet. Send it with /minhchung {number}.").format(
                number=registration.number
            )
        )
        return
    names = {}
    for person_id in {e.uploaded_by for e in items}:
        person = await context.storage.people.get(person_id)
        names[person_id] = person.full_name if person else "?"
    criteria = await criteria_of(context, registration)
    indicators = {i.code: short_name(i) for i in criteria.all_indicators()}
    chat_id = update.effective_chat.id
    numbered = list(enumerate(items, start=1))
    for _key, group in groupby(numbered, key=lambda p: (p[1].indicator_code, p[1].media_kind)):
        group = list(group)
        for start in range(0, len(group), ALBUM_SIZE):
            chunk = group[start : start + ALBUM_SIZE]
            await send_album(context, chat_id, chunk, names, indicators)
    text, keyboard = render_summary(
        registration, items, names, context.person, context.settings.tzinfo, indicators
    )
    pieces = split_message(text)  # 90 photos make more lines than one message holds
    for piece in pieces[:-1]:
        await update.message.reply_text(piece)
    await update.message.reply_text(pieces[-1], reply_markup=keyboard)


async def send_album(
    context: BotContext,
    chat_id: int,
    chunk: list[tuple[int, Evidence]],
    names: dict,
    indicators: dict[str, str],
) -> None:
    """The photos by their Telegram file ids; if Telegram refuses one (a file id no longer
    valid, e.g. after a token change), each photo alone, from MEDIA_DIR where needed."""
    kind = chunk[0][1].media_kind
    captions = [
        caption(e, names[e.uploaded_by], i, indicators.get(e.indicator_code, e.indicator_code))
        for i, e in chunk
    ]
    try:
        if len(chunk) == 1:
            await send_one(context, chat_id, kind, chunk[0][1].file_id, captions[0])
            return
        make = InputMediaPhoto if kind is MediaKind.PHOTO else InputMediaDocument
        media = [make(e.file_id, caption=c) for (_i, e), c in zip(chunk, captions, strict=True)]
        await context.bot.send_media_group(chat_id, media)
    except BadRequest as error:
        log.info("evidence by file id refused (%s); sending one by one", error)
        for (_index, evidence), text in zip(chunk, captions, strict=True):
            await send_from_disk(context, chat_id, evidence, text)


async def send_one(context: BotContext, chat_id: int, kind: MediaKind, media, text: str) -> None:
    if kind is MediaKind.PHOTO:
        await context.bot.send_photo(chat_id, media, caption=text)
    else:
        await context.bot.send_document(chat_id, media, caption=text)


async def send_from_disk(context: BotContext, chat_id: int, evidence: Evidence, text: str):
    """One photo by file id, else the copy kept in MEDIA_DIR, else a line saying it is gone."""
    try:
        await send_one(context, chat_id, evidence.media_kind, evidence.file_id, text)
        return
    except BadRequest:
        pass
    path = context.settings.media_dir / evidence.path if evidence.path else None
    data = await asyncio.to_thread(path.read_bytes) if path and path.is_file() else None
    if data is None:
        gone = _("This photo can no longer be shown.")
        await context.bot.send_message(chat_id, f"{text}\n{gone}")
        return
    await send_one(context, chat_id, evidence.media_kind, data, text)


async def evidence_for_button(update: Update, context: BotContext) -> Evidence | None:
    """The photo a delete button names, if it exists and the person may delete it."""
    evidence_id = context.pressed.evidence_id
    evidence = await context.storage.evidence.get(evidence_id)
    if evidence is None:
        await update.callback_query.answer(_("This photo has already been deleted."))
        return None
    registration = await context.storage.registrations.get(evidence.registration_id)
    subject = {"evidence_id": evidence_id}
    if not await hamlet_in_reach(update, context, registration, "evidence.view", subject):
        return None
    if not may_delete(context.person, evidence):
        await refuse(update, context, "evidence.delete", subject)
        return None
    return evidence


async def delete_pressed(update: Update, context: BotContext) -> None:
    evidence = await evidence_for_button(update, context)
    if evidence is None:
        return
    await update.callback_query.answer()
    registration = await context.storage.registrations.get(evidence.registration_id)
    indicator = await indicator_name(context, registration, evidence.indicator_code)
    keyboard = buttons(
        yes_no(
            DELETE_SURE.button(_("Yes, delete"), evidence_id=evidence.id),
            KEEP.button(_("No, keep it"), evidence_id=evidence.id),
        )
    )
    await update.effective_message.reply_text(
        _("Delete this photo of {code}? It will no longer count as evidence.").format(
            code=indicator
        ),
        reply_markup=keyboard,
    )


async def delete_confirmed(update: Update, context: BotContext) -> None:
    evidence = await evidence_for_button(update, context)
    if evidence is None:
        return
    storage = context.storage
    registration = await storage.registrations.get(evidence.registration_id)
    media = MediaFolder(context.settings.media_dir)
    if not await delete_evidence(storage, context.person, evidence.id, media):
        await update.callback_query.answer(_("This photo has already been deleted."))
        return
    await close_question(update.callback_query, _("Yes, delete"))
    await update.effective_message.reply_text(
        _("Deleted: one photo of {code} of {number}.").format(
            code=await indicator_name(context, registration, evidence.indicator_code),
            number=registration.number,
        )
    )


async def delete_declined(update: Update, context: BotContext) -> None:
    await close_question(update.callback_query, _("No, keep it"))


def handlers() -> list:
    return [
        CommandHandler("xemminhchung", show),
        DELETE.handler(delete_pressed),
        DELETE_SURE.handler(delete_confirmed),
        KEEP.handler(delete_declined),
    ]
