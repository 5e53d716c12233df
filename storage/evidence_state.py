"""The one evidence-state rule, and the tallies that count by it.

Per indicator of a registration's criteria set:

- **accepted**: at least one of its photos has an accepted latest decision;
- **needs_more**: none accepted, and the latest decision on some photo is "needs more";
- **waiting**: photos exist and none is decided;
- **missing**: no photo.

A later accepted photo therefore supersedes an earlier "needs more" on the same indicator. A
registration is **evidence complete** when no evidence-required indicator is missing, and
**assessed** when every evidence-required indicator is accepted.

The rule is written once, as the SQL views `indicator_states` and `registration_evidence` of
migration 0012; triggers keep its result in `registrations.evidence_state` and move the
registration between the `tallies` in the same statement as any write to a registration, a
photo or a review (so in the caller's transaction, whichever storage function or dialog
writes). Every surface (/tinhtrang, /tongket, /thieu, /congnhan, /xuat, /bieudo, the digest and
the reminders) reads the rule through this module; `TallyRepository.check` recounts from the
rows with the views and compares.
"""

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from storage.db import Database
from storage.models import Area, AreaLevel


class IndicatorState(StrEnum):
    ACCEPTED = "accepted"
    NEEDS_MORE = "needs_more"
    WAITING = "waiting"
    MISSING = "missing"


class EvidenceState(IntEnum):
    """`registrations.evidence_state`."""

    INCOMPLETE = 0
    COMPLETE = 1  # no required indicator missing
    ASSESSED = 2  # every required indicator accepted


# SQL tests on a registration aliased `r`, by the maintained state.
COMPLETE_SQL = f"r.evidence_state >= {EvidenceState.COMPLETE.value}"
ASSESSED_SQL = f"r.evidence_state = {EvidenceState.ASSESSED.value}"
INCOMPLETE_SQL = f"r.evidence_state = {EvidenceState.INCOMPLETE.value}"


def codes_in_state_sql(states: tuple[IndicatorState, ...]) -> str:
    """The required codes of registration `r` in one of `states`, space-separated."""
    names = ", ".join(f"'{s.value}'" for s in states)
    return (
        "(SELECT group_concat(s.indicator_code, ' ') FROM indicator_states s"
        f" WHERE s.registration_id = r.id AND s.required AND s.state IN ({names}))"
    )


@dataclass(frozen=True)
class IndicatorStatus:
    code: str
    required: bool
    state: IndicatorState


