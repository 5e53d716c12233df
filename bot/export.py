"""The export of an area's year: an XLSX workbook of four sheets, or a zip of four CSV files.

Sheets (names and headings in the current locale; the command line uses Vietnamese):

- "Tổng hợp" (Summary): per child area and model kind, the five figures of `storage.summary`,
  the households and the rate of households recognised against the national target (unknown
  unless every hamlet is counted), then a total per kind;
- "Danh sách đăng ký" (Registrations): one row per registration of the year, withdrawn ones
  too, with its answers, its evidence state (`storage.evidence_state`) and its
  self-assessment, one column per indicator;
- "Minh chứng" (Evidence): one row per evidence photo: registration number, indicator, uploader,
  date sent, the photo's file name (XLSX) or SHA-256 (CSV), flags, latest review decision and
  its reason;
- "Kết quả" (Results): registration number, name, self-assessed points (a points rule) or
  indicators met (an all-met rule), each in its own column, and result (the criteria set's pass
  rule applied to the self-assessment), recognition result, decision number and date.

XLSX, to be handed in: title rows (the sheet and the unit; the year and the time of the
figures), an STT (row number) column, a bold header row frozen with the STT column and filtered
(autofilter), fixed column widths, dates as real dates shown dd/mm/yyyy, rates as percentages.
Every text cell is written with `write_string` (`write_cell`).
CSV: a zip holding one UTF-8 CSV per sheet (with a byte-order mark, so that Excel reads the
diacritics), named after the sheet, dates written dd/mm/yyyy; no title rows, no STT.

XlsxWriter is imported only when an XLSX is made, so the running bot does not carry it otherwise.

The bot makes the file in a worker process (`export_off_loop`), with its own connection and
event loop, reading one snapshot of the database: writing a country's millions of cells would
otherwise hold the bot's event loop, and everyone's button presses with it, for minutes.
"""

import asyncio
import csv
import io
import json
import logging
import multiprocessing
import zipfile
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum

from bot.i18n import _, use_locale
from bot.labels import kind_label, status_name
from storage import Storage
from storage.criteria import (
    AnswerError,
    CriteriaSet,
    ModelKind,
    PassRuleKind,
    ScoringKind,
    evaluate,
)
from storage.evidence import Flag, FlagKind
from storage.evidence_state import EvidenceState
from storage.households import CLAN_TARGET, FAMILY_TARGET, Households, family_rate
from storage.models import Area, AreaLevel
from storage.registrations import Status
from storage.summary import KINDS, Counts, Summary, scope

DATE_FORMAT = "DD/MM/YYYY"
TITLE_ROWS = 3  # the title, the year and time, an empty row; then the header


class Percent(float):
    """A share (0.7 for 70 %), written as a percentage."""


class Format(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


@dataclass
class Sheet:
    title: str
    headings: list[str]
    widths: list[int]
    rows: AsyncIterator[list]
    xlsx_only: frozenset[int] = frozenset()  # column indexes left out of the CSV
    csv_only: frozenset[int] = frozenset()  # column indexes left out of the XLSX


@dataclass(frozen=True)
class Heading:
    """What the XLSX title rows say: the unit, the year, when the figures were taken."""

    unit: str
    year: int
    taken_at: datetime


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


def assessment_values(text: str | None) -> dict[str, int]:
    """The stored self-assessment 'code=value;…' as a dict."""
    values = {}
    for part in (text or "").split(";"):
        if "=" in part:
            code, value = part.split("=", 1)
            values[code] = int(value)
    return values


def self_assessment(criteria: CriteriaSet | None, text: str | None) -> tuple[object, object, str]:
    """(points, indicators met, result) of the self-assessment: points under a points rule,
    indicators met under an all-met rule (the other None); the result by the set's pass rule.
    All blank without a self-assessment: a family that has not assessed itself has no score."""
    values = assessment_values(text)
    if criteria is None or not values:
        return None, None, ""
    answers: dict[str, bool | int] = {}
    for indicator in criteria.all_indicators():
        if indicator.code in values:
            value = values[indicator.code]
            pass_fail = indicator.scoring.kind is ScoringKind.PASS_FAIL
            answers[indicator.code] = bool(value) if pass_fail else value
    try:
        evaluation = evaluate(criteria, answers)
    except AnswerError:
        return None, None, ""
    result = _("passed") if evaluation.passed else _("not passed")
    if evaluation.rule is PassRuleKind.POINTS:
        return evaluation.total_points, None, result
    met = sum(1 for c in evaluation.criteria for i in c.indicators if i.met)
    return None, met, result


# --- the sheets ----------------------------------------------------------------------------


def rate_cells(kind: ModelKind, counts: Counts, households: Households) -> list:
    """Households, the rate of households recognised, and the target, for the summary."""
    unknown = _("unknown")
    known = households.known
    if kind is ModelKind.FAMILY:
        rate = family_rate(counts.recognised, households)
        return [
            unknown if known is None else known,
            unknown if rate is None else Percent(rate),
            Percent(FAMILY_TARGET),
        ]
    return ["", unknown, Percent(CLAN_TARGET)]


def summary_sheet(summary: Summary, households: dict[str, Households]) -> Sheet:
    area = summary.area
    by_hamlet = area is not None and area.level in (AreaLevel.COMMUNE, AreaLevel.HAMLET)

    def counted(child: Area) -> Households:
        return households.get(str(child.id) if by_hamlet else child.code, Households())

    total_households = sum((counted(row.area) for row in summary.rows), Households())

    async def rows() -> AsyncIterator[list]:
        for kind in KINDS:
            for row in summary.rows:
                counts = row.of(kind)
                yield [
                    row.area.name,
                    row.area.code or "",
                    kind_label(kind),
                    *counts.as_tuple(),
                    *rate_cells(kind, counts, counted(row.area)),
                ]
            total: Counts = summary.total(kind)
            yield [
                _("Total"),
                "",
                kind_label(kind),
                *total.as_tuple(),
                *rate_cells(kind, total, total_households),
            ]

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
            _("Households"),
            _("Rate recognised"),
            _("National target"),
        ],
        [30, 8, 20, 12, 16, 12, 14, 18, 12, 14, 14],
        rows(),
    )


