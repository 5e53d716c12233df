"""Taking in an evidence photo: check it, download it (with quick retries), keep it.

Shared by /minhchung and the background job that fetches downloads that failed earlier
(`retry_pending_downloads`, a plain async function that tests call directly).
"""

import asyncio
import logging
from dataclasses import dataclass, field
from enum import StrEnum

from telegram import Bot, Message
from telegram.error import TelegramError
from telegram.ext import Application

from bot.i18n import _, use_locale
from conversations.indicators import short_name
from storage import Storage
from storage.evidence import Evidence, Flag, MediaFolder, MediaKind, Received
from storage.images import NotAnImage, TooLarge, examine
from storage.models import Person
from storage.near_duplicates import reindex
from storage.registrations import Registration
from storage.usecases.evidence import keep_pending, store_download, store_evidence

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024  # what the Bot API lets a bot download
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"})
IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "webp", "heic", "heif"})
# Pauses before the 2nd and 3rd try of a download; after that the background job takes over.
DOWNLOAD_DELAYS = (0.3, 1.0)
RETRY_EVERY = 600  # seconds between runs of the background job
RETRY_JOB = "evidence-retry-downloads"
REINDEX_JOB = "evidence-reindex"


class IntakeResult(StrEnum):
    """What became of one photo sent (a recognition's result is `storage.reviews.Result`)."""

    STORED = "stored"
    PENDING = "pending"  # kept as a file_id; the background job will fetch it
    DUPLICATE = "duplicate"  # already evidence of this indicator: refused
    NOT_IMAGE = "not_image"
    TOO_BIG = "too_big"
    NOT_SAVED = "not_saved"  # the media folder could not take it (disk full): nothing kept
    TOO_LARGE = "too_large"  # too many pixels to check: refused before decoding


@dataclass
class Outcome:
    result: IntakeResult
    flags: list[Flag] = field(default_factory=list)
    evidence: Evidence | None = None


class DownloadFailed(Exception):
    pass


def received_from(
    message: Message, registration_id: int, indicator_code: str, person_id: int
) -> Received | IntakeResult:
    """What the message carries, or why it cannot be evidence (not an image, too big)."""
    if message.photo:
        largest = message.photo[-1]
        media, kind, mime = largest, MediaKind.PHOTO, "image/jpeg"
    elif message.document:
        media, kind = message.document, MediaKind.DOCUMENT
        mime = (media.mime_type or "").lower()
        extension = (media.file_name or "").rsplit(".", 1)[-1].lower()
        if mime not in IMAGE_TYPES and not (
            mime in ("", "application/octet-stream") and extension in IMAGE_EXTENSIONS
        ):
            return IntakeResult.NOT_IMAGE
    else:
        return IntakeResult.NOT_IMAGE
    if (media.file_size or 0) > MAX_BYTES:
        return IntakeResult.TOO_BIG
    return Received(
        registration_id=registration_id,
        indicator_code=indicator_code,
        media_kind=kind,
        file_id=media.file_id,
        file_unique_id=media.file_unique_id,
        message_date=message.date,
        uploaded_by=person_id,
        caption=message.caption,
        forwarded=message.forward_origin is not None,
        mime_type=mime or None,
    )


async def download(bot: Bot, file_id: str, delays: tuple[float, ...] = DOWNLOAD_DELAYS) -> bytes:
    """The file's bytes through getFile; tries again after each of `delays` seconds."""
    last: Exception | None = None
    for delay in (0, *delays):
        if delay:
            await asyncio.sleep(delay)
        try:
            file = await bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())
        except (TelegramError, OSError) as error:
            log.warning("download of %s failed: %s", file_id, error)
            last = error
    raise DownloadFailed(str(last))


async def keep(
    storage: Storage,
    media: MediaFolder,
    actor: Person,
    registration: Registration,
    received: Received,
    data: bytes,
) -> Outcome:
    """Check downloaded bytes and store them with their row, or say why not."""
    try:
        facts = await examine(data)
    except NotAnImage:
        return Outcome(IntakeResult.NOT_IMAGE)
    except TooLarge:
        return Outcome(IntakeResult.TOO_LARGE)
    if facts.size > MAX_BYTES:
        return Outcome(IntakeResult.TOO_BIG)
    try:
        evidence = await store_evidence(storage, actor, registration, received, facts, data, media)
    except OSError as error:  # a full disk: say so, never claim it was kept
        log.error("evidence photo could not be written to the media folder: %s", error)
        return Outcome(IntakeResult.NOT_SAVED)
    if evidence is None:
        return Outcome(IntakeResult.DUPLICATE)
    return Outcome(IntakeResult.STORED, evidence.flags, evidence)


