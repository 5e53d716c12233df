"""Inviting someone: which roles a role may invite, and for which kinds of area."""

from storage import Storage
from storage.invites import DEFAULT_EXPIRY_DAYS
from storage.models import Area, AreaLevel, Invite, Person, Role
from storage.usecases import COMMAND_LINE, NotAllowed, record

# The roles each role may invite (others invite no one).
INVITES = {
    Role.ADMIN: (Role.ADMIN, Role.STAFF, Role.BRANCH_CHAIR, Role.HAMLET_HEAD),
    Role.STAFF: (Role.BRANCH_CHAIR, Role.HAMLET_HEAD),
}
# The levels of area each role is invited for; an admin also for the whole country.
AREA_LEVELS = {
    Role.ADMIN: (),
    Role.STAFF: (AreaLevel.PROVINCE, AreaLevel.COMMUNE),
    Role.BRANCH_CHAIR: (AreaLevel.COMMUNE, AreaLevel.HAMLET),
    Role.HAMLET_HEAD: (AreaLevel.HAMLET,),
}


def may_invite(inviter: Person, role: Role) -> bool:
    return role in INVITES.get(inviter.role, ())


def fits_area(role: Role, area: Area | None) -> bool:
    """Whether a person of `role` can be invited for `area` (None: the whole country)."""
    return role is Role.ADMIN or (area.level if area else None) in AREA_LEVELS[role]


async def invite(
    storage: Storage,
    actor: Person | None,
    role: Role,
    area: Area | None,
    expires_days: int = DEFAULT_EXPIRY_DAYS,
) -> Invite:
    """Make an invite and audit it, together; `actor` None: the command line, which may invite
    any role. The caller checks that the area is in the inviter's reach and that the role
    fits it (`fits_area`), to say why not."""
    if not fits_area(role, area) or (actor is not None and not may_invite(actor, role)):
        raise NotAllowed(f"{actor.id if actor else 'command line'} may not invite a {role.value}")
    async with storage.db.transaction():
        made = await storage.invites.create(
            role,
            area.id if area else None,
            created_by=actor.id if actor else None,
            expires_days=expires_days,
        )
        after = {"role": role.value, "area_id": made.area_id, "expires_at": made.expires_at}
        await record(
            storage,
            actor,
            "invite.created",
            "invite",
            made.id,
            area_id=made.area_id,
            after=after if actor else after | COMMAND_LINE,
        )
    return made


async def revoke(storage: Storage, actor: Person | None, invite: Invite) -> bool:
    """Withdraw an unused invite and audit it, together; False when it was used or revoked
    meanwhile, with nothing audited. `actor` None: the command line."""
    async with storage.db.transaction():
        current = await storage.invites.get(invite.id)
        if current is None or current.used_at is not None or current.revoked_at is not None:
            return False
        await storage.invites.revoke(invite.id)
        await record(
            storage,
            actor,
            "invite.revoked",
            "invite",
            invite.id,
            area_id=invite.area_id,
            after=None if actor else COMMAND_LINE,
        )
    return True
