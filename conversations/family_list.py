"""A list of families, or of clans, as a hamlet head has it, pasted or as a spreadsheet: read
and checked.

One family a line: the head's full name, then if known the number of people and of children of
school age, then an address and a phone. One clan a line: the clan's name, the clan head's full
name, then if known the number of households and the branch. The parts are separated by `,` `;`
a tab or " - ". A spreadsheet (the template from `template()`, or a CSV) has the same columns,
one family or clan a row. Nothing here talks to Telegram or storage: the dialog
(registration_bulk) does.
"""

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import xlsxwriter
from openpyxl import load_workbook

from bot.i18n import LOCALES, _, use_locale
from bot.validation import person_name, vietnamese_mobile
from conversations.registration_form import clan_name, free_text, whole_number
from storage.criteria import ModelKind
from storage.registrations import IDENTITY_FIELD, NewRegistration, Registration
from storage.text import nfc, search_key

SEPARATORS = re.compile(r"\t|;|,|\s+[-–]\s+")
# "12. ", "3) ", "4/ ", "5- " or a bullet ("- ", "• ", "* ", "+ ") before a name, as lists copied
# from Zalo or Word have them
NUMBERING = re.compile(r"^\s*(?:\d{1,4}(?:\s*[.)/-]|\t)|[-–•*+·])\s*")  # "1<tab>": an STT column
ORDINAL = re.compile(r"\d{1,4}[.)]?")  # a spreadsheet's STT cell
TRAILING_NUMBERS = re.compile(r"^(.*\D)\s+(\d{1,2})(?:\s+(\d{1,2}))?$")  # "Trần Bình 5 2"
COLUMNS = 5  # name, people, children, address, phone
CLAN_COLUMNS = 4  # clan, head, households, branch
MAX_ROWS = 1000  # a hamlet has about 250 households
MAX_FILE_BYTES = 2 * 1024 * 1024
# What people type after pasting a list ("cảm ơn", "xong rồi"): no family, though two words
CHAT_WORDS = frozenset(
    {"cam on", "xin cam on", "cam on nhe", "xong roi", "het roi", "da xong", "thank you"}
)
members = whole_number(1, 50)
children = whole_number(0, 50)
households = whole_number(1, 5000)


class Source(StrEnum):
    TEXT = "t"  # a pasted line: numbered by line
    FILE = "f"  # a spreadsheet row: numbered as in the sheet


class RowProblem(StrEnum):
    """What is wrong with one line of a list (a criteria set's is `storage.criteria.Problem`)."""

    NAME = "name"
    MEMBERS = "members"
    CHILDREN = "children"
    MORE_CHILDREN = "more_children"
    ADDRESS = "address"
    PHONE = "phone"
    TOO_MANY = "too_many"
    CLAN_NAME = "clan_name"
    CLAN_HEAD = "clan_head"
    HOUSEHOLDS = "households"
    BRANCH = "branch"
    TOO_MANY_CLAN = "too_many_clan"


class FileProblem(Exception):
    """A file that cannot be read as a list; the message says why, for the person."""


@dataclass(frozen=True)
class Row:
    number: int
    source: Source
    cells: tuple[str, ...]

    def to_json(self) -> list:
        return [self.number, self.source.value, list(self.cells)]

    @classmethod
    def from_json(cls, value: list) -> "Row":
        return cls(value[0], Source(value[1]), tuple(value[2]))

    @property
    def text(self) -> str:
        return ", ".join(cell for cell in self.cells if cell)


