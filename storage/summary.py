"""Report figures: what /tongket, /thieu, /xuat and /bieudo count.

The definitions (the evidence rule itself is in `storage.evidence_state`):

- **registered**: registrations of the year and kind whose status is not 'withdrawn';
- **evidence complete**: registered, and no evidence-required indicator is `missing`;
- **assessed**: registered, and every evidence-required indicator is `accepted`;
- **recognised** / **not recognised**: status 'recognised' / 'not_recognised'.

/tongket and the export's summary read the tallies that the database keeps per year, area and
kind in the same transaction as every write (one row per child area: the cost depends on the
number of areas, not of registrations). /thieu lists the registrations whose kept evidence state
is incomplete, with the codes the rule finds missing.
"""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from storage.area_scope import within
from storage.criteria import ModelKind
from storage.criteria_repo import CriteriaRepository
from storage.db import Database
from storage.evidence_state import (
    INCOMPLETE_SQL,
    IndicatorState,
    TallyRepository,
    codes_in_state_sql,
)
from storage.models import Area, AreaLevel
from storage.registrations import Registration, _registration, year_clause

KINDS = (ModelKind.FAMILY, ModelKind.CLAN)
FIGURES = ("registered", "evidence_complete", "assessed", "recognised", "not_recognised")


@dataclass(frozen=True)
class Counts:
    registered: int = 0
    evidence_complete: int = 0
    assessed: int = 0
    recognised: int = 0
    not_recognised: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(*(getattr(self, f) + getattr(other, f) for f in FIGURES))

    def as_tuple(self) -> tuple[int, ...]:
        return tuple(getattr(self, f) for f in FIGURES)


@dataclass(frozen=True)
class AreaFigures:
    """One child area's figures, per model kind."""

    area: Area
    by_kind: dict[ModelKind, Counts]

    def of(self, kind: ModelKind) -> Counts:
        return self.by_kind.get(kind, Counts())

    @property
    def both(self) -> Counts:
        return self.of(ModelKind.FAMILY) + self.of(ModelKind.CLAN)


@dataclass(frozen=True)
class Summary:
    area: Area | None  # None: the whole country
    year: int
    rows: list[AreaFigures]
    taken_at: datetime = field(compare=False)

    def total(self, kind: ModelKind) -> Counts:
        total = Counts()
        for row in self.rows:
            total += row.of(kind)
        return total


@dataclass(frozen=True)
class Missing:
    """A registered registration with required indicators that have no evidence yet."""

    registration: Registration
    hamlet_name: str
    codes: tuple[str, ...]  # in the criteria set's order


# --- SQL pieces ----------------------------------------------------------------------------


def scope(area: Area | None, year: int | tuple[int, ...]) -> tuple[str, list]:
    """WHERE clause (on alias `r`) for the registrations of the year (or years) in the area."""
    clause, params = year_clause("r.year", year)
    clauses = [clause]
    if area is not None:
        clause, values = within(area, "r")
        clauses.append(clause)
        params += values
    return " AND ".join(clauses), params


