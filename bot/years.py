"""Which programme years people work on: one rule for every dialog and job.

A programme year's registration closes on its `registration_close` (31/01 by default). From
the next-year date (`HOCTAP_NEXT_YEAR_FROM`, 01/12 by default), once this year's registration
has closed, new registrations go to the next year, so in December 2026 a family registers for
2027. Registrations of both years are then worked on ("open years"): the current year's are
assessed and recognised, the next year's take evidence and self-assessments. Staff reports
keep the current year (December is its recognition time).
"""

from dataclasses import dataclass
from datetime import date

from bot.i18n import _
from storage import Storage
from storage.models import Area


@dataclass(frozen=True)
class RegistrationYear:
    """The year a new registration goes to, or None while registration is closed; then
    `closed_on` (this year's close) and `opens_on` (the next-year date) say when."""

    year: int | None
    this_year: int
    closed_on: date
    opens_on: date

    def closed_text(self) -> str:
        """When registration closed, when it reopens and who can reopen it now."""
        return _(
            "Registration for {year} closed on {closed:%d/%m/%Y}. Registration for {next} opens on "
            "{opens:%d/%m/%Y}.\nTo reopen it now, an administrator changes the closing date with "
            "/namhoc."
        ).format(
            year=self.this_year, closed=self.closed_on, next=self.this_year + 1, opens=self.opens_on
        )


async def registration_year(
    storage: Storage, settings, province_code: str, today: date
) -> RegistrationYear:
    """Today.year while its registration is open in the province; today.year + 1 once it has
    closed, the next-year date has come and next year's close has not passed; else None."""
    dates = await storage.registrations.programme_year(province_code, today.year)
    opens = settings.next_year_opens(today.year)
    year = None
    if today <= dates.registration_close:
        year = today.year
    elif opens <= today:
        following = await storage.registrations.programme_year(province_code, today.year + 1)
        if today <= following.registration_close:
            year = today.year + 1
    return RegistrationYear(year, today.year, dates.registration_close, opens)


async def closed_for(
    storage: Storage, settings, province_code: str, year: int, today: date
) -> str | None:
    """Why a registration for `year` begun earlier (a draft) can no longer be made today in the
    province, or None when `year` is still the year new registrations go to."""
    choice = await registration_year(storage, settings, province_code, today)
    if choice.year == year:
        return None
    if choice.year is None:
        return choice.closed_text()
    dates = await storage.registrations.programme_year(province_code, year)
    return _("Registration for {year} closed on {date:%d/%m/%Y}.").format(
        year=year, date=dates.registration_close
    )


async def open_years(storage: Storage, settings, area: Area | None, today: date) -> tuple[int, ...]:
    """The years people of `area` work on, newest first: the current year, and the next one
    once registration for it has opened in the area's province (for the whole country: from
    the next-year date, as some province may have opened it)."""
    if area is None:
        opened = today >= settings.next_year_opens(today.year)
    else:
        choice = await registration_year(storage, settings, area.province_code, today)
        opened = choice.year == today.year + 1
    return (today.year + 1, today.year) if opened else (today.year,)


def years_label(years: tuple[int, ...]) -> str:
    """'2027, 2026' for a title that covers the open years."""
    return ", ".join(str(year) for year in years)
