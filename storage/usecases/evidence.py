"""Storing and deleting an evidence photo (files first, rows and audit entry together)."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from storage import Storage
from storage.evidence import Evidence, MediaFolder, Received
from storage.images import ImageFacts
from storage.models import Person, Role
from storage.registrations import Registration
from storage.usecases import NotAllowed, record


def may_delete(person: Person, evidence: Evidence) -> bool:
    """Whoever sent the photo deletes it, and staff and admins in reach."""
    return evidence.uploaded_by == person.id or person.role in (Role.STAFF, Role.ADMIN)


async def in_reach(storage: Storage, person: Person, registration: Registration) -> bool:
    """Whether the registration's hamlet lies in the person's area (admins: everywhere)."""
    if person.role is Role.ADMIN:
        return True
    area = await storage.areas.get(person.area_id) if person.area_id else None
    hamlet = await storage.areas.get(registration.hamlet_id)
    return area is not None and hamlet is not None and area.contains(hamlet)


async def store_evidence(
    storage: Storage,
    actor: Person,
    registration: Registration,
    received: Received,
    facts: ImageFacts,
    data: bytes,
    media: MediaFolder,
) -> Evidence | None:
    """Keep a checked photo: its file first, then its row, its copy-index rows and its audit
    entry in one transaction (`_file_first`); None, with nothing kept, when it is already
    evidence of this indicator (a double send, an album sent twice). Raises OSError, with
    nothing kept, when the media folder cannot take the file (a full disk), and NotAllowed
    when the registration is outside the actor's area."""
    if not await in_reach(storage, actor, registration):
        raise NotAllowed(f"{actor.id} may not send evidence for {registration.id}")
    repo = storage.evidence
    code = received.indicator_code
    if await repo.same_in_indicator(registration.id, code, sha256=facts.sha256):
        return None
    flags = await repo.flags_for(registration, facts, received.file_unique_id, code)
    relative = media.relative_path(
        registration.year, registration.number, facts.sha256, facts.extension
    )
    async with _file_first(storage, media, relative, data):
        if await repo.same_in_indicator(registration.id, code, sha256=facts.sha256):
            return None  # stored by a twin meanwhile: its row uses the same file
        evidence = await repo.add(received, facts, relative, flags)
        await _audit_stored(storage, actor, evidence, registration)
    return evidence


async def keep_pending(
    storage: Storage,
    actor: Person,
    registration: Registration,
    received: Received,
    error: str,
    attempts: int,
) -> Evidence:
    """Keep a photo whose download failed as its file_id, audited, so nothing sent is lost;
    the background job fetches it later (`store_download`)."""
    if not await in_reach(storage, actor, registration):
        raise NotAllowed(f"{actor.id} may not send evidence for {registration.id}")
    async with storage.db.transaction():
        evidence = await storage.evidence.add(received, None, None, error=error, attempts=attempts)
        await record(
            storage,
            actor,
            "evidence.pending",
            "evidence",
            evidence.id,
            area_id=registration.hamlet_id,
            after={
                "registration_id": registration.id,
                "number": registration.number,
                "indicator": evidence.indicator_code,
                "error": error,
            },
        )
    return evidence


async def store_download(
    storage: Storage,
    pending: Evidence,
    registration: Registration,
    facts: ImageFacts,
    data: bytes,
    media: MediaFolder,
) -> Evidence | None:
    """Keep a photo the background job fetched at last, like `store_evidence`, audited with
    its sender as actor; None when it turned out to be already evidence of its indicator:
    its row is then deleted, audited, and its twin kept. Raises OSError, with nothing
    changed, when the media folder cannot take the file."""
    repo = storage.evidence
    code = pending.indicator_code
    sender = await storage.people.get(pending.uploaded_by)
    if await repo.same_in_indicator(
        registration.id, code, sha256=facts.sha256, except_id=pending.id
    ):
        async with storage.db.transaction():
            if await repo.delete(pending.id):
                await record(
                    storage,
                    None,
                    "evidence.deleted",
                    "evidence",
                    pending.id,
                    area_id=registration.hamlet_id,
                    before=pending.model_dump(mode="json"),
                    after={"reason": "already evidence of this indicator"},
                )
        return None
    flags = await repo.flags_for(registration, facts, pending.file_unique_id, code, pending.id)
    relative = media.relative_path(
        registration.year, registration.number, facts.sha256, facts.extension
    )
    async with _file_first(storage, media, relative, data):
        evidence = await repo.complete_download(pending.id, facts, relative, flags)
        await _audit_stored(storage, sender, evidence, registration)
    return evidence


async def _audit_stored(
    storage: Storage, actor: Person | None, evidence: Evidence, registration: Registration
) -> None:
    await record(
        storage,
        actor,
        "evidence.stored",
        "evidence",
        evidence.id,
        area_id=registration.hamlet_id,
        after={
            "registration_id": registration.id,
            "number": registration.number,
            "indicator": evidence.indicator_code,
            "sha256": evidence.sha256,
            "flags": [f.model_dump(mode="json", exclude_none=True) for f in evidence.flags],
        },
    )


@asynccontextmanager
async def _file_first(
    storage: Storage, media: MediaFolder, relative: str, data: bytes
) -> AsyncIterator[None]:
    """Write the file, then run the block in one transaction; when the block fails, remove
    the file again unless another row uses it (the same photo for another indicator), so no
    row points at a missing file and no file is left that no row points at."""
    await asyncio.to_thread(media.write, relative, data)
    try:
        async with storage.db.transaction():
            yield
    except BaseException:
        if not await storage.evidence.path_in_use(relative):
            await asyncio.to_thread(_remove, media, relative)
        raise


def _remove(media: MediaFolder, relative: str) -> None:
    (media.root / relative).unlink(missing_ok=True)


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
