"""Registering, editing and withdrawing a learning family or clan."""

from storage import Storage
from storage.audit import entry_statement
from storage.models import Area, Person, Role
from storage.registrations import BulkDraft, Draft, NewRegistration, Registration, Status
from storage.usecases import NotAllowed, record


def changeable_by_role(person: Person, registration: Registration) -> bool:
    """Staff and admins in reach change any registration; a hamlet head only their own.

    Branch chairs, and hamlet heads for registrations made by someone else, only look.
    """
    if person.role in (Role.ADMIN, Role.STAFF):
        return True
    return person.role is Role.HAMLET_HEAD and registration.registered_by == person.id


async def register(storage: Storage, actor: Person, draft: Draft, hamlet: Area) -> Registration:
    """Number a finished draft, audited, in one small transaction (`Database.run_transaction`);
    a second Confirm (a double tap, an update delivered again) finds the registration the
    first one made, and audits nothing more."""

    def audit_entry(registration: Registration) -> tuple[str, tuple]:
        return entry_statement(
            "registration.created",
            "registration",
            registration.id,
            actor_id=actor.id,
            actor_telegram_id=actor.telegram_id,
            area_id=hamlet.id,
            after=registration.model_dump(mode="json"),
        )

    return await storage.registrations.register(draft, hamlet, actor.id, audit=audit_entry)


async def register_list(
    storage: Storage,
    actor: Person,
    draft: BulkDraft,
    hamlet: Area,
    entries: list[NewRegistration],
) -> list[Registration] | None:
    """Register a confirmed list, or last year's families and clans again, under the criteria
    sets in force: all or none, each audited (`RegistrationRepository.register_many`); None
    when the list was confirmed already. Raises sqlite3.IntegrityError, with nothing written,
    when one of last year's was carried over by someone else meanwhile."""
    set_ids = {
        kind: (await storage.criteria.in_force(hamlet.province_code, draft.year, kind)).set_id
        for kind in {entry.kind for entry in entries}
    }
    return await storage.registrations.register_many(draft, hamlet, entries, set_ids, actor)


async def edit(
    storage: Storage, actor: Person, registration_id: int, key: str, value: object
) -> Registration | None:
    """Change one answer, audited; None when the registration is no longer registered
    (decided or withdrawn meanwhile). The same answer again changes and audits nothing."""
    async with storage.db.transaction():
        current = await _changeable(storage, actor, registration_id)
        if current is None:
            return None
        before = getattr(current, key)
        if before == value:
            return current
        changed = await storage.registrations.update(registration_id, {key: value})
        await record(
            storage,
            actor,
            "registration.edited",
            "registration",
            registration_id,
            area_id=changed.hamlet_id,
            before={"number": changed.number, key: before},
            after={"number": changed.number, key: value},
        )
    return changed


async def withdraw(storage: Storage, actor: Person, registration_id: int) -> Registration | None:
    """Withdraw, audited; None when the registration is no longer registered."""
    async with storage.db.transaction():
        current = await _changeable(storage, actor, registration_id)
        if current is None:
            return None
        changed = await storage.registrations.update(registration_id, {"status": Status.WITHDRAWN})
        await record(
            storage,
            actor,
            "registration.withdrawn",
            "registration",
            registration_id,
            area_id=changed.hamlet_id,
            before={"number": current.number, "status": current.status.value},
            after={"number": changed.number, "status": changed.status.value},
        )
    return changed


async def _changeable(storage: Storage, actor: Person, registration_id: int) -> Registration | None:
    """The registration, read in the caller's transaction, if still registered; raises
    NotAllowed when the actor's role may not change it."""
    current = await storage.registrations.get(registration_id)
    if current is None or current.status is not Status.REGISTERED:
        return None
    if not changeable_by_role(actor, current):
        raise NotAllowed(f"{actor.id} may not change registration {registration_id}")
    return current
