"""Staff review of evidence photos, and the recognition decision on a registration.

`evidence_reviews` (migration 0008) keeps the latest decision per photo; a photo without a row
is unreviewed and waits in the /duyet queue. A photo sent after "needs more" is a new row of
`evidence`, so it has no review and is in the queue by itself. `recognitions` keeps the locked
result of a registration with the computation that was shown to staff.
"""

import json
from datetime import date, datetime
from enum import StrEnum

from storage.area_scope import within
from storage.clock import to_db, utcnow
from storage.criteria import CriteriaSet, Evaluation, ScoringKind, evaluate
from storage.db import Database
from storage.evidence import Evidence, _evidence
from storage.evidence_state import ASSESSED_SQL
from storage.models import Area, Model
from storage.registrations import Registration, Status, _filters, _registration


class Decision(StrEnum):
    ACCEPTED = "accepted"
    NEEDS_MORE = "needs_more"


class Review(Model):
    evidence_id: int
    decision: Decision
    reason: str | None
    reviewer_id: int
    reviewed_at: datetime


class Result(StrEnum):
    RECOGNISED = "recognised"
    NOT_RECOGNISED = "not_recognised"


class Recognition(Model):
    registration_id: int
    result: Result
    evaluation: dict
    decision_number: str | None
    decision_date: date | None
    decided_by: int
    decided_at: datetime
    locked: bool


class Assessed(Model):
    """The pass rule applied with the evidence rule (see `evaluate_with_evidence`)."""

    evaluation: Evaluation
    # Evidence-required indicators self-assessed as met (or with points) but without any
    # accepted photo: counted as not met, 0 points.
    not_counted: tuple[str, ...]


def evaluate_with_evidence(
    criteria_set: CriteriaSet, assessment: dict[str, int], accepted: set[str]
) -> Assessed:
    """The criteria set's pass rule on the self-assessment, with one rule added for evidence.

    An indicator whose `evidence_required` is true counts as met (and keeps its self-assessed
    points) only if at least one of its photos was accepted in review. Without an accepted
    photo, it counts as not met with 0 points, whatever the self-assessment said; such
    indicators are listed in `not_counted` so that the card can say why. Indicators that do
    not require evidence count as self-assessed. Then `storage.criteria.evaluate` applies the
    set's rule (points with threshold and floors, or all met) unchanged.
    """
    answers: dict[str, bool | int] = {}
    not_counted = []
    for indicator in criteria_set.all_indicators():
        if indicator.code not in assessment:
            continue
        value = assessment[indicator.code]
        pass_fail = indicator.scoring.kind is ScoringKind.PASS_FAIL
        answer: bool | int = bool(value) if pass_fail else int(value)
        if indicator.evidence_required and indicator.code not in accepted and answer:
            not_counted.append(indicator.code)
            answer = False if pass_fail else 0
        answers[indicator.code] = answer
    return Assessed(evaluation=evaluate(criteria_set, answers), not_counted=tuple(not_counted))


def _review(row) -> Review:
    return Review.model_validate(dict(row))


def _recognition(row) -> Recognition:
    values = dict(row) | {"evaluation": json.loads(row["evaluation"]), "locked": row["locked"]}
    return Recognition.model_validate(values)


class ReviewRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- the review queue ---------------------------------------------------------------

    async def queue(
        self, area: Area | None, exclude: list[int] | tuple[int, ...] = (), limit: int = 1
    ) -> list[Evidence]:
        """Unreviewed photos of registrations in `area` (not withdrawn), flagged ones first,
        then oldest first; `exclude` holds ids skipped in this session."""
        where, params = within(area, "r")
        skipped = ",".join("?" * len(exclude))
        not_skipped = f" AND e.id NOT IN ({skipped})" if exclude else ""
        rows = await self.db.conn.execute_fetchall(
            "SELECT e.* FROM evidence e JOIN registrations r ON r.id = e.registration_id"
            " LEFT JOIN evidence_reviews v ON v.evidence_id = e.id"
            f" WHERE v.evidence_id IS NULL AND r.status != 'withdrawn' AND {where}{not_skipped}"
            " ORDER BY (e.flags = '[]'), e.id LIMIT ?",
            (*params, *exclude, limit),
        )
        return [_evidence(row) for row in rows]

    async def waiting(self, area: Area | None) -> int:
        """How many photos in `area` wait for review."""
        where, params = within(area, "r")
        rows = await self.db.conn.execute_fetchall(
            "SELECT COUNT(*) FROM evidence e JOIN registrations r ON r.id = e.registration_id"
            " LEFT JOIN evidence_reviews v ON v.evidence_id = e.id"
            f" WHERE v.evidence_id IS NULL AND r.status != 'withdrawn' AND {where}",
            params,
        )
        return rows[0][0]

    async def get(self, evidence_id: int) -> Review | None:
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM evidence_reviews WHERE evidence_id = ?", (evidence_id,)
        )
        return _review(rows[0]) if rows else None

    async def decide(
        self,
        evidence_id: int,
        decision: Decision,
        reason: str | None,
        reviewer_id: int,
        at: datetime | None = None,
    ) -> tuple[Review | None, Review]:
        """Store the latest decision on a photo; the decision before (None if unreviewed) and
        the one now. The same decision again (a double tap, two reviewers at once) changes
        nothing and returns the stored one twice."""
        async with self.db.transaction() as conn:
            before = await self.get(evidence_id)
            if before and (before.decision, before.reason) == (decision, reason):
                return before, before
            await conn.execute(
                "INSERT INTO evidence_reviews (evidence_id, decision, reason, reviewer_id,"
                " reviewed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (evidence_id) DO UPDATE SET"
                " decision = excluded.decision, reason = excluded.reason,"
                " reviewer_id = excluded.reviewer_id, reviewed_at = excluded.reviewed_at",
                (evidence_id, decision.value, reason, reviewer_id, to_db(at or utcnow())),
            )
        return before, await self.get(evidence_id)

    async def of_registration(self, registration_id: int) -> dict[int, Review]:
        rows = await self.db.conn.execute_fetchall(
            "SELECT v.* FROM evidence_reviews v JOIN evidence e ON e.id = v.evidence_id"
            " WHERE e.registration_id = ?",
            (registration_id,),
        )
        return {row["evidence_id"]: _review(row) for row in rows}

    async def accepted_codes(self, registration_id: int) -> set[str]:
        """Indicators of the registration in the evidence rule's state `accepted`."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT indicator_code FROM indicator_states WHERE registration_id = ?"
            " AND state = 'accepted'",
            (registration_id,),
        )
        return {row[0] for row in rows}

    async def unreviewed(self, registration_id: int) -> int:
        rows = await self.db.conn.execute_fetchall(
            "SELECT COUNT(*) FROM evidence e LEFT JOIN evidence_reviews v"
            " ON v.evidence_id = e.id WHERE e.registration_id = ? AND v.evidence_id IS NULL",
            (registration_id,),
        )
        return rows[0][0]

    async def ready_for_recognition(
        self, area: Area | None, year: int, limit: int = 20
    ) -> list[Registration]:
        """Registrations of the area and year still registered, assessed by the evidence rule
        (every evidence-required indicator accepted), and with no decision yet."""
        where, params = _filters(area, year, None, Status.REGISTERED)
        rows = await self.db.conn.execute_fetchall(
            f"SELECT * FROM registrations r WHERE {where} AND {ASSESSED_SQL}"
            " AND NOT EXISTS (SELECT 1 FROM recognitions c WHERE c.registration_id = r.id)"
            " ORDER BY number LIMIT ?",
            (*params, limit),
        )
        return [_registration(row) for row in rows]

    # --- recognitions ---------------------------------------------------------------------

    async def recognition(self, registration_id: int) -> Recognition | None:
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM recognitions WHERE registration_id = ?", (registration_id,)
        )
        return _recognition(rows[0]) if rows else None

    async def recognise(
        self,
        registration_id: int,
        result: Result,
        evaluation: dict,
        decision_number: str | None,
        decision_date: date | None,
        decided_by: int,
        at: datetime | None = None,
    ) -> Recognition | None:
        """Lock the result and set the registration's status, both or neither; None when the
        registration already has a decision (or is no longer registered)."""
        now = to_db(at or utcnow())
        async with self.db.transaction() as conn:
            rows = await conn.execute_fetchall(
                "SELECT status, (SELECT 1 FROM recognitions WHERE registration_id = ?) AS decided"
                " FROM registrations WHERE id = ?",
                (registration_id, registration_id),
            )
            if not rows or rows[0]["decided"] or rows[0]["status"] != Status.REGISTERED.value:
                return None
            await conn.execute(
                "INSERT INTO recognitions (registration_id, result, evaluation, decision_number,"
                " decision_date, decided_by, decided_at, locked) VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                (
                    registration_id,
                    result.value,
                    json.dumps(evaluation, ensure_ascii=False),
                    decision_number,
                    decision_date.isoformat() if decision_date else None,
                    decided_by,
                    now,
                ),
            )
            await conn.execute(
                "UPDATE registrations SET status = ?, updated_at = ? WHERE id = ?",
                (result.value, now, registration_id),
            )
        return await self.recognition(registration_id)

    async def reopen(self, registration_id: int) -> Recognition | None:
        """Delete the decision and put the registration back to registered, atomically; the
        decision that was deleted, or None if there was none."""
        async with self.db.transaction() as conn:
            before = await self.recognition(registration_id)
            if before is None:
                return None
            await conn.execute(
                "DELETE FROM recognitions WHERE registration_id = ?", (registration_id,)
            )
            await conn.execute(
                "UPDATE registrations SET status = ?, updated_at = ? WHERE id = ?",
                (Status.REGISTERED.value, to_db(utcnow()), registration_id),
            )
        return before
