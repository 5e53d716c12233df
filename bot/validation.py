"""Checks of what people type: each returns the normalised value, or None to re-ask."""

import re
import unicodedata

from storage.text import nfc

NAME_LENGTH = (2, 60)
_NAME_PUNCTUATION = frozenset(" .'-")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_MOBILE = re.compile(r"[35789]\d{8}")


def person_name(text: str) -> str | None:
    """A full name: at least two words ('Nguyễn Văn An', not 'quang'), as `a_name` checks."""
    name = a_name(text)
    return name if name is not None and len(name.split()) >= 2 else None


def a_name(text: str) -> str | None:
    """A name: 2 to 60 characters of letters, spaces and . ' - only, in `name_case`."""
    name = name_case(" ".join(nfc(text).split()))
    if not NAME_LENGTH[0] <= len(name) <= NAME_LENGTH[1]:
        return None
    if not all(c.isalpha() or _is_mark(c) or c in _NAME_PUNCTUATION for c in name):
        return None
    return name if sum(c.isalpha() for c in name) >= 2 else None


def name_case(name: str) -> str:
    """A name typed all in lower case with each word's first letter capitalised ('nguyen van an'
    -> 'Nguyen Van An', 'họ lê' -> 'Họ Lê'); any other name as typed ('McKay', 'Lê thị Lan')."""
    if name != name.lower():
        return name
    return " ".join(word[:1].upper() + word[1:] for word in name.split(" "))


def _is_mark(character: str) -> bool:
    return unicodedata.category(character).startswith("M")


def vietnamese_mobile(text: str) -> str | None:
    """A mobile number written 0xxxxxxxxx, +84xxxxxxxxx or 84xxxxxxxxx, as +84xxxxxxxxx."""
    digits = _PHONE_SEPARATORS.sub("", nfc(text))
    for prefix in ("+84", "84", "0"):
        if digits.startswith(prefix):
            rest = digits[len(prefix) :]
            if _MOBILE.fullmatch(rest):
                return "+84" + rest
    return None
