"""Deleting an evidence photo."""

from storage import Storage
from storage.evidence import Evidence, MediaFolder
from storage.models import Person, Role
from storage.usecases import NotAllowed, record


def may_delete(person: Person, evidence: Evidence) -> bool:
    """Whoever sent the photo deletes it, and staff and admins in reach."""
    return evidence.uploaded_by == person.id or person.role in (Role.STAFF, Role.ADMIN)


async def delete_evidence(
    storage: Storage, actor: Person, evidence_id: int, media: MediaFolder
) -> bool:
    """Delete the photo's row and its review and audit it, together, then move its file to
    the trash unless another row still uses it; False when it was gone already (a double
    tap, two people at once)."""
    async with storage.db.transaction():
        evidence = await storage.evidence.get(evidence_id)
        if evidence is None:
            return False
        if not may_delete(actor, evidence):
            raise NotAllowed(f"{actor.id} may not delete evidence {evidence_id}")
        registration = await storage.registrations.get(evidence.registration_id)
        if not await storage.evidence.delete(evidence.id):
            return False
        await record(
            storage,
            actor,
            "evidence.deleted",
            "evidence",
            evidence.id,
            area_id=registration.hamlet_id,
            before=evidence.model_dump(mode="json"),
        )
    if evidence.path and not await storage.evidence.path_in_use(evidence.path):
        media.trash(evidence.path)
    return True
