"""What reminders need from the database: who was reminded on which day, digest choices, and
the plain counts of a staff member's weekly digest."""

from dataclasses import dataclass
from datetime import date

from storage.area_scope import within
from storage.db import Database
from storage.evidence_state import TALLY_FIGURES, TallyRepository
from storage.models import Area


@dataclass(frozen=True)
class DigestCounts:
    registrations: int  # this year's, not withdrawn
    evidence: int  # photos of those registrations
    waiting: int  # photos not reviewed yet
    needs_more: int  # photos whose latest review is "needs more"
    recognised: int
    evidence_complete: int = 0  # by the evidence rule (storage.evidence_state)
    assessed: int = 0


class ReminderRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def claim(self, person_id: int, kind: str, day: date) -> bool:
        """Record that `person_id` gets the reminder `kind` on `day`; False if they already did."""
        cursor = await self.db.write(
            "INSERT OR IGNORE INTO reminders_sent (person_id, kind, sent_on) VALUES (?, ?, ?)",
            (person_id, kind, day.isoformat()),
        )
        return cursor.rowcount > 0

    async def sent_on(self, day: date) -> list[tuple[int, str]]:
        rows = await self.db.conn.execute_fetchall(
            "SELECT person_id, kind FROM reminders_sent WHERE sent_on = ? ORDER BY person_id, kind",
            (day.isoformat(),),
        )
        return [(row[0], row[1]) for row in rows]

    # --- weekly digest ------------------------------------------------------------------

    async def digest_on(self, person_id: int) -> bool:
        """Whether the person receives the weekly digest (off until switched on)."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT weekly FROM digest_subscriptions WHERE person_id = ?", (person_id,)
        )
        return bool(rows and rows[0][0])

    async def set_digest(self, person_id: int, on: bool) -> None:
        await self.db.write(
            "INSERT INTO digest_subscriptions (person_id, weekly) VALUES (?, ?)"
            " ON CONFLICT (person_id) DO UPDATE SET weekly = excluded.weekly",
            (person_id, int(on)),
        )

    async def digest_subscribers(self) -> list[int]:
        rows = await self.db.conn.execute_fetchall(
            "SELECT person_id FROM digest_subscriptions WHERE weekly = 1 ORDER BY person_id"
        )
        return [row[0] for row in rows]

    async def digest_counts(self, area: Area | None, year: int) -> DigestCounts:
        """Registrations by the tallies (the figures of /tongket), photos by their reviews."""
        where, params = within(area, "r")
        scope = f"r.year = ? AND r.status != 'withdrawn' AND {where}"
        values = (year, *params)
        totals = [0] * len(TALLY_FIGURES)
        for by_kind in (await TallyRepository(self.db).children(area, year)).values():
            for figures in by_kind.values():
                totals = [t + f for t, f in zip(totals, figures, strict=True)]
        registrations, complete, assessed, recognised, _not = totals
        photos = (
            "FROM evidence e JOIN registrations r ON r.id = e.registration_id"
            " LEFT JOIN evidence_reviews v ON v.evidence_id = e.id"
        )
        evidence = await self._count(f"SELECT COUNT(*) {photos} WHERE {scope}", values)
        waiting = await self._count(
            f"SELECT COUNT(*) {photos} WHERE {scope} AND v.evidence_id IS NULL", values
        )
        needs_more = await self._count(
            f"SELECT COUNT(*) {photos} WHERE {scope} AND v.decision = 'needs_more'", values
        )
        return DigestCounts(
            registrations, evidence, waiting, needs_more, recognised, complete, assessed
        )

    async def _count(self, sql: str, params: tuple) -> int:
        rows = await self.db.conn.execute_fetchall(sql, params)
        return rows[0][0]

    # --- whom to remind -------------------------------------------------------------------

    async def lacking(self, area: Area, year: int) -> list[tuple[str, int]]:
        """(number, how many) of the area's registered registrations with evidence-required
        indicators `missing` or `needs_more` by the evidence rule, by number."""
        where, params = within(area, "r")
        rows = await self.db.conn.execute_fetchall(
            "SELECT r.number, COUNT(*) FROM registrations r JOIN indicator_states s"
            " ON s.registration_id = r.id AND s.required AND s.state IN ('missing', 'needs_more')"
            f" WHERE r.year = ? AND r.status = 'registered' AND {where}"
            " GROUP BY r.id ORDER BY r.number",
            (year, *params),
        )
        return [(row[0], row[1]) for row in rows]

    async def drafts(self) -> list[tuple[int, int | None, int]]:
        """Every unfinished registration as (person id, hamlet id or None, year)."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT person_id, hamlet_id, year FROM registration_drafts ORDER BY person_id"
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def active_people(self, role: str) -> list[int]:
        rows = await self.db.conn.execute_fetchall(
            "SELECT id FROM people WHERE role = ? AND active = 1 ORDER BY id", (role,)
        )
        return [row[0] for row in rows]
