"""Inviting someone: which roles a role may invite, and for which kinds of area."""

from storage import Storage
from storage.models import Area, AreaLevel, Invite, Person, Role
from storage.usecases import NotAllowed, record

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


async def invite(storage: Storage, actor: Person, role: Role, area: Area | None) -> Invite:
    """Make an invite and audit it, together. The caller checks that the area is in the
    inviter's reach and that the role fits it (`fits_area`), to say why not."""
    if not may_invite(actor, role) or not fits_area(role, area):
        raise NotAllowed(f"{actor.id} may not invite a {role.value} there")
    async with storage.db.transaction():
        made = await storage.invites.create(role, area.id if area else None, created_by=actor.id)
        await record(
            storage,
            actor,
            "invite.created",
            "invite",
            made.id,
            area_id=made.area_id,
            after={"role": role.value, "area_id": made.area_id, "expires_at": made.expires_at},
        )
    return made
