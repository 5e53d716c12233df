"""Work the bot does on its own, on a timer: daily backups, discarding drafts (and lists
waiting for confirmation) left unfinished."""

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta

from telegram import Bot
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.i18n import _, ngettext, use_locale
from storage import Storage
from storage.backup import BackupError, backup, prune
from storage.clock import utcnow
from storage.usecases.drafts import discard_untouched, discard_untouched_list

log = logging.getLogger(__name__)

DRAFT_EXPIRY_JOB = "discard-stale-drafts"
DRAFT_EXPIRY_AT = time(2, 30)  # local time, when hardly anyone is typing
DEFAULT_DRAFT_DAYS = 30


def render_draft_discarded(days: int, last_changed: datetime) -> str:
    return _(
        "Your unfinished registration, last changed on {date:%d/%m/%Y}, was discarded because "
        "it was left untouched for {days} days. Nothing was registered. Send /dangky to start "
        "again whenever you are ready."
    ).format(date=last_changed, days=days)


def render_list_discarded(days: int, last_changed: datetime, lines: int) -> str:
    if not lines:  # begun, but nothing entered: nothing lost
        return _(
            "Your list begun with /nhapds (no lines entered, last changed on {date:%d/%m/%Y}) "
            "was closed because it was left untouched for {days} days. Send /nhapds to start "
            "again whenever you are ready."
        ).format(date=last_changed, days=days)
    return ngettext(
        "Your list waiting for confirmation ({n} line, last changed on {date:%d/%m/%Y}) was "
        "discarded because it was left untouched for {days} days. Nothing from it was "
        "registered. Send /nhapds to send the list again whenever you are ready.",
        "Your list waiting for confirmation ({n} lines, last changed on {date:%d/%m/%Y}) was "
        "discarded because it was left untouched for {days} days. Nothing from it was "
        "registered. Send /nhapds to send the list again whenever you are ready.",
        lines,
    ).format(n=lines, date=last_changed, days=days)


async def discard_stale_drafts(
    app_or_storage: Application | Storage, bot: Bot, now: datetime, days: int | None = None
) -> int:
    """Discard drafts untouched for `days` (the HOCTAP_DRAFT_DAYS setting when given an app):
    those of /dangky, and the lists of /nhapds waiting for confirmation.

    Each owner who is still enrolled is told, in their own language. Returns how many drafts
    were discarded.
    """
    storage: Storage = getattr(app_or_storage, "storage", app_or_storage)
    settings = getattr(app_or_storage, "settings", None)
    if days is None:
        days = settings.draft_days if settings is not None else DEFAULT_DRAFT_DAYS
    tzinfo = settings.tzinfo if settings is not None else now.tzinfo
    cutoff = now - timedelta(days=days)
    discarded = 0
    for draft in await storage.registrations.drafts_untouched_since(cutoff):
        if not await discard_untouched(storage, draft, cutoff, days):
            continue  # touched since we looked
        discarded += 1
        last_changed = draft.updated_at.astimezone(tzinfo)
        await tell(storage, bot, draft.person_id, render_draft_discarded, days, last_changed)
    for listed in await storage.registrations.bulk_drafts_untouched_since(cutoff):
        if not await discard_untouched_list(storage, listed, cutoff, days):
            continue
        discarded += 1
        last_changed = listed.updated_at.astimezone(tzinfo)
        lines = len(listed.body.get("rows", []))
        await tell(storage, bot, listed.person_id, render_list_discarded, days, last_changed, lines)
    if discarded:
        log.info("discarded %d draft(s) untouched for %d days", discarded, days)
    return discarded


async def tell(
    storage: Storage, bot: Bot, person_id: int, render: Callable[..., str], *args: object
) -> None:
    """Send `render(*args)`, in their language, to a person still enrolled; a failure is
    logged."""
    person = await storage.people.get(person_id)
    if person is None or not person.active:
        return
    with use_locale(person.locale):
        text = render(*args)
    try:
        await bot.send_message(person.telegram_id, text)
    except TelegramError as error:
        log.warning("draft discard notice to person %s failed: %s", person.id, error)


async def _draft_expiry(context: ContextTypes.DEFAULT_TYPE) -> None:
    app = context.application
    await discard_stale_drafts(app, context.bot, app.clock())


def schedule_backups(app: Application) -> None:
    """Every day at HOCTAP_BACKUP_TIME (local time): a backup, keeping the newest N."""
    settings = app.settings
    at = settings.backup_time.replace(tzinfo=settings.tzinfo)
    app.job_queue.run_daily(daily_backup, at, name="daily-backup")


async def daily_backup(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A failed backup is logged and tried again the next day; it never stops the bot."""
    app = context.application
    try:
        target = await backup(
            app.storage.db, app.settings.media_dir, app.settings.backup_dir, utcnow()
        )
        removed = await asyncio.to_thread(prune, app.settings.backup_dir, app.settings.backup_keep)
        forgotten = await app.storage.updates.prune()
    except BackupError as error:
        log.error("daily backup failed: %s", error)
        return
    except Exception:
        log.exception("daily backup failed")
        return
    log.info(
        "backup written to %s; %d old backup(s) removed, %d old update id(s) forgotten",
        target,
        len(removed),
        forgotten,
    )


def schedule_jobs(app: Application) -> None:
    """Register the daily jobs; called from post_init, once the JobQueue exists."""
    if app.job_queue is None:
        log.warning("no job queue: install python-telegram-bot[job-queue]; drafts will not expire")
        return
    for job in app.job_queue.get_jobs_by_name(DRAFT_EXPIRY_JOB):
        job.schedule_removal()
    app.job_queue.run_daily(
        _draft_expiry, DRAFT_EXPIRY_AT.replace(tzinfo=app.settings.tzinfo), name=DRAFT_EXPIRY_JOB
    )
    schedule_backups(app)
