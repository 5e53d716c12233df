"""Setting the dates of a province's programme year."""

from datetime import date

from storage import Storage
from storage.models import Area, Model, Person, Role
from storage.registrations import ProgrammeYear
from storage.usecases import COMMAND_LINE, NotAllowed, record


class DatesSet(Model):
    dates: ProgrammeYear  # as stored now, or as they would be when `problem` is set
    problem: str | None = None  # ProgrammeYear.problem() of the new dates: nothing was stored


async def set_date(
    storage: Storage, actor: Person, province: Area, year: int, field: str, day: date
) -> DatesSet:
    """Change one date (`field` of ProgrammeYear) of the province's year and audit it,
    together; nothing is stored when the dates would be out of order or outside the year.
    Administrators only."""
    if actor.role is not Role.ADMIN:
        raise NotAllowed(f"{actor.id} may not set programme years")
    return await set_dates(storage, actor, province, year, {field: day})


async def set_dates(
    storage: Storage, actor: Person | None, province: Area, year: int, changes: dict[str, date]
) -> DatesSet:
    """Change dates of the province's year (fields of ProgrammeYear) and audit it, together;
    nothing is stored when the dates would be out of order or outside the year. `actor`
    None: the command line."""
    async with storage.db.transaction():
        before = await storage.registrations.programme_year(province.code, year)
        after = before.model_copy(update=changes)
        problem = after.problem()
        if problem:
            return DatesSet(dates=after, problem=problem)
        await storage.registrations.set_programme_year(after)
        await record(
            storage,
            actor,
            "programme_year.set",
            "programme_year",
            f"{province.code}/{year}",
            area_id=province.id,
            before=before.model_dump(mode="json"),
            after=after.model_dump(mode="json") | ({} if actor else COMMAND_LINE),
        )
    return DatesSet(dates=after)
