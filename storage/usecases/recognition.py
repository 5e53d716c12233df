"""Recognising a registration (or not), and reopening the decision."""

from datetime import date, datetime

from storage import Storage
from storage.criteria import CriteriaSet
from storage.models import Person, Role
from storage.registrations import Registration, Status
from storage.reviews import Assessed, Recognition, Result, evaluate_with_evidence
from storage.usecases import NotAllowed, record


async def current_evaluation(
    storage: Storage, registration: Registration
) -> tuple[CriteriaSet, dict[str, int], Assessed]:
    """The criteria set, the self-assessment, and the pass rule applied with the evidence
    rule, as they stand now."""
    criteria = (await storage.criteria.get(registration.criteria_set_id)).criteria_set
    assessment = await storage.registrations.assessment(registration.id)
    accepted = await storage.reviews.accepted_codes(registration.id)
    return criteria, assessment, evaluate_with_evidence(criteria, assessment, accepted)


async def recognise(
    storage: Storage,
    actor: Person,
    registration: Registration,
    result: Result,
    decision_number: str | None,
    decision_date: date | None,
    at: datetime | None = None,
) -> Recognition | None:
    """Compute again, lock the result with the registration's status, and audit it, together;
    None when the registration was decided (or withdrawn) meanwhile."""
    async with storage.db.transaction():
        _criteria, assessment, now = await current_evaluation(storage, registration)
        evaluation = now.evaluation.model_dump(mode="json") | {
            "not_counted": list(now.not_counted),
            "assessment": assessment,
        }
        recognition = await storage.reviews.recognise(
            registration.id, result, evaluation, decision_number, decision_date, actor.id, at
        )
        if recognition is None:
            return None
        await record(
            storage,
            actor,
            f"registration.{result.value}",
            "registration",
            registration.id,
            area_id=registration.hamlet_id,
            before={"number": registration.number, "status": Status.REGISTERED.value},
            after={
                "number": registration.number,
                "status": result.value,
                "decision_number": recognition.decision_number,
                "decision_date": decision_date.isoformat() if decision_date else None,
                "passed_by_rule": now.evaluation.passed,
                "total_points": now.evaluation.total_points,
            },
        )
    return recognition


async def reopen(storage: Storage, actor: Person, registration: Registration) -> Recognition | None:
    """An administrator deletes the decision and puts the registration back to registered,
    audited; the decision deleted, or None when there was none (reopened already)."""
    if actor.role is not Role.ADMIN:
        raise NotAllowed(f"{actor.id} may not reopen a decision")
    async with storage.db.transaction():
        before = await storage.reviews.reopen(registration.id)
        if before is None:
            return None
        await record(
            storage,
            actor,
            "recognition.reopened",
            "registration",
            registration.id,
            area_id=registration.hamlet_id,
            before=before.model_dump(mode="json") | {"number": registration.number},
            after={"number": registration.number, "status": Status.REGISTERED.value},
        )
    return before
