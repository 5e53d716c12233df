"""Discarding a registration draft nobody has touched for long."""

from datetime import datetime

from storage import Storage
from storage.registrations import Draft
from storage.usecases import record


async def discard_untouched(storage: Storage, draft: Draft, cutoff: datetime, days: int) -> bool:
    """Delete the draft if still untouched since `cutoff` and audit it, together (the
    background job acts, no person); False when it was touched meanwhile, with nothing
    audited."""
    async with storage.db.transaction():
        if not await storage.registrations.discard_draft_untouched(draft.id, cutoff):
            return False
        await record(
            storage,
            None,
            "registration_draft.discarded",
            "registration_draft",
            draft.id,
            area_id=draft.hamlet_id,
            before={
                "person_id": draft.person_id,
                "year": draft.year,
                "step": draft.step,
                "answers": draft.answers,
                "updated_at": draft.updated_at,
            },
            after={"reason": "untouched", "days": days},
        )
    return True
