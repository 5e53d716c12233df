"""Enrolment by invite, and taking a new invite's role: the person and the used-up invite
together, audited."""

from datetime import datetime

from storage import Storage
from storage.clock import utcnow
from storage.models import InviteStatus, Person
from storage.usecases import record


class InviteGone(Exception):
    """The invite was used, revoked or expired between the check and the enrolment."""


async def enrol(
    storage: Storage,
    telegram_id: int,
    name: str,
    phone: str,
    invite_id: int,
    locale: str,
    now: datetime | None = None,
) -> Person | None:
    """Create the person and use up the invite, together; None if the invite is no longer
    valid (used by someone else meanwhile, revoked or expired: checked inside the
    transaction, and by the write itself)."""
    now = now or utcnow()
    try:
        async with storage.db.transaction():
            invite = await storage.invites.get(invite_id)
            if invite is None or invite.status(now) is not InviteStatus.VALID:
                raise InviteGone
            person = await storage.people.add(
                telegram_id, name, phone, invite.role, invite.area_id, locale
            )
            if not await storage.invites.mark_used(invite.id, person.id, now):
                raise InviteGone  # someone else enrolled with it meanwhile: undo the person
            await record(
                storage,
                person,
                "person.enrolled",
                "person",
                person.id,
                area_id=person.area_id,
                after=person.model_dump(mode="json") | {"invite_id": invite.id},
            )
    except InviteGone:
        return None
    return person


async def change_role(
    storage: Storage, actor: Person, invite_id: int, now: datetime | None = None
) -> Person | None:
    """Take the invite's role and area and use the invite up, together, audited; None if the
    invite went meanwhile (someone else used it: checked by the write, in the transaction)."""
    now = now or utcnow()
    try:
        async with storage.db.transaction():
            invite = await storage.invites.get(invite_id)
            if invite is None or not await storage.invites.mark_used(invite.id, actor.id, now):
                raise InviteGone
            await storage.people.change_role(actor.id, invite.role, invite.area_id)
            await record(
                storage,
                actor,
                "person.role_changed",
                "person",
                actor.id,
                area_id=invite.area_id,
                before={"role": actor.role.value, "area_id": actor.area_id},
                after={
                    "role": invite.role.value,
                    "area_id": invite.area_id,
                    "invite_id": invite.id,
                },
            )
    except InviteGone:
        return None
    return await storage.people.get(actor.id)
