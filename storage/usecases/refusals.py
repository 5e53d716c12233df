"""A refused attempt: the one audit entry written for something that changed nothing."""

from storage import Storage
from storage.models import Person


async def refused(
    storage: Storage, person: Person | None, telegram_id: int | None, action: str, subject: dict
) -> None:
    """Audit that `person` (None: someone not enrolled, known by `telegram_id`) tried
    `action` on `subject` and was refused (`access.denied`)."""
    await storage.audit.record(
        "access.denied",
        "person",
        person.id if person else None,
        actor_id=person.id if person else None,
        actor_telegram_id=telegram_id,
        after={"action": action, **subject},
    )