class EvidenceStates:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def of_registration(self, registration_id: int) -> list[IndicatorStatus]:
        """Every indicator of the registration's set, in the set's order, with its state."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT indicator_code, required, state FROM indicator_states"
            " WHERE registration_id = ? ORDER BY position",
            (registration_id,),
        )
        return [IndicatorStatus(r[0], bool(r[1]), IndicatorState(r[2])) for r in rows]

    async def state(self, registration_id: int) -> EvidenceState:
        rows = await self.db.conn.execute_fetchall(
            "SELECT evidence_state FROM registrations WHERE id = ?", (registration_id,)
        )
        return EvidenceState(rows[0][0]) if rows else EvidenceState.INCOMPLETE


# --- tallies ----------------------------------------------------------------------------------

TALLY_FIGURES = ("registered", "evidence_complete", "assessed", "recognised", "not_recognised")

# Where a report on an area (None: the country) finds its child areas' tallies.
_LEVEL_OF_CHILDREN = {
    None: "province",
    AreaLevel.PROVINCE: "commune",
    AreaLevel.COMMUNE: "hamlet",
    AreaLevel.HAMLET: "hamlet",
}

# The recount: the same figures straight from the rows, through the rule's view.
_RECOUNT = (
    "SELECT r.year, r.hamlet_id, r.commune_code, r.province_code, r.kind,"
    " COUNT(*) AS registered, SUM(x.state >= 1) AS evidence_complete,"
    " SUM(x.state = 2) AS assessed, SUM(r.status = 'recognised') AS recognised,"
    " SUM(r.status = 'not_recognised') AS not_recognised"
    " FROM registrations r JOIN registration_evidence x ON x.registration_id = r.id"
    " WHERE r.status != 'withdrawn' {year}"
    " GROUP BY r.year, r.hamlet_id, r.commune_code, r.province_code, r.kind"
)


@dataclass(frozen=True)
class TallyDifference:
    year: int
    level: str
    area: str
    kind: str
    stored: tuple[int, ...]
    counted: tuple[int, ...]

    def __str__(self) -> str:
        pairs = ", ".join(
            f"{name} {s} (counted {c})"
            for name, s, c in zip(TALLY_FIGURES, self.stored, self.counted, strict=True)
            if s != c
        )
        return f"{self.year} {self.level} {self.area} {self.kind}: {pairs}"


class TallyRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def children(self, area: Area | None, year: int) -> dict[str, dict[str, tuple]]:
        """The tallies of the area's child areas: {child key: {kind: five figures}}; the key
        is the hamlet id (as text) for hamlets, else the official code."""
        level = _LEVEL_OF_CHILDREN[area.level if area else None]
        sql = (
            f"SELECT area, kind, {', '.join(TALLY_FIGURES)} FROM tallies"
            " WHERE year = ? AND level = ? AND parent = ?"
        )
        if area is None:
            params: tuple = (year, level, "")
        elif area.level in (AreaLevel.PROVINCE, AreaLevel.COMMUNE):
            params = (year, level, area.code)
        else:
            sql += " AND area = ?"
            params = (year, level, area.commune_code, str(area.id))
        rows = await self.db.conn.execute_fetchall(sql, params)
        found: dict[str, dict[str, tuple]] = {}
        for row in rows:
            found.setdefault(row[0], {})[row[1]] = tuple(row[2:])
        return found

    async def recount(self, year: int | None = None) -> dict[tuple, tuple[int, ...]]:
        """{(year, level, area, kind): figures} counted from the rows by the rule."""
        sql = _RECOUNT.format(year="AND r.year = ?" if year is not None else "")
        params = (year,) if year is not None else ()
        counted: dict[tuple, list[int]] = {}
        async with self.db.conn.execute(sql, params) as cursor:
            async for row in cursor:
                figures = tuple(row[5:])
                for key in (
                    (row[0], "hamlet", str(row[1]), row[4]),
                    (row[0], "commune", row[2], row[4]),
                    (row[0], "province", row[3], row[4]),
                ):
                    total = counted.setdefault(key, [0] * len(TALLY_FIGURES))
                    for i, value in enumerate(figures):
                        total[i] += value
        return {key: tuple(values) for key, values in counted.items()}

    async def stored(self, year: int | None = None) -> dict[tuple, tuple[int, ...]]:
        sql = f"SELECT year, level, area, kind, {', '.join(TALLY_FIGURES)} FROM tallies"
        params: tuple = ()
        if year is not None:
            sql += " WHERE year = ?"
            params = (year,)
        rows = await self.db.conn.execute_fetchall(sql, params)
        return {tuple(row[:4]): tuple(row[4:]) for row in rows}

    async def check(self, year: int | None = None) -> list[TallyDifference]:
        """Every tally that differs from the recount (rows of zeros count as absent)."""
        counted = await self.recount(year)
        stored = await self.stored(year)
        zero = (0,) * len(TALLY_FIGURES)
        differences = []
        for key in sorted(set(counted) | set(stored), key=lambda k: tuple(map(str, k))):
            s, c = stored.get(key, zero), counted.get(key, zero)
            if s != c:
                differences.append(TallyDifference(*key, stored=s, counted=c))
        return differences

    async def stale_states(self, year: int | None = None) -> list[tuple[str, int, int]]:
        """(number, kept state, state by the rule) of registrations whose kept state is wrong."""
        where = "WHERE r.year = ?" if year is not None else ""
        rows = await self.db.conn.execute_fetchall(
            "SELECT r.number, r.evidence_state, x.state FROM registrations r"
            " JOIN registration_evidence x ON x.registration_id = r.id"
            f" {where} {'AND' if where else 'WHERE'} r.evidence_state != x.state",
            (year,) if year is not None else (),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def rebuild(self) -> int:
        """Work out every registration's state again and rebuild the tallies from the rows, in
        one transaction; returns the number of tally rows."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE registrations SET evidence_state = x.state FROM registration_evidence x"
                " WHERE x.registration_id = registrations.id"
                " AND registrations.evidence_state != x.state"
            )
            await conn.execute("DELETE FROM tallies")
            await conn.execute(
                "INSERT INTO tally_changes SELECT year, hamlet_id, commune_code, province_code,"
                " kind, 1, status, evidence_state FROM registrations"
            )
            rows = await conn.execute_fetchall("SELECT COUNT(*) FROM tallies")
        # Fold the large write-ahead log back into the file: until then every page read
        # searches the log's index, which slows every later query down.
        await self.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return rows[0][0]