@dataclass
class ListCheck:
    """A list read against the hamlet's registrations of the year."""

    ready: list[tuple[Row, NewRegistration]] = field(default_factory=list)
    # The same name as a registration (its number) or an earlier row of the list (that row).
    duplicates: list[tuple[Row, NewRegistration, Registration | Row]] = field(default_factory=list)
    bad: list[tuple[Row, RowProblem]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return len(self.ready) + len(self.duplicates) + len(self.bad)


def split_line(line: str) -> tuple[str, ...]:
    line = unicodedata.normalize("NFC", line)  # not nfc(): it would turn the tabs into spaces
    parts = [nfc(part) for part in SEPARATORS.split(NUMBERING.sub("", line))]
    found = TRAILING_NUMBERS.match(parts[0]) if len(parts) == 1 else None
    if found:  # numbers after the name with spaces only, as typed on a phone
        parts = [part for part in found.groups() if part is not None]
    while parts and not parts[-1]:
        parts.pop()
    return tuple(parts)


def rows_from_text(text: str, first_number: int) -> list[Row]:
    """The non-blank lines of a pasted text, numbered on from `first_number`; the title line
    of a table copied from Excel ("STT, Họ và tên, …") is left out."""
    lines = [line for line in text.splitlines() if line.strip()]
    rows = [
        Row(first_number + index, Source.TEXT, split_line(line)) for index, line in enumerate(lines)
    ]
    return rows[1:] if first_number == 1 and rows and is_header(rows[0].cells) else rows


def is_header(cells: Sequence[str]) -> bool:
    """A table's title row: the template's (in either language), or one of a list made by hand
    ("STT", "Họ và tên", "Họ tên chủ hộ")."""
    key = search_key(cells[0]) if cells else ""
    return key in _header_keys() or key == "stt" or key.startswith(("ho ten", "ho va ten"))


def family(row: Row) -> NewRegistration | RowProblem:
    """The family a row describes, or what is wrong with it."""
    if len(row.cells) > COLUMNS:
        return RowProblem.TOO_MANY
    name, people, young, address, phone = (*row.cells, *[""] * (COLUMNS - len(row.cells)))
    answers = {"kind": ModelKind.FAMILY, "head_name": person_name(name)}
    if answers["head_name"] is None or len(name.split()) < 2 or search_key(name) in CHAT_WORDS:
        return RowProblem.NAME
    for key, text, read, problem in (
        ("members", people, members, RowProblem.MEMBERS),
        ("school_age_children", young, children, RowProblem.CHILDREN),
        ("address", address, free_text, RowProblem.ADDRESS),
        ("phone", phone, vietnamese_mobile, RowProblem.PHONE),
    ):
        if text:
            answers[key] = read(text)
            if answers[key] is None:
                return problem
    if (
        answers.get("members") is not None
        and answers.get("school_age_children", 0) > (answers["members"])
    ):
        return RowProblem.MORE_CHILDREN
    return NewRegistration(**answers)


def clan(row: Row) -> NewRegistration | RowProblem:
    """The clan a row describes, or what is wrong with it."""
    if len(row.cells) > CLAN_COLUMNS:
        return RowProblem.TOO_MANY_CLAN
    name, head, count, branch = (*row.cells, *[""] * (CLAN_COLUMNS - len(row.cells)))
    answers = {"kind": ModelKind.CLAN, "clan_name": clan_name(name)}
    if answers["clan_name"] is None or search_key(name) in CHAT_WORDS:
        return RowProblem.CLAN_NAME
    answers["head_name"] = person_name(head)
    if answers["head_name"] is None:
        return RowProblem.CLAN_HEAD
    for key, text, read, problem in (
        ("households", count, households, RowProblem.HOUSEHOLDS),
        ("branch", branch, free_text, RowProblem.BRANCH),
    ):
        if text:
            answers[key] = read(text)
            if answers[key] is None:
                return problem
    return NewRegistration(**answers)


READERS = {ModelKind.FAMILY: family, ModelKind.CLAN: clan}


def check_list(
    rows: list[Row], registered: dict[str, Registration], kind: ModelKind = ModelKind.FAMILY
) -> ListCheck:
    """Sort rows, read as families or clans, into ready, duplicates (by the name rule of
    `same_name`: the head's name, or the clan's) and bad ones."""
    result, seen, read = ListCheck(), {}, READERS[kind]
    for row in rows:
        found = read(row)
        if isinstance(found, RowProblem):
            result.bad.append((row, found))
            continue
        key = search_key(getattr(found, IDENTITY_FIELD[kind]))
        earlier = registered.get(key) or seen.get(key)
        if earlier is not None:
            result.duplicates.append((row, found, earlier))
        else:
            seen[key] = row
            result.ready.append((row, found))
    return result


def problem_text(problem: RowProblem) -> str:
    return {
        RowProblem.NAME: _("not a full name (family and given name, letters only, 2 to 60)"),
        RowProblem.MEMBERS: _("the number of people must be from 1 to 50"),
        RowProblem.CHILDREN: _("the number of children must be from 0 to 50"),
        RowProblem.MORE_CHILDREN: _("more children than people"),
        RowProblem.ADDRESS: _("the address is longer than 120 characters"),
        RowProblem.PHONE: _("not a Vietnamese mobile number"),
        RowProblem.TOO_MANY: _("too many parts (name, people, children, address, phone)"),
        RowProblem.CLAN_NAME: _("not a clan's name (letters only, e.g. Họ Nguyễn)"),
        RowProblem.CLAN_HEAD: _("no full name of the clan head after the clan's name"),
        RowProblem.HOUSEHOLDS: _("the number of households must be from 1 to 5000"),
        RowProblem.BRANCH: _("the branch is longer than 120 characters"),
        RowProblem.TOO_MANY_CLAN: _("too many parts (clan, clan head, households, branch)"),
    }[problem]


# --- spreadsheets ------------------------------------------------------------------------


def headers(kind: ModelKind = ModelKind.FAMILY) -> list[str]:
    if kind is ModelKind.CLAN:
        return [
            _("Name of the clan"),
            _("Full name of the clan head"),
            _("Households in the clan"),
            _("Branch (optional)"),
        ]
    return [
        _("Full name of the head of household"),
        _("Number of people"),
        _("Children of school age (6 to 18)"),
        _("Address (optional)"),
        _("Phone (optional)"),
    ]


def _header_keys() -> set[str]:
    keys = set()
    for locale in LOCALES:
        with use_locale(locale):
            keys |= {search_key(headers(kind)[0]) for kind in ModelKind}
    return keys


TEXT_FROM = 3  # the columns from here on are text: address and phone, or the branch


def _layout(kind: ModelKind) -> tuple[str, tuple[int, ...], tuple[str, ...]]:
    """The template's sheet name, its columns' widths and its notes, for `kind`."""
    if kind is ModelKind.CLAN:
        return (
            _("Clans"),
            (28, 32, 14, 30),
            (
                _("One clan a row, from the second row of the first sheet."),
                _(
                    "The clan's name and the clan head's full name are required; leave the "
                    "number of households empty if you do not know it."
                ),
            ),
        )
    return (
        _("Families"),
        (32, 12, 16, 30, 16),
        (
            _("One family a row, from the second row of the first sheet."),
            _("Only the full name is required; leave a number empty if you do not know it."),
        ),
    )


def template(kind: ModelKind = ModelKind.FAMILY) -> bytes:
    """The XLSX a hamlet head fills in: the headers in the person's language, then one family
    (or clan) a row; phone, address and branch are text, so Excel keeps a phone's leading 0."""
    sheet_name, widths, notes_text = _layout(kind)
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet(sheet_name[:31])
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    text = book.add_format({"num_format": "@"})
    for column, (title, width) in enumerate(zip(headers(kind), widths, strict=True)):
        sheet.write(0, column, title, bold)
        sheet.set_column(column, column, width, text if column >= TEXT_FROM else None)
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet(_("How to fill in")[:31])
    for line, note in enumerate(
        (*notes_text, _("Then send this file back to the bot, in the same chat."))
    ):
        notes.write(line, 0, note)
    notes.set_column(0, 0, 90)
    book.close()
    return out.getvalue()


def read_table(data: bytes, file_name: str) -> list[list[str]]:
    """The cells of an XLSX (first sheet) or CSV file as text, row by row."""
    if len(data) > MAX_FILE_BYTES:
        raise FileProblem(_("The file is too large; a list of families fits in 2 MB."))
    if file_name.lower().endswith(".xlsx"):
        return _read_xlsx(data)
    if file_name.lower().endswith(".csv"):
        return _read_csv(data)
    raise FileProblem(_("Please send the list as an Excel file (.xlsx) or a CSV file (.csv)."))


def _read_xlsx(data: bytes) -> list[list[str]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise FileProblem(_("I could not open this Excel file. Is it an .xlsx file?")) from error
    try:
        sheet = book.worksheets[0]
        table = []
        for cells in sheet.iter_rows(max_col=COLUMNS + 1, values_only=True):
            table.append([_cell_text(value, column) for column, value in enumerate(cells)])
            if len(table) > MAX_ROWS + 1:
                break
        return table
    finally:
        book.close()


def _cell_text(value: object, column: int) -> str:
    """A cell as typed: 5.0 is 5, and a phone Excel stored as a number gets its leading 0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and column == 4 and len(str(value)) == 9:
        return f"0{value}"
    return nfc(str(value))


def _read_csv(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "cp1258"):  # Excel's "CSV UTF-8", else a Windows Vietnamese CSV
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileProblem(_("I could not read this CSV file. Please save it as CSV UTF-8."))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [[nfc(cell) for cell in cells] for cells in csv.reader(io.StringIO(text), dialect)]


def rows_from_table(table: list[list[str]]) -> list[Row]:
    """A table's families with their row numbers, skipping blank rows and a header row."""
    rows = []
    for number, cells in enumerate(table, start=1):
        cells = [cell.strip() for cell in cells]
        while cells and not cells[-1]:
            cells.pop()
        if not cells or (number == 1 and is_header(cells)):
            continue
        if len(cells) > 1 and ORDINAL.fullmatch(cells[0]):  # an STT column before the name
            cells = cells[1:]
        rows.append(Row(number, Source.FILE, tuple(cells)))
    if len(rows) > MAX_ROWS:
        raise FileProblem(
            _("The file has more than {limit} rows; please split it.").format(limit=MAX_ROWS)
        )
    return rows
