"""The dashboard's registration list: filters by kind, status, missing evidence and name
(without diacritics), paged; the figures' own definitions come from `storage.summary`."""

from dataclasses import dataclass

from storage.criteria import ModelKind
from storage.db import Database
from storage.models import Area
from storage.registrations import Registration, Status, _registration
from storage.summary import COMPLETE, SummaryRepository, required_cte, scope
from storage.text import search_key


@dataclass(frozen=True)
class Listed:
    registration: Registration
    hamlet_name: str


@dataclass(frozen=True)
class Filters:
    kind: ModelKind | None = None
    status: Status | None = None
    missing: bool = False  # registered, and not evidence complete (what /thieu lists)
    text: str = ""


async def browse(
    db: Database,
    summary: SummaryRepository,
    area: Area | None,
    year: int,
    filters: Filters,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[Listed], int]:
    """A page of the area's registrations of the year by number, and how many match."""
    where, params = scope(area, year)
    cte, cte_params = "req(set_id, code) AS (SELECT NULL, NULL WHERE 0)", []
    if filters.kind is not None:
        where += " AND r.kind = ?"
        params.append(filters.kind.value)
    if filters.status is not None:
        where += " AND r.status = ?"
        params.append(filters.status.value)
    if filters.missing:
        cte, cte_params = required_cte(await summary.required())
        where += f" AND r.status != 'withdrawn' AND NOT {COMPLETE}"
    key = search_key(filters.text)
    if key:
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where += " AND r.name_key LIKE ? ESCAPE '\\'"
        params.append(f"%{escaped}%")
    base = f"WITH {cte} SELECT {{}} FROM registrations r WHERE {where}"
    all_params = (*cte_params, *params)
    total = await db.conn.execute_fetchall(base.format("COUNT(*)"), all_params)
    rows = await db.conn.execute_fetchall(
        base.format("r.*, (SELECT name FROM areas a WHERE a.id = r.hamlet_id) AS hamlet_name")
        + " ORDER BY r.number LIMIT ? OFFSET ?",
        (*all_params, limit, offset),
    )
    return [Listed(_registration(row), row["hamlet_name"]) for row in rows], total[0][0]
