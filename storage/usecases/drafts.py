"""Discarding a registration draft, or a list waiting for confirmation, nobody has touched for
long."""

from datetime import datetime

from storage import Storage
from storage.registrations import BulkDraft, Draft
from storage.usecases import record

LIST_DISCARDED = "bulk_draft.discarded"


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


async def discard_untouched_list(
    storage: Storage, draft: BulkDraft, cutoff: datetime, days: int
) -> bool:
    """The same for a list of /nhapds waiting for confirmation; the audit entry keeps its lines
    as typed, and a Confirm pressed later finds it (`AuditLog.last`) to say what happened."""
    async with storage.db.transaction():
        if not await storage.registrations.discard_bulk_draft_untouched(draft.id, cutoff):
            return False
        await record(
            storage,
            None,
            LIST_DISCARDED,
            "bulk_draft",
            draft.id,
            area_id=draft.hamlet_id,
            before={
                "person_id": draft.person_id,
                "mode": draft.mode.value,
                "kind": draft.body.get("kind", "family"),
                "year": draft.year,
                "rows": draft.body.get("rows", []),
                "updated_at": draft.updated_at,
            },
            after={"reason": "untouched", "days": days},
        )
    return True
