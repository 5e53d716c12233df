"""Reminders and the weekly digest, sent by one hourly job.

Every run decides from the database and the moment it is given; nothing about reminders is
kept in the job queue, so the job is simply scheduled again at each start.

- Hamlet heads with an unfinished registration (`registration_drafts`) are reminded on each of
  the HOCTAP_REMIND_DAYS_BEFORE days before their province's registration close, and on the day.
- Branch chairs are reminded likewise before the evaluation lock when registrations in their
  area miss evidence for an indicator that requires it (no photo, or only photos marked
  "needs more").
- Staff and admins who switched it on with /nhacnho get the weekly digest on Monday from
  08:00 local time.

Each person gets each kind at most once a local day (`reminders_sent`), never between 21:00
and 07:00 local time, in their own language.
"""

import logging
from datetime import date, datetime, timedelta
from enum import StrEnum

from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot.i18n import _, ngettext, use_locale
from bot.years import open_years
from storage.models import Person, Role

log = logging.getLogger(__name__)

REMINDER_JOB = "reminders"
QUIET_FROM_HOUR = 21  # local time; no reminders from 21:00 …
QUIET_UNTIL_HOUR = 7  # … until 07:00
DIGEST_WEEKDAY = 0  # Monday
DIGEST_HOUR = 8
MAX_LISTED = 10


class ReminderKind(StrEnum):
    DRAFT = "draft_before_close"
    EVIDENCE = "evidence_before_lock"
    DIGEST = "weekly_digest"


def quiet_hours(local: datetime) -> bool:
    return local.hour >= QUIET_FROM_HOUR or local.hour < QUIET_UNTIL_HOUR


def days_left(n: int) -> str:
    if n == 0:
        return _("today")
    return ngettext("in {n} day", "in {n} days", n).format(n=n)


def render_draft_reminder(close: date, left: int) -> str:
    return _(
        "Reminder: registration closes on {date:%d/%m/%Y} ({when}). Your registration of a "
        "learning family or clan is not finished yet. Send /dangky to finish it."
    ).format(date=close, when=days_left(left))


def render_evidence_reminder(lock: date, left: int, missing: list[tuple[str, int]]) -> str:
    lines = [
        _(
            "Reminder: evaluation locks on {date:%d/%m/%Y} ({when}). These registrations in your "
            "area still miss required evidence:"
        ).format(date=lock, when=days_left(left))
    ]
    for number, count in missing[:MAX_LISTED]:
        lines.append(
            ngettext("{number}: {n} indicator", "{number}: {n} indicators", count).format(
                number=number, n=count
            )
        )
    if len(missing) > MAX_LISTED:
        lines.append(_("and {n} more.").format(n=len(missing) - MAX_LISTED))
    lines.append(_("Send the photos with /minhchung."))
    return "\n".join(lines)


def render_digest(area_name: str, year: int, counts) -> str:
    return _(
        "Weekly digest for {area}, {year}:\n"
        "Registrations: {registrations} ({recognised} recognised)\n"
        "Evidence complete: {complete}; assessed: {assessed}\n"
        "Evidence photos: {evidence}\n"
        "Waiting for review: {waiting} (/duyet)\n"
        "Marked “needs more”: {needs_more}\n"
        "Switch this digest off with /nhacnho."
    ).format(
        area=area_name,
        year=year,
        registrations=counts.registrations,
        recognised=counts.recognised,
        complete=counts.evidence_complete,
        assessed=counts.assessed,
        evidence=counts.evidence,
        waiting=counts.waiting,
        needs_more=counts.needs_more,
    )


async def send_reminders(app: Application, now: datetime) -> list[tuple[int, str]]:
    """Send what is due at `now`; the (person id, kind) pairs sent, in order.

    Nothing at all in quiet hours. A reminder is claimed in `reminders_sent` before it is
    sent, so two runs on one day never send it twice (a failed send is logged, not retried).
    """
    local = now.astimezone(app.settings.tzinfo)
    if quiet_hours(local):
        return []
    today = local.date()
    sent: list[tuple[int, str]] = []
    for person, text in await draft_reminders(app, today):
        await deliver(app, person, ReminderKind.DRAFT, today, text, sent)
    for person, text in await evidence_reminders(app, today):
        await deliver(app, person, ReminderKind.EVIDENCE, today, text, sent)
    if local.weekday() == DIGEST_WEEKDAY and local.hour >= DIGEST_HOUR:
        for person, text in await digests(app, today):
            await deliver(app, person, ReminderKind.DIGEST, today, text, sent)
    return sent


