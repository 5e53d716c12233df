"""The dashboard's registration list: filters by kind, status, missing evidence and name
(without diacritics), paged; 'missing evidence' is the one rule of `storage.evidence_state`."""

from dataclasses import dataclass

from storage.criteria import ModelKind
from storage.db import Database
from storage.evidence_state import INCOMPLETE_SQL
from storage.models import Area
from storage.registrations import Registration, Status, _registration
from storage.summary import scope
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
    area: Area | None,
    year: int,
    filters: Filters,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[Listed], int]:
    """A page of the area's registrations of the year by number, and how many match."""
    where, params = scope(area, year)
    if filters.kind is not None:
        where += " AND r.kind = ?"
        params.append(filters.kind.value)
    if filters.status is not None:
        where += " AND r.status = ?"
        params.append(filters.status.value)
    if filters.missing:
        where += f" AND r.status != 'withdrawn' AND {INCOMPLETE_SQL}"
    key = search_key(filters.text)
    if key:
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where += " AND r.name_key LIKE ? ESCAPE '\\'"
        params.append(f"%{escaped}%")
    base = f"SELECT {{}} FROM registrations r WHERE {where}"
    all_params = tuple(params)
    total = await db.conn.execute_fetchall(base.format("COUNT(*)"), all_params)
    rows = await db.conn.execute_fetchall(
        base.format("r.*, (SELECT name FROM areas a WHERE a.id = r.hamlet_id) AS hamlet_name")
        + " ORDER BY r.number LIMIT ? OFFSET ?",
        (*all_params, limit, offset),
    )
    return [Listed(_registration(row), row["hamlet_name"]) for row in rows], total[0][0]