async def indicator_codes(storage: Storage, area: Area | None, year: int) -> list[str]:
    """Every indicator code of the criteria sets the area's registrations of the year use, in
    the sets' order (families' sets first): one self-assessment column each."""
    where, params = scope(area, year)
    rows = await storage.db.conn.execute_fetchall(
        f"SELECT DISTINCT r.criteria_set_id FROM registrations r WHERE {where}", params
    )
    sets = []
    for row in rows:
        stored = await storage.criteria.get(row[0])
        if stored is not None:
            sets.append(stored.criteria_set)
    sets.sort(key=lambda c: (c.model_kind is not ModelKind.FAMILY, c.id))
    codes: list[str] = []
    for criteria in sets:
        codes += [i.code for i in criteria.all_indicators() if i.code not in codes]
    return codes


def registrations_sheet(
    storage: Storage, area: Area | None, year: int, zone: tzinfo, codes: list[str]
) -> Sheet:
    async def rows() -> AsyncIterator[list]:
        async for r in storage.summary.registrations(area, year):
            values = assessment_values(r["assessment"])
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
                *(values.get(code) for code in codes),
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
            *codes,
        ],
        [16, 18, 22, 22, 20, 28, 24, 16, 14, 10, 12, 10, 28, 14, 16, 20, 14] + [9] * len(codes),
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
                photo_file_name(e["path"]),
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
            _("Photo file"),
            _("Flags"),
            _("Review"),
            _("Reason"),
        ],
        [16, 10, 24, 12, 66, 30, 40, 14, 30],
        rows(),
        xlsx_only=frozenset({5}),
        csv_only=frozenset({4}),
    )


def results_sheet(storage: Storage, area: Area | None, year: int, zone: tzinfo) -> Sheet:
    async def rows() -> AsyncIterator[list]:
        sets: dict[str, CriteriaSet | None] = {}
        async for r in storage.summary.registrations(area, year):
            set_id = r["criteria_set_id"]
            if set_id not in sets:
                stored = await storage.criteria.get(set_id)
                sets[set_id] = stored.criteria_set if stored else None
            points, met, result = self_assessment(sets[set_id], r["assessment"])
            yield [
                r["number"],
                r["name"],
                points,
                met,
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
            _("Self-assessed points"),
            _("Indicators met (self-assessed)"),
            _("Self-assessed result"),
            _("Recognition"),
            _("Decision number"),
            _("Decision date"),
        ],
        [16, 28, 14, 16, 16, 18, 18, 14],
        rows(),
    )


def photo_file_name(path: str | None) -> str:
    """What an officer can find the photo by: its file under the media folder."""
    return path or _("not downloaded yet")


async def sheets(storage: Storage, summary: Summary, zone: tzinfo) -> list[Sheet]:
    area, year = summary.area, summary.year
    households = await storage.households.per_child(area)
    codes = await indicator_codes(storage, area, year)
    return [
        summary_sheet(summary, households),
        registrations_sheet(storage, area, year, zone, codes),
        evidence_sheet(storage, area, year, zone),
        results_sheet(storage, area, year, zone),
    ]


