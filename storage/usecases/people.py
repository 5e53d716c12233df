"""Managing people: (de)activating an account."""

from storage import Storage
from storage.models import Person, Role
from storage.usecases import NotAllowed, record


def manageable(actor: Person, person: Person) -> bool:
    """Admins and staff manage others in reach; only admins manage admins."""
    if actor.id == person.id or actor.role not in (Role.ADMIN, Role.STAFF):
        return False
    return person.role is not Role.ADMIN or actor.role is Role.ADMIN


async def set_active(storage: Storage, actor: Person, person: Person, active: bool) -> bool:
    """(De)activate a person, audited; False when they already were (a double tap, two
    officers at once), with nothing audited."""
    if not manageable(actor, person):
        raise NotAllowed(f"{actor.id} may not manage person {person.id}")
    async with storage.db.transaction():
        if not await storage.people.set_active(person.id, active):
            return False
        await record(
            storage,
            actor,
            "person.reactivated" if active else "person.deactivated",
            "person",
            person.id,
            area_id=person.area_id,
            before={"active": not active},
            after={"active": active},
        )
    return True
