"""Text normalisation shared by everything that stores or compares what people type."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """NFC-normalise and trim, collapsing runs of white space to one space."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """A case-insensitive key that keeps diacritics: 'Thôn  ĐÔNG' and 'thôn đông' match."""
    return nfc(text).casefold()


def search_key(text: str) -> str:
    """A key without diacritics, case or extra spaces.

    Decomposing to NFD and dropping combining marks makes old and new tone-mark placement
    ('Hoà' / 'Hòa') and unaccented typing ('Hoa') compare equal; đ has no decomposition,
    so it is mapped to d by hand.
    """
    decomposed = unicodedata.normalize("NFD", nfc(text).casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.replace("đ", "d").split())  # a mark may have stood after a space
