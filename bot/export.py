"""The export of an area's year: an XLSX workbook of four sheets, or a zip of four CSV files.

Sheets (names and headings in the current locale; the command line uses Vietnamese):

- "Tổng hợp" (Summary): per child area and model kind, the five figures of `storage.summary`,
  then a total per kind;
- "Danh sách đăng ký" (Registrations): one row per registration of the year, withdrawn ones
  too, with its answers, its evidence state (`storage.evidence_state`) and its self-assessment
  as `code=value; …`;
- "Minh chứng" (Evidence): one row per evidence photo: registration number, indicator, uploader,
  date sent, SHA-256, flags, latest review decision and its reason;
- "Kết quả" (Results): registration number, name, self-assessed total and result (the criteria
  set's pass rule applied to the self-assessment), recognition result, decision number and date.

XLSX: a frozen, bold header row, fixed column widths, dates as real dates shown dd/mm/yyyy.
CSV: a zip holding one UTF-8 CSV per sheet (with a byte-order mark, so that Excel reads the
diacritics), named after the sheet, dates written dd/mm/yyyy.

XlsxWriter is imported only when an XLSX is made, so the running bot does not carry it otherwise.

The bot makes the file in a worker process (`export_off_loop`), with its own connection and
event loop, reading one snapshot of the database: writing a country's millions of cells would
otherwise hold the bot's event loop, and everyone's button presses with it, for minutes.
"""

import asyncio
import csv
import io
import json
import multiprocessing
import zipfile
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum

from bot.i18n import _, use_locale
from conversations.registration_form import kind_label, status_name
from storage import Storage
from storage.criteria import AnswerError, CriteriaSet, PassRuleKind, ScoringKind, evaluate
from storage.evidence import Flag, FlagKind
from storage.evidence_state import EvidenceState
from storage.models import Area
from storage.registrations import Status
from storage.summary import KINDS, Counts, Summary

DATE_FORMAT = "DD/MM/YYYY"


class Format(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


@dataclass
class Sheet:
    title: str
    headings: list[str]
    widths: list[int]
    rows: AsyncIterator[list]


def file_name(area: Area | None, year: int, fmt: Format) -> str:
    place = "toanquoc" if area is None else (area.code or f"thon{area.id}")
    extension = "xlsx" if fmt is Format.XLSX else "zip"
    return f"hoctap-{place}-{year}.{extension}"


def local_date(value: str | None, zone: tzinfo) -> date | None:
    """A stored moment (ISO text, UTC) as a local date; a plain ISO date as itself."""
    if not value:
        return None
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value).astimezone(zone).date()


def flag_words(flag: Flag) -> str:
    if flag.kind is FlagKind.DUPLICATE:
        return _("same photo as {number}").format(number=flag.registration_number)
    if flag.kind is FlagKind.NEAR_DUPLICATE:
        return _("near copy of a photo of {number}").format(number=flag.registration_number)
    taken = f"{flag.captured_at:%d/%m/%Y}" if flag.captured_at else "?"
    return _("taken {date}, outside the programme year").format(date=taken)


def decision_words(decision: str | None) -> str:
    if decision is None:
        return _("not reviewed")
    return {"accepted": _("accepted"), "needs_more": _("needs more")}[decision]


def evidence_words(state: int) -> str:
    """A registration's evidence state by the rule of `storage.evidence_state`."""
    return {
        EvidenceState.INCOMPLETE: _("evidence incomplete"),
        EvidenceState.COMPLETE: _("evidence complete"),
        EvidenceState.ASSESSED: _("assessed"),
    }[EvidenceState(state)]


def recognition_words(result: str | None, status: str) -> str:
    if result is None and status in (Status.RECOGNISED, Status.NOT_RECOGNISED):
        result = status
    if result is None:
        return _("not decided")
    return status_name(Status(result))