class SummaryRepository:
    def __init__(self, db: Database, criteria: CriteriaRepository) -> None:
        self.db = db
        self.criteria = criteria
        self.tallies = TallyRepository(db)

    async def required(self) -> dict[str, tuple[str, ...]]:
        """Per stored family or clan criteria set: the codes of its evidence-required indicators,
        in the set's order. Stored sets are few and never change; each is read once."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT id FROM criteria_sets WHERE model_kind IN ('family', 'clan') ORDER BY id"
        )
        required = {}
        for row in rows:
            stored = await self.criteria.get(row["id"])
            required[row["id"]] = tuple(
                i.code for i in stored.criteria_set.all_indicators() if i.evidence_required
            )
        return required

    async def child_areas(self, area: Area | None) -> list[Area]:
        """What a report on `area` has one row for: the provinces of the country, the communes
        of a province, the hamlets of a commune; a hamlet is its own only row."""
        conn = self.db.conn
        columns = "id, level, code, name, parent_id, province_code, commune_code"
        if area is None:
            rows = await conn.execute_fetchall(
                f"SELECT {columns} FROM areas WHERE level = 'province' AND code IS NOT NULL"
                " ORDER BY code"  # `code IS NOT NULL`: the partial index of official codes
            )
        elif area.level is AreaLevel.HAMLET:
            return [area]
        else:
            rows = await conn.execute_fetchall(
                f"SELECT {columns} FROM areas WHERE parent_id = ? ORDER BY search_key, name",
                (area.id,),
            )
        return [Area.model_validate(dict(row)) for row in rows]

    async def summary(self, area: Area | None, year: int, taken_at: datetime) -> Summary:
        """The five figures per child area and kind, added up from the tallies (one row per
        child area and kind, kept by the database with every write; see
        `storage.evidence_state`)."""
        found = await self.tallies.children(area, year)
        children = await self.child_areas(area)
        hamlets = area is not None and area.level in (AreaLevel.COMMUNE, AreaLevel.HAMLET)
        key = (lambda a: str(a.id)) if hamlets else (lambda a: a.code)
        figures = [
            AreaFigures(
                a,
                {
                    ModelKind(kind): Counts(*values)
                    for kind, values in found.get(key(a), {}).items()
                    if kind in {k.value for k in KINDS}
                },
            )
            for a in children
        ]
        return Summary(area=area, year=year, rows=figures, taken_at=taken_at)

    # --- missing evidence ---------------------------------------------------------------------

    async def missing(
        self, area: Area | None, year: int | tuple[int, ...], offset: int = 0, limit: int = 10
    ) -> tuple[list[Missing], int]:
        """A page of the registered registrations not evidence complete, newest year first, by
        hamlet name (without diacritics) then number, each with its missing codes; and how many
        in all (from the tallies, so that a country's count reads a few rows)."""
        required = await self.required()
        where, params = scope(area, year)
        base = (
            "FROM registrations r JOIN areas a ON a.id = r.hamlet_id"
            f" WHERE {where} AND r.status != 'withdrawn' AND {INCOMPLETE_SQL}"
        )
        missing_codes = codes_in_state_sql((IndicatorState.MISSING,))
        rows = await self.db.conn.execute_fetchall(
            f"SELECT r.*, a.name AS hamlet_name, {missing_codes} AS missing_codes {base}"
            " ORDER BY r.year DESC, a.search_key, r.hamlet_id, r.number LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        found = []
        for row in rows:
            codes = set((row["missing_codes"] or "").split())
            ordered = tuple(c for c in required.get(row["criteria_set_id"], ()) if c in codes)
            found.append(Missing(_registration(row), row["hamlet_name"], ordered))
        # How many in all, from the tallies: registered minus evidence complete.
        total = 0
        for one_year in year if isinstance(year, tuple) else (year,):
            tallies = await self.tallies.children(area, one_year)
            total += sum(f[0] - f[1] for by_kind in tallies.values() for f in by_kind.values())
        return found, total

    # --- per-registration rows, for the export ------------------------------------------------

    async def _stream(self, sql: str, params: tuple) -> AsyncIterator:
        async with self.db.conn.execute(sql, params) as cursor:
            async for row in cursor:
                yield row

    def registrations(self, area: Area | None, year: int) -> AsyncIterator:
        """Every registration of the year in the area (withdrawn too), by number, with its
        hamlet and commune names and its self-assessment as 'code=value;…' text."""
        where, params = scope(area, year)
        sql = (
            "SELECT r.*, h.name AS hamlet_name, c.name AS commune_name,"
            " p.name AS province_name,"
            " (SELECT group_concat(s.indicator_code || '=' || s.value, ';')"
            "  FROM self_assessments s WHERE s.registration_id = r.id) AS assessment,"
            " x.result AS recognition_result, x.decision_number, x.decision_date"
            " FROM registrations r JOIN areas h ON h.id = r.hamlet_id"
            " LEFT JOIN areas c ON c.level = 'commune' AND c.code = r.commune_code"
            " LEFT JOIN areas p ON p.level = 'province' AND p.code = r.province_code"
            " LEFT JOIN recognitions x ON x.registration_id = r.id"
            f" WHERE {where} ORDER BY r.number"
        )
        return self._stream(sql, tuple(params))

    def evidence(self, area: Area | None, year: int) -> AsyncIterator:
        """Every evidence row of the area's registrations of the year, by number, indicator
        and id, with the uploader's name and the latest review decision."""
        where, params = scope(area, year)
        sql = (
            "SELECT r.number, e.id, e.indicator_code, e.status, e.sha256, e.path, e.flags,"
            " e.message_date, e.created_at, p.full_name AS uploader,"
            " v.decision, v.reason, v.reviewed_at"
            " FROM registrations r JOIN evidence e ON e.registration_id = r.id"
            " JOIN people p ON p.id = e.uploaded_by"
            " LEFT JOIN evidence_reviews v ON v.evidence_id = e.id"
            f" WHERE {where} ORDER BY r.number, e.indicator_code, e.id"
        )
        return self._stream(sql, tuple(params))


# --- one registration, for /tinhtrang ---------------------------------------------------------


@dataclass(frozen=True)
class ReviewFact:
    """A photo's review as /tinhtrang shows it (the stored row is `storage.reviews.Review`)."""

    evidence_id: int
    indicator_code: str
    decision: str
    reason: str | None
    reviewer: str
    reviewed_at: datetime


@dataclass(frozen=True)
class RecognitionFact:
    """A decision as /tinhtrang shows it (the stored row is `storage.reviews.Recognition`)."""

    result: str
    decision_number: str | None
    decision_date: str | None
    decided_by: str
    decided_at: datetime


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    action: str
    actor: str | None
    after: dict | None = None  # what the entry recorded after the change


class RegistrationFacts:
    """Reviews, recognition and history of one registration (a handful of indexed queries)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def reviews(self, registration_id: int) -> list[ReviewFact]:
        rows = await self.db.conn.execute_fetchall(
            "SELECT v.evidence_id, e.indicator_code, v.decision, v.reason,"
            " p.full_name AS reviewer, v.reviewed_at"
            " FROM evidence e JOIN evidence_reviews v ON v.evidence_id = e.id"
            " JOIN people p ON p.id = v.reviewer_id"
            " WHERE e.registration_id = ? ORDER BY e.indicator_code, e.id",
            (registration_id,),
        )
        return [
            ReviewFact(**(dict(row) | {"reviewed_at": datetime.fromisoformat(row["reviewed_at"])}))
            for row in rows
        ]

    async def recognition(self, registration_id: int) -> RecognitionFact | None:
        rows = await self.db.conn.execute_fetchall(
            "SELECT x.result, x.decision_number, x.decision_date, p.full_name AS decided_by,"
            " x.decided_at FROM recognitions x JOIN people p ON p.id = x.decided_by"
            " WHERE x.registration_id = ?",
            (registration_id,),
        )
        if not rows:
            return None
        return RecognitionFact(
            **(dict(rows[0]) | {"decided_at": datetime.fromisoformat(rows[0]["decided_at"])})
        )

    async def history(self, registration: Registration, limit: int = 8) -> list[HistoryEntry]:
        """The newest audit entries about the registration or its evidence photos (deleted
        ones too, found by their hamlet and the registration id they recorded), newest first."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT a.id, a.at, a.action, p.full_name AS actor, a.after FROM audit_log a"
            " LEFT JOIN people p ON p.id = a.actor_id WHERE a.id IN ("
            " SELECT id FROM audit_log WHERE subject_type = 'registration' AND subject_id = ?"
            " UNION SELECT id FROM audit_log WHERE subject_type = 'evidence' AND subject_id IN"
            "  (SELECT CAST(id AS TEXT) FROM evidence WHERE registration_id = ?)"
            " UNION SELECT id FROM audit_log WHERE area_id = ? AND subject_type = 'evidence'"
            "  AND json_extract(before, '$.registration_id') = ?)"
            " ORDER BY a.id DESC LIMIT ?",
            (
                str(registration.id),
                registration.id,
                registration.hamlet_id,
                registration.id,
                limit,
            ),
        )
        return [
            HistoryEntry(
                datetime.fromisoformat(row["at"]),
                row["action"],
                row["actor"],
                json.loads(row["after"]) if row["after"] else None,
            )
            for row in rows
        ]