# --- writers -------------------------------------------------------------------------------


def write_cell(sheet, row: int, column: int, value: object, formats: dict) -> None:
    """One cell, by its type: text always with write_string (never read as a formula)."""
    if value is None or value == "":
        return
    if isinstance(value, Percent):
        sheet.write_number(row, column, float(value), formats["percent"])
    elif isinstance(value, datetime | date):
        sheet.write_datetime(row, column, value, formats["date"])
    elif isinstance(value, bool):
        sheet.write_boolean(row, column, value)
    elif isinstance(value, int | float):
        sheet.write_number(row, column, value)
    else:
        sheet.write_string(row, column, str(value))


def kept(row: list, dropped: frozenset[int]) -> list:
    return [value for index, value in enumerate(row) if index not in dropped]


async def write_xlsx(parts: list[Sheet], heading: Heading) -> bytes:
    """The workbook, streamed row by row (constant memory): XlsxWriter writes a province's
    2.6 million cells several times faster than openpyxl."""
    import xlsxwriter

    out = io.BytesIO()
    options = {"in_memory": True, "constant_memory": True, "default_date_format": DATE_FORMAT}
    book = xlsxwriter.Workbook(out, options)
    formats = {
        "bold": book.add_format({"bold": True, "text_wrap": True, "valign": "top"}),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "date": book.add_format({"num_format": DATE_FORMAT}),
        "percent": book.add_format({"num_format": "0.0%"}),
    }
    subtitle = _("Year {year}. Figures as of {moment}.").format(
        year=heading.year, moment=f"{heading.taken_at:%d/%m/%Y %H:%M}"
    )
    for part in parts:
        sheet = book.add_worksheet(part.title[:31])
        headings = [_("No."), *kept(part.headings, part.csv_only)]
        widths = [6, *kept(part.widths, part.csv_only)]
        for index, width in enumerate(widths):
            sheet.set_column(index, index, width)
        sheet.write_string(0, 0, f"{part.title}: {heading.unit}", formats["title"])
        sheet.write_string(1, 0, subtitle)
        header = TITLE_ROWS
        for column, text in enumerate(headings):
            sheet.write_string(header, column, text, formats["bold"])
        sheet.freeze_panes(header + 1, 1)
        number = 0
        async for row in part.rows:
            number += 1
            sheet.write_number(header + number, 0, number)
            for column, value in enumerate(kept(row, part.csv_only), start=1):
                write_cell(sheet, header + number, column, value, formats)
        sheet.autofilter(header, 0, header + max(number, 1), len(headings) - 1)
    book.close()
    return out.getvalue()


# A spreadsheet opening the CSV reads a cell that begins with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value: object) -> object:
    """A value as CSV text; text that a spreadsheet would run as a formula is prefixed with
    an apostrophe (OWASP's advice for CSV injection)."""
    if isinstance(value, Percent):
        return f"{float(value) * 100:.1f}%"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


async def write_csv_zip(parts: list[Sheet], heading: Heading) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in parts:
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow([csv_value(h) for h in kept(part.headings, part.xlsx_only)])
            async for row in part.rows:
                writer.writerow([csv_value(v) for v in kept(row, part.xlsx_only)])
            archive.writestr(f"{part.title}.csv", "\ufeff" + text.getvalue())
    return out.getvalue()


async def export(
    storage: Storage, area: Area | None, year: int, fmt: Format, now: datetime
) -> tuple[bytes, str]:
    """The file's bytes and its name. `now` is the local moment the figures are taken."""
    summary = await storage.summary.summary(area, year, now)
    parts = await sheets(storage, summary, now.tzinfo)
    heading = Heading(_("the whole country") if area is None else area.name, year, now)
    data = await (write_xlsx if fmt is Format.XLSX else write_csv_zip)(parts, heading)
    return data, file_name(area, year, fmt)


# --- off the event loop ----------------------------------------------------------------------

log = logging.getLogger(__name__)
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
    for each file so that its memory goes back when the file is made), awaited here.

    A worker that dies (killed, out of memory) breaks its pool for good: the export is tried
    once more in a new pool, and later exports use that one."""
    args = (str(db_path), area.id if area else None, year, fmt, now, locale)
    try:
        return await _in_worker(*args)
    except BrokenProcessPool:
        log.warning("the export's worker process died; trying again in a new one")
        return await _in_worker(*args)


async def _in_worker(*args) -> tuple[bytes, str]:
    global _workers
    if _workers is None:
        _workers = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1
        )
    try:
        return await asyncio.get_running_loop().run_in_executor(_workers, _export_in_worker, *args)
    except BrokenProcessPool:
        _workers = None
        raise