def self_assessment(criteria: CriteriaSet | None, text: str | None) -> tuple[object, str]:
    """The self-assessed total and result: points for a points rule, indicators met for an
    all-met rule; the result by the set's pass rule."""
    values = {}
    for part in (text or "").split(";"):
        if "=" in part:
            code, value = part.split("=", 1)
            values[code] = int(value)
    if criteria is None:
        return sum(values.values()), ""
    answers: dict[str, bool | int] = {}
    for indicator in criteria.all_indicators():
        if indicator.code in values:
            value = values[indicator.code]
            pass_fail = indicator.scoring.kind is ScoringKind.PASS_FAIL
            answers[indicator.code] = bool(value) if pass_fail else value
    try:
        evaluation = evaluate(criteria, answers)
    except AnswerError:
        return sum(values.values()), ""
    if evaluation.rule is PassRuleKind.POINTS:
        total: object = evaluation.total_points
    else:
        total = sum(1 for c in evaluation.criteria for i in c.indicators if i.met)
    return total, _("passed") if evaluation.passed else _("not passed")


# --- the sheets ----------------------------------------------------------------------------


def summary_sheet(summary: Summary) -> Sheet:
    async def rows() -> AsyncIterator[list]:
        for kind in KINDS:
            for row in summary.rows:
                yield [
                    row.area.name,
                    row.area.code or "",
                    kind_label(kind),
                    *row.of(kind).as_tuple(),
                ]
            total: Counts = summary.total(kind)
            yield [_("Total"), "", kind_label(kind), *total.as_tuple()]

    return Sheet(
        _("Summary"),
        [
            _("Area"),
            _("Code"),
            _("Model"),
            _("Registered"),
            _("Evidence complete"),
            _("Assessed"),
            _("Recognised"),
            _("Not recognised"),
        ],
        [30, 8, 20, 12, 16, 12, 14, 18],
        rows(),
    )


def registrations_sheet(storage: Storage, area: Area | None, year: int, zone: tzinfo) -> Sheet:
    async def rows() -> AsyncIterator[list]:
        async for r in storage.summary.registrations(area, year):
            yield [
                r["number"],
                kind_label(KINDS[0] if r["kind"] == "family" else KINDS[1]),
                r["province_name"],
                r["commune_name"],
                r["hamlet_name"],
                r["name"],
                r["head_name"],
                r["clan_name"],
                r["branch"],
                r["members"],
                r["school_age_children"],
                r["households"],
                r["address"],
                r["phone"],
                status_name(Status(r["status"])),
                evidence_words(r["evidence_state"]),
                local_date(r["created_at"], zone),
                "; ".join(sorted((r["assessment"] or "").split(";"))).strip("; "),
            ]

    return Sheet(
        _("Registrations"),
        [
            _("Registration number"),
            _("Model"),
            _("Province"),
            _("Commune"),
            _("Hamlet"),
            _("Name"),
            _("Head of household / clan head"),
            _("Clan"),
            _("Branch"),
            _("Members"),
            _("Children of school age"),
            _("Households"),
            _("Address"),
            _("Phone"),
            _("Status"),
            _("Evidence"),
            _("Registered on"),
            _("Self-assessment"),
        ],
        [16, 18, 22, 22, 20, 28, 24, 16, 14, 10, 12, 10, 28, 14, 16, 20, 14, 60],
        rows(),
    )


def evidence_sheet(storage: Storage, area: Area | None, year: int, zone: tzinfo) -> Sheet:
    async def rows() -> AsyncIterator[list]:
        async for e in storage.summary.evidence(area, year):
            flags = [Flag.model_validate(f) for f in json.loads(e["flags"])]
            yield [
                e["number"],
                e["indicator_code"],
                e["uploader"],
                local_date(e["message_date"], zone),
                e["sha256"] or _("not downloaded yet"),
                "; ".join(flag_words(f) for f in flags),
                decision_words(e["decision"]),
                e["reason"] or "",
            ]

    return Sheet(
        _("Evidence"),
        [
            _("Registration number"),
            _("Indicator"),
            _("Sent by"),
            _("Sent on"),
            "SHA-256",
            _("Flags"),
            _("Review"),
            _("Reason"),
        ],
        [16, 10, 24, 12, 66, 40, 14, 30],
        rows(),
    )