async def deliver(
    app: Application,
    person: Person,
    kind: ReminderKind,
    today: date,
    text: str,
    sent: list[tuple[int, str]],
) -> None:
    if not await app.storage.reminders.claim(person.id, kind.value, today):
        return
    sent.append((person.id, kind.value))
    try:
        await app.bot.send_message(person.telegram_id, text)
    except TelegramError as error:
        log.warning("%s reminder to person %s failed: %s", kind.value, person.id, error)


def within(deadline: date, today: date, days: int) -> int | None:
    """Days left until `deadline` when that is 0 to `days`, else None."""
    left = (deadline - today).days
    return left if 0 <= left <= days else None


async def draft_reminders(app: Application, today: date) -> list[tuple[Person, str]]:
    storage, days = app.storage, app.settings.remind_days_before
    due = []
    for person_id, hamlet_id, year in await storage.reminders.drafts():
        person = await storage.people.get(person_id)
        if person is None or not person.active or person.role is not Role.HAMLET_HEAD:
            continue
        area = await storage.areas.get(hamlet_id or person.area_id or 0)
        if area is None:
            continue
        dates = await storage.registrations.programme_year(area.province_code, year)
        left = within(dates.registration_close, today, days)
        if left is None:
            continue
        with use_locale(person.locale):
            due.append((person, render_draft_reminder(dates.registration_close, left)))
    return due


async def evidence_reminders(app: Application, today: date) -> list[tuple[Person, str]]:
    storage, days = app.storage, app.settings.remind_days_before
    due = []
    for person_id in await storage.reminders.active_people(Role.BRANCH_CHAIR.value):
        person = await storage.people.get(person_id)
        area = await storage.areas.get(person.area_id) if person.area_id else None
        if area is None:
            continue
        for year in await open_years(storage, app.settings, area, today):
            dates = await storage.registrations.programme_year(area.province_code, year)
            left = within(dates.evaluation_lock, today, days)
            if left is None:
                continue
            missing = await missing_evidence(app, area, year)
            if missing:
                with use_locale(person.locale):
                    text = render_evidence_reminder(dates.evaluation_lock, left, missing)
                due.append((person, text))
                break  # one reminder a day (the two years' locks are a year apart)
    return due


async def missing_evidence(app: Application, area, year: int) -> list[tuple[str, int]]:
    """(number, evidence-required indicators with no photo or "needs more") of the area's
    registered registrations, by the evidence rule."""
    return await app.storage.reminders.lacking(area, year)


async def digests(app: Application, today: date) -> list[tuple[Person, str]]:
    storage = app.storage
    due = []
    for person_id in await storage.reminders.digest_subscribers():
        person = await storage.people.get(person_id)
        if person is None or not person.active:
            continue
        if person.role not in (Role.STAFF, Role.ADMIN):
            continue
        area = await storage.areas.get(person.area_id) if person.area_id else None
        counts = await storage.reminders.digest_counts(area, today.year)
        with use_locale(person.locale):
            name = area.name if area else _("the whole country")
            due.append((person, render_digest(name, today.year, counts)))
    return due


async def _reminder_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    app = context.application
    try:
        await send_reminders(app, app.clock())
    except Exception:
        log.exception("reminder run failed")


def schedule_reminders(app: Application) -> None:
    """Every hour, on the hour (local time); registered afresh at every start."""
    if app.job_queue is None:
        log.warning("no job queue: reminders and digests will not be sent")
        return
    for job in app.job_queue.get_jobs_by_name(REMINDER_JOB):
        job.schedule_removal()
    now = app.now()
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    app.job_queue.run_repeating(
        _reminder_job, interval=3600, first=next_hour - now, name=REMINDER_JOB
    )
