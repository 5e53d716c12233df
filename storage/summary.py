"""Report figures: what /tongket, /thieu, /xuat and /bieudo count, as SQL aggregates.

The definitions, used everywhere the reports count (and nowhere else):

- **registered**: registrations of the year and kind whose status is not 'withdrawn';
- **evidence complete**: registered, and every indicator with `evidence_required` in the
  registration's criteria set has at least one evidence row (any status, pending downloads
  included: they are not lost);
- **assessed**: evidence complete, every evidence row of the registration has a review row,
  and none of those latest decisions is 'needs_more';
- **recognised** / **not recognised**: status 'recognised' / 'not_recognised'.

Which indicators a set requires is read from the sets themselves (few per year, kept in memory
by the criteria repository), once per report. Each table of figures is then ONE query grouped by
child area: the per-registration tests are correlated `EXISTS` probes into the
`evidence (registration_id, indicator_code)` index and the `evidence_reviews` primary key,
never a query per registration. /tongket writes the required codes into the SQL as a `CASE` on
the registration's set, probing one code after the other and stopping at the first missing
(`summary_complete`); /thieu, which also lists the missing codes, joins them as a `VALUES` list
of (criteria_set_id, indicator_code) in a common table expression (`COMPLETE`, `required_cte`).
`bench/summary_scale.py` times this at national scale.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from storage.criteria import ModelKind
from storage.criteria_repo import CriteriaRepository
from storage.db import Database
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

_SCOPE_COLUMN = {
    AreaLevel.PROVINCE: ("r.province_code", "code"),
    AreaLevel.COMMUNE: ("r.commune_code", "code"),
    AreaLevel.HAMLET: ("r.hamlet_id", "id"),
}
# The column naming a registration's child area, by the level of the area reported on.
_CHILD_COLUMN = {
    None: "r.province_code",
    AreaLevel.PROVINCE: "r.commune_code",
    AreaLevel.COMMUNE: "r.hamlet_id",
    AreaLevel.HAMLET: "r.hamlet_id",
}

# A registration's required indicators all have evidence. Needs the `req` CTE and `r`.
COMPLETE = (
    "NOT EXISTS (SELECT 1 FROM req WHERE req.set_id = r.criteria_set_id AND NOT EXISTS"
    " (SELECT 1 FROM evidence e WHERE e.registration_id = r.id"
    " AND e.indicator_code = req.code))"
)
# Every evidence row of the registration reviewed, none of the latest decisions 'needs_more'.
REVIEWED = (
    "NOT EXISTS (SELECT 1 FROM evidence e LEFT JOIN evidence_reviews v ON v.evidence_id = e.id"
    " WHERE e.registration_id = r.id AND (v.decision IS NULL OR v.decision = 'needs_more'))"
)


def summary_complete(required: dict[str, tuple[str, ...]]) -> tuple[str, list]:
    """The COMPLETE test as a CASE on `r.criteria_set_id`: for each set, one index probe per
    required code, stopping at the first one without evidence. A set requiring nothing, or
    not listed, is complete (as with COMPLETE). Twice as fast as COMPLETE at national scale:
    no scan of the `req` list per registration, and no probe after the first missing code."""
    branches, params = [], []
    for set_id, codes in sorted(required.items()):
        if not codes:
            continue
        probes = " ".join(
            "WHEN NOT EXISTS (SELECT 1 FROM evidence e WHERE e.registration_id = r.id"
            " AND e.indicator_code = ?) THEN 0"
            for _ in codes
        )
        branches.append(f"WHEN ? THEN CASE {probes} ELSE 1 END")
        params += [set_id, *codes]
    if not branches:
        return "1", []
    return f"(CASE r.criteria_set_id {' '.join(branches)} ELSE 1 END)", params


def scope(area: Area | None, year: int | tuple[int, ...]) -> tuple[str, list]:
    """WHERE clause (on alias `r`) for the registrations of the year (or years) in the area."""
    clause, params = year_clause("r.year", year)
    clauses = [clause]
    if area is not None:
        column, attribute = _SCOPE_COLUMN[area.level]
        clauses.append(f"{column} = ?")
        params.append(getattr(area, attribute))
    return " AND ".join(clauses), params


def required_cte(required: dict[str, tuple[str, ...]]) -> tuple[str, list]:
    """`req(set_id, code)` as a VALUES list (an empty table when no set requires anything)."""
    pairs = [(set_id, code) for set_id, codes in sorted(required.items()) for code in codes]
    if not pairs:
        return "req(set_id, code) AS (SELECT NULL, NULL WHERE 0)", []
    values = ", ".join("(?, ?)" for _ in pairs)
    return f"req(set_id, code) AS (VALUES {values})", [v for pair in pairs for v in pair]


class SummaryRepository:
    def __init__(self, db: Database, criteria: CriteriaRepository) -> None:
        self.db = db
        self.criteria = criteria

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
                f"SELECT {columns} FROM areas WHERE level = 'province' ORDER BY code"
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
        """The five figures per child area and kind, in one grouped query."""
        complete, params = summary_complete(await self.required())
        where, scope_params = scope(area, year)
        child = _CHILD_COLUMN[area.level if area else None]
        # state: 0 evidence incomplete, 1 complete, 2 complete and assessed (CASE stops early).
        # MATERIALIZED: flattened into the outer query, `state` would be computed once for each
        # SUM that reads it, every probe twice.
        sql = (
            "WITH counted AS MATERIALIZED ("
            f" SELECT {child} AS child, r.kind AS kind, r.status AS status,"
            f" CASE WHEN {complete} THEN 1 + ({REVIEWED}) ELSE 0 END AS state"
            f" FROM registrations r WHERE {where} AND r.status != 'withdrawn')"
            " SELECT child, kind, COUNT(*) AS registered,"
            " SUM(state >= 1) AS evidence_complete, SUM(state = 2) AS assessed,"
            " SUM(status = 'recognised') AS recognised,"
            " SUM(status = 'not_recognised') AS not_recognised"
            " FROM counted GROUP BY child, kind"
        )
        rows = await self.db.conn.execute_fetchall(sql, (*params, *scope_params))
        found: dict[str, dict[ModelKind, Counts]] = {}
        for row in rows:
            found.setdefault(str(row["child"]), {})[ModelKind(row["kind"])] = Counts(
                *(row[f] or 0 for f in FIGURES)
            )
        children = await self.child_areas(area)
        key = (lambda a: str(a.id)) if child == "r.hamlet_id" else (lambda a: a.code)
        figures = [AreaFigures(a, found.get(key(a), {})) for a in children]
        return Summary(area=area, year=year, rows=figures, taken_at=taken_at)

    # --- missing evidence ---------------------------------------------------------------------

    def _missing_sql(self, cte: str, where: str) -> str:
        missing_codes = (
            "(SELECT group_concat(req.code, ' ') FROM req WHERE req.set_id = r.criteria_set_id"
            " AND NOT EXISTS (SELECT 1 FROM evidence e WHERE e.registration_id = r.id"
            " AND e.indicator_code = req.code))"
        )
        return (
            f"WITH {cte}, missing AS (SELECT r.*, a.name AS hamlet_name,"
            " a.search_key AS hamlet_key,"
            f" {missing_codes} AS missing_codes"
            " FROM registrations r JOIN areas a ON a.id = r.hamlet_id"
            f" WHERE {where} AND r.status != 'withdrawn' AND NOT {COMPLETE})"
        )

    async def missing(
        self, area: Area | None, year: int | tuple[int, ...], offset: int = 0, limit: int = 10
    ) -> tuple[list[Missing], int]:
        """A page of the registered registrations missing required evidence, newest year first,
        by hamlet name (without diacritics) then number, each with the codes missing; and how
        many in all."""
        required = await self.required()
        cte, params = required_cte(required)
        where, scope_params = scope(area, year)
        base = self._missing_sql(cte, where)
        all_params = (*params, *scope_params)
        total = await self.db.conn.execute_fetchall(
            f"{base} SELECT COUNT(*) FROM missing", all_params
        )
        rows = await self.db.conn.execute_fetchall(
            f"{base} SELECT * FROM missing ORDER BY year DESC, hamlet_key, hamlet_id, number"
            " LIMIT ? OFFSET ?",
            (*all_params, limit, offset),
        )
        found = []
        for row in rows:
            codes = set((row["missing_codes"] or "").split())
            ordered = tuple(c for c in required.get(row["criteria_set_id"], ()) if c in codes)
            found.append(Missing(_registration(row), row["hamlet_name"], ordered))
        return found, total[0][0]

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
class Review:
    evidence_id: int
    indicator_code: str
    decision: str
    reason: str | None
    reviewer: str
    reviewed_at: datetime


@dataclass(frozen=True)
class Recognition:
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


class RegistrationFacts:
    """Reviews, recognition and history of one registration (a handful of indexed queries)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def reviews(self, registration_id: int) -> list[Review]:
        rows = await self.db.conn.execute_fetchall(
            "SELECT v.evidence_id, e.indicator_code, v.decision, v.reason,"
            " p.full_name AS reviewer, v.reviewed_at"
            " FROM evidence e JOIN evidence_reviews v ON v.evidence_id = e.id"
            " JOIN people p ON p.id = v.reviewer_id"
            " WHERE e.registration_id = ? ORDER BY e.indicator_code, e.id",
            (registration_id,),
        )
        return [
            Review(**(dict(row) | {"reviewed_at": datetime.fromisoformat(row["reviewed_at"])}))
            for row in rows
        ]

    async def recognition(self, registration_id: int) -> Recognition | None:
        rows = await self.db.conn.execute_fetchall(
            "SELECT x.result, x.decision_number, x.decision_date, p.full_name AS decided_by,"
            " x.decided_at FROM recognitions x JOIN people p ON p.id = x.decided_by"
            " WHERE x.registration_id = ?",
            (registration_id,),
        )
        if not rows:
            return None
        return Recognition(
            **(dict(rows[0]) | {"decided_at": datetime.fromisoformat(rows[0]["decided_at"])})
        )

    async def history(self, registration: Registration, limit: int = 8) -> list[HistoryEntry]:
        """The newest audit entries about the registration or its evidence photos (deleted
        ones too, found by their hamlet and the registration id they recorded), newest first."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT a.id, a.at, a.action, p.full_name AS actor FROM audit_log a"
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
            HistoryEntry(datetime.fromisoformat(row["at"]), row["action"], row["actor"])
            for row in rows
        ]