async def intake(
    bot: Bot,
    storage: Storage,
    media: MediaFolder,
    actor: Person,
    registration: Registration,
    received: Received,
) -> Outcome:
    """A photo from a message: refused if already given for this indicator, else downloaded
    and stored; if the download keeps failing, kept as pending so nothing is lost."""
    repo = storage.evidence
    if await repo.same_in_indicator(
        registration.id, received.indicator_code, file_unique_id=received.file_unique_id
    ):
        return Outcome(IntakeResult.DUPLICATE)
    try:
        data = await download(bot, received.file_id)
    except DownloadFailed as error:
        attempts = 1 + len(DOWNLOAD_DELAYS)
        evidence = await keep_pending(storage, actor, registration, received, str(error), attempts)
        return Outcome(IntakeResult.PENDING, evidence=evidence)
    return await keep(storage, media, actor, registration, received, data)


async def retry_pending_downloads(bot: Bot, storage: Storage, media: MediaFolder) -> int:
    """Try once more every download that failed; the number now stored.

    A photo that turns out to be already given for its indicator is dropped (its twin is
    kept); one that is not a readable image stays pending with the reason, for staff.
    """
    done = 0
    repo = storage.evidence
    for pending in await repo.pending():
        registration = await storage.registrations.get(pending.registration_id)
        try:
            data = await download(bot, pending.file_id, delays=())
        except DownloadFailed as error:
            await repo.download_failed(pending.id, str(error))
            continue
        try:
            facts = await examine(data)
        except (NotAnImage, TooLarge) as error:
            await repo.download_failed(pending.id, f"not an image we can check: {error!r}")
            continue
        try:
            stored = await store_download(storage, pending, registration, facts, data, media)
        except OSError as error:  # a full disk: stays pending, tried again later
            await repo.download_failed(pending.id, f"could not be written: {error}")
            continue
        done += 1
        if stored is not None:  # None: already given for its indicator, its twin kept
            await tell_uploader(bot, storage, pending, registration)
    return done


async def tell_uploader(
    bot: Bot, storage: Storage, evidence: Evidence, registration: Registration
) -> None:
    person = await storage.people.get(evidence.uploaded_by)
    if person is None or not person.active:
        return
    stored = await storage.criteria.get(registration.criteria_set_id)
    with use_locale(person.locale):
        try:
            name = short_name(stored.criteria_set.indicator(evidence.indicator_code))
        except (AttributeError, KeyError):
            name = evidence.indicator_code
        text = _(
            "The photo for {code} of {number} that could not be fetched earlier is now stored."
        ).format(code=name, number=registration.number)
    try:
        await bot.send_message(person.telegram_id, text)
    except TelegramError as error:
        log.warning("could not tell person %s about evidence %s: %s", person.id, evidence.id, error)


async def retry_pending_job(context) -> None:
    """The JobQueue callback around `retry_pending_downloads`."""
    app = context.application
    await retry_pending_downloads(context.bot, app.storage, MediaFolder(app.settings.media_dir))


async def reindex_job(context) -> None:
    """Put stored photos missing from the copy index (stored before migration 0013) in it."""
    app = context.application
    indexed, unreadable = await reindex(app.storage.evidence.near, app.settings.media_dir)
    if indexed or unreadable:
        log.info("copy index: %s photo(s) indexed, %s unreadable", indexed, unreadable)


def schedule(app: Application) -> None:
    """Run the retry job every RETRY_EVERY seconds, and the reindexing once soon after the
    start, if the application has a JobQueue."""
    if app.job_queue is not None:
        app.job_queue.run_repeating(retry_pending_job, RETRY_EVERY, first=60, name=RETRY_JOB)
        app.job_queue.run_once(reindex_job, 30, name=REINDEX_JOB)
