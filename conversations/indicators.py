"""Indicators as people see them: a short name instead of the code, required ones marked."""

from bot.i18n import _, current_locale
from storage.criteria import CriteriaSet, Indicator

REQUIRED_MARK = "*"
FALLBACK_LENGTH = 30


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def short_name(indicator: Indicator) -> str:
    """The indicator's short name; for a set written without one, its text cut short."""
    locale = current_locale()
    if indicator.short is not None:
        return indicator.short.get(locale)
    return shorten(indicator.text.get(locale), FALLBACK_LENGTH)


def marked_name(indicator: Indicator) -> str:
    """The short name, with the mark of an indicator that requires evidence photos."""
    name = short_name(indicator)
    return f"{name} {REQUIRED_MARK}" if indicator.evidence_required else name


def names_by_code(criteria: CriteriaSet | None) -> dict[str, str]:
    """Every indicator's short name by its code (none for a set no longer stored)."""
    return {i.code: short_name(i) for i in criteria.all_indicators()} if criteria else {}


def required_legend() -> str:
    return _("{mark} an evidence photo is required").format(mark=REQUIRED_MARK)
