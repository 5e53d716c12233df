"""The questions of a registration, as data: what is asked, how an answer is read, in order.

The /dangky dialog walks these one at a time; /danhsach uses the same ones to edit an answer.
"""

from collections.abc import Callable
from dataclasses import dataclass

from bot.i18n import LazyString, _, format_number
from bot.i18n import __ as _l
from bot.labels import kind_label as kind_label  # re-exported
from bot.labels import status_name as status_name
from bot.validation import a_name, person_name, vietnamese_mobile
from storage.criteria import ModelKind
from storage.text import nfc

MAX_FREE_TEXT = 120


def clan_name(text: str) -> str | None:
    """A clan's name such as 'Họ Nguyễn': a name, allowed to be short ('Họ Lê')."""
    return a_name(text)


def free_text(text: str) -> str | None:
    value = nfc(text)
    return value if 0 < len(value) <= MAX_FREE_TEXT and value.isprintable() else None


def whole_number(low: int, high: int) -> Callable[[str], int | None]:
    def read(text: str) -> int | None:
        digits = nfc(text).replace(" ", "").replace(".", "")
        if not digits.isdigit() or len(digits) > 6:
            return None
        value = int(digits)
        return value if low <= value <= high else None

    return read


@dataclass(frozen=True)
class Field:
    key: str
    question: LazyString
    read: Callable[[str], object]
    problem: LazyString
    optional: bool = False
    # The largest allowed value is another answer: school-age children cannot outnumber members.
    at_most: str | None = None
    # Answered by tapping a number from `low_button` up to this (the largest allowed, if less).
    buttons_up_to: int | None = None
    low_button: int = 0

    def accept(self, text: str, answers: dict) -> object | None:
        value = self.read(text)
        if value is None or (self.at_most and value > answers.get(self.at_most, value)):
            return None
        return value


_NAME_PROBLEM = _l(
    "Sorry, that does not look like a full name. Please type the family name and the given "
    "name, at least two words, e.g. Nguyễn Văn An: letters, spaces and the signs . ' - only."
)
_PHONE_PROBLEM = _l(
    "Sorry, that is not a Vietnamese mobile number. Please type 10 digits starting with 0, "
    "for example 0912345678, or tap Skip."
)

FAMILY_FIELDS = (
    Field(
        "head_name",
        _l("What is the full name of the head of the household?"),
        person_name,
        _NAME_PROBLEM,
    ),
    Field(
        "members",
        _l("How many people live in the household? Tap a number, or type it."),
        whole_number(1, 50),
        _l("Please type the number of people as digits, from 1 to 50."),
        buttons_up_to=10,
        low_button=1,
    ),
    Field(
        "school_age_children",
        _l("How many of them are children of school age (6 to 18 years)? Tap a number."),
        whole_number(0, 50),
        _l("Please type a number from 0 up to the number of people in the household."),
        at_most="members",
        buttons_up_to=10,
    ),
    Field(
        "address",
        _l("Address within the hamlet (house number, lane)? Type it, or tap Skip."),
        free_text,
        _l("Please type the address in at most 120 characters, or tap Skip."),
        optional=True,
    ),
    Field(
        "phone",
        _l("The household's phone number? Type it, or tap Skip."),
        vietnamese_mobile,
        _PHONE_PROBLEM,
        optional=True,
    ),
)

CLAN_FIELDS = (
    Field(
        "clan_name",
        _l("What is the clan's name? For example: Họ Nguyễn"),
        clan_name,
        _l("Please type the clan's name in letters, for example: Họ Nguyễn"),
    ),
    Field(
        "branch",
        _l("Which branch (chi, nhánh) of the clan? Type it, or tap Skip."),
        free_text,
        _l("Please type the branch in at most 120 characters, or tap Skip."),
        optional=True,
    ),
    Field(
        "head_name",
        _l("What is the full name of the clan head (trưởng họ)?"),
        person_name,
        _NAME_PROBLEM,
    ),
    Field(
        "households",
        _l("How many households belong to the clan? Please type a number."),
        whole_number(1, 5000),
        _l("Please type the number of households as digits, from 1 to 5000."),
    ),
)

FIELDS = {ModelKind.FAMILY: FAMILY_FIELDS, ModelKind.CLAN: CLAN_FIELDS}


def field(kind: ModelKind, key: str) -> Field:
    return next(f for f in FIELDS[kind] if f.key == key)


def lowered_below(kind: ModelKind, answers: dict, key: str, value: object) -> str | None:
    """Why a changed answer cannot bound another below what it already is (fewer members than
    school-age children); None when it can."""
    for other in FIELDS[kind]:
        bounded = answers.get(other.key)
        if other.at_most == key and bounded is not None and value < bounded:
            return _(
                "That is fewer than the {label} already given ({count}). Please type a number of "
                "at least {count}, or change that answer first."
            ).format(label=answer_label(kind, other.key).lower(), count=bounded)
    return None


# --- words shared by the dialogs that show registrations ---------------------------------


def kind_name(kind: ModelKind) -> str:
    return {ModelKind.FAMILY: _("learning family"), ModelKind.CLAN: _("learning clan")}[kind]


def answer_label(kind: ModelKind, key: str) -> str:
    if key == "head_name":
        return _("Head of household") if kind is ModelKind.FAMILY else _("Clan head")
    return {
        "members": _("Members"),
        "school_age_children": _("Children of school age"),
        "address": _("Address"),
        "phone": _("Phone"),
        "clan_name": _("Clan"),
        "branch": _("Branch"),
        "households": _("Households"),
    }[key]


def answer_text(value: object) -> str:
    if value is None or value == "":
        return "—"
    return format_number(value) if isinstance(value, int) else str(value)


def record(kind: ModelKind, key: str, value: object) -> str:
    """The one line an answered question is shortened to."""
    return f"✔️ {answer_label(kind, key)}: {answer_text(value)}"
