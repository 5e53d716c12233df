"""A staff member's decision on an evidence photo."""

from datetime import datetime

from storage import Storage
from storage.evidence import Evidence
from storage.models import Model, Person
from storage.registrations import Registration
from storage.reviews import Decision, Review
from storage.usecases import record


class Reviewed(Model):
    before: Review | None  # the decision before; None when the photo was unreviewed
    after: Review

    @property
    def changed(self) -> bool:
        """False when it was decided so already (a double tap, two reviewers at once)."""
        return self.before != self.after


async def review(
    storage: Storage,
    actor: Person,
    evidence: Evidence,
    registration: Registration,
    decision: Decision,
    reason: str | None,
    at: datetime | None = None,
) -> Reviewed:
    """Store the latest decision on a photo and audit it, together; the same decision again
    stores and audits nothing."""
    async with storage.db.transaction():
        before, after = await storage.reviews.decide(evidence.id, decision, reason, actor.id, at)
        reviewed = Reviewed(before=before, after=after)
        if reviewed.changed:
            await record(
                storage,
                actor,
                "evidence.reviewed",
                "evidence",
                evidence.id,
                area_id=registration.hamlet_id,
                before=before.model_dump(mode="json") if before else None,
                after=after.model_dump(mode="json")
                | {"registration": registration.number, "indicator": evidence.indicator_code},
            )
    return reviewed
