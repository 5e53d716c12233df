"""Translations: gettext catalogues compiled in memory, the locale held per update.

The locale lives in a ContextVar that the gate sets at the start of every update, so two
people's updates never see each other's language. Module-level labels use `lazy_gettext`,
which translates when the text is needed rather than at import.
"""

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache, lru_cache
from importlib import resources

from babel import Locale
from babel.dates import format_datetime as _format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
DOMAIN = "messages"
_BABEL_LOCALE = {"vi": "vi_VN", "en": "en_US"}

_locale: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


def catalogue_path(locale: str):
    return resources.files("locales") / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> Translations:
    """The compiled catalogue of a locale, built from its .po once per process."""
    with catalogue_path(locale).open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def current_locale() -> str:
    return _locale.get()


def set_locale(locale: str) -> None:
    _locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _locale.reset(token)


def locale_of(language_code: str | None) -> str:
    """Our locale for a Telegram language code such as 'en-US'."""
    language = (language_code or "").replace("-", "_").split("_")[0].lower()
    return language if language in LOCALES else DEFAULT_LOCALE


def language_name(locale: str) -> str:
    """A language in its own words ('Tiếng Việt', 'English'), as a language picker shows it."""
    name = Locale.parse(locale).display_name
    return name[:1].upper() + name[1:]


@cache
def _translated(locale: str) -> dict[str, str]:
    """The translations of a locale looked up so far (catalogues do not change at run time)."""
    return {}


def gettext(message: str) -> str:
    locale = current_locale()
    known = _translated(locale)
    text = known.get(message)
    if text is None:
        if len(known) > 4096:  # a text built at run time passed to gettext: keep it bounded
            known.clear()
        text = known[message] = translations(locale).gettext(message)
    return text


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_locale()).ngettext(singular, plural, n)


_ = gettext


class LazyString:
    """A message translated each time it is turned into text."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __str__(self) -> str:
        return gettext(self.message)

    def __repr__(self) -> str:
        return f"LazyString({self.message!r})"

    def format(self, *args: object, **kwargs: object) -> str:
        return str(self).format(*args, **kwargs)


def lazy_gettext(message: str) -> LazyString:
    return LazyString(message)


__ = lazy_gettext


def format_number(value: float) -> str:
    return _format_decimal(value, _BABEL_LOCALE[current_locale()])


@lru_cache(maxsize=4096, typed=True)
def _format_decimal(value: float, locale: str) -> str:
    """babel's format_decimal, remembered: the same few counts come back on every screen."""
    return format_decimal(value, locale=locale)


def format_share(part: int, whole: int) -> str:
    """`part` of `whole` as a percentage; 0 % when there is no whole."""
    ratio = part / whole if whole else 0
    return format_percent(ratio, locale=_BABEL_LOCALE[current_locale()])


def format_moment(moment: datetime, tzinfo) -> str:
    return _format_datetime(
        moment, "HH:mm dd/MM/yyyy", tzinfo=tzinfo, locale=_BABEL_LOCALE[current_locale()]
    )
