"""Switching one's weekly digest on or off."""

from storage import Storage
from storage.models import Person
from storage.usecases import record


async def switch_digest(storage: Storage, actor: Person, on: bool) -> bool:
    """Switch the actor's weekly digest, audited when it changes; whether it changed."""
    async with storage.db.transaction():
        before = await storage.reminders.digest_on(actor.id)
        await storage.reminders.set_digest(actor.id, on)
        if before == on:
            return False
        await record(
            storage,
            actor,
            "digest.switched",
            "person",
            actor.id,
            before={"weekly": before},
            after={"weekly": on},
        )
    return True