def results_sheet(storage: Storage, area: Area | None, year: int, zone: tzinfo) -> Sheet:
    async def rows() -> AsyncIterator[list]:
        sets: dict[str, CriteriaSet | None] = {}
        async for r in storage.summary.registrations(area, year):
            set_id = r["criteria_set_id"]
            if set_id not in sets:
                stored = await storage.criteria.get(set_id)
                sets[set_id] = stored.criteria_set if stored else None
            total, result = self_assessment(sets[set_id], r["assessment"])
            yield [
                r["number"],
                r["name"],
                total,
                result,
                recognition_words(r["recognition_result"], r["status"]),
                r["decision_number"] or "",
                local_date(r["decision_date"], zone),
            ]

    return Sheet(
        _("Results"),
        [
            _("Registration number"),
            _("Name"),
            _("Self-assessed total"),
            _("Self-assessed result"),
            _("Recognition"),
            _("Decision number"),
            _("Decision date"),
        ],
        [16, 28, 14, 16, 18, 18, 14],
        rows(),
    )


def sheets(storage: Storage, summary: Summary, zone: tzinfo) -> list[Sheet]:
    area, year = summary.area, summary.year
    return [
        summary_sheet(summary),
        registrations_sheet(storage, area, year, zone),
        evidence_sheet(storage, area, year, zone),
        results_sheet(storage, area, year, zone),
    ]


# --- writers -------------------------------------------------------------------------------


async def write_xlsx(parts: list[Sheet]) -> bytes:
    """The workbook, streamed row by row (constant memory): XlsxWriter writes a province's
    2.6 million cells several times faster than openpyxl."""
    import xlsxwriter

    out = io.BytesIO()
    options = {"in_memory": True, "constant_memory": True, "default_date_format": DATE_FORMAT}
    book = xlsxwriter.Workbook(out, options)
    bold = book.add_format({"bold": True})
    for part in parts:
        sheet = book.add_worksheet(part.title[:31])
        sheet.freeze_panes(1, 0)
        for index, width in enumerate(part.widths):
            sheet.set_column(index, index, width)
        sheet.write_row(0, 0, part.headings, bold)
        number = 1
        async for row in part.rows:
            sheet.write_row(number, 0, row)
            number += 1
    book.close()
    return out.getvalue()


def csv_value(value: object) -> object:
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return "" if value is None else value


async def write_csv_zip(parts: list[Sheet]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in parts:
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow(part.headings)
            async for row in part.rows:
                writer.writerow([csv_value(v) for v in row])
            archive.writestr(f"{part.title}.csv", "\ufeff" + text.getvalue())
    return out.getvalue()


async def export(
    storage: Storage, area: Area | None, year: int, fmt: Format, now: datetime
) -> tuple[bytes, str]:
    """The file's bytes and its name. `now` is the local moment the figures are taken."""
    summary = await storage.summary.summary(area, year, now)
    parts = sheets(storage, summary, now.tzinfo)
    data = await (write_xlsx if fmt is Format.XLSX else write_csv_zip)(parts)
    return data, file_name(area, year, fmt)


# --- off the event loop ----------------------------------------------------------------------

_workers: ProcessPoolExecutor | None = None


def _export_in_worker(
    db_path: str, area_id: int | None, year: int, fmt: Format, now: datetime, locale: str
) -> tuple[bytes, str]:
    """In the worker process: open the database, read it in one snapshot, make the file."""

    async def work() -> tuple[bytes, str]:
        storage = await Storage.open(db_path)
        try:
            area = await storage.areas.get(area_id) if area_id is not None else None
            await storage.db.conn.execute("BEGIN")  # one snapshot for every sheet
            try:
                with use_locale(locale):
                    return await export(storage, area, year, fmt, now)
            finally:
                await storage.db.conn.execute("ROLLBACK")
        finally:
            await storage.close()

    return asyncio.run(work())


async def export_off_loop(
    db_path, area: Area | None, year: int, fmt: Format, now: datetime, locale: str
) -> tuple[bytes, str]:
    """`export` in a worker process (one at a time; started at the first export, a fresh one
    for each file so that its memory goes back when the file is made), awaited here."""
    global _workers
    if _workers is None:
        _workers = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1
        )
    area_id = area.id if area else None
    return await asyncio.get_running_loop().run_in_executor(
        _workers, _export_in_worker, str(db_path), area_id, year, fmt, now, locale
    )
