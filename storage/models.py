"""Pydantic models that the repositories return."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Role(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    BRANCH_CHAIR = "branch_chair"
    HAMLET_HEAD = "hamlet_head"


class AreaLevel(StrEnum):
    PROVINCE = "province"
    COMMUNE = "commune"
    HAMLET = "hamlet"


class Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Area(Model):
    """A province or commune (official code) or a hamlet (kept by its commune, no code)."""

    id: int
    level: AreaLevel
    code: str | None
    name: str
    parent_id: int | None
    province_code: str
    commune_code: str | None

    def contains(self, other: "Area") -> bool:
        """Whether `other` is this area or lies beneath it."""
        if self.level is AreaLevel.PROVINCE:
            return other.province_code == self.code
        if self.level is AreaLevel.COMMUNE:
            return other.commune_code == self.code
        return other.id == self.id


class Person(Model):
    id: int
    telegram_id: int
    full_name: str
    phone: str
    role: Role
    area_id: int | None
    locale: str
    active: bool
    created_at: datetime


class InviteStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"


class Invite(Model):
    id: int
    code: str
    role: Role
    area_id: int | None
    created_by: int | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: int | None
    revoked_at: datetime | None

    def status(self, now: datetime) -> InviteStatus:
        if self.revoked_at is not None:
            return InviteStatus.REVOKED
        if self.used_at is not None:
            return InviteStatus.USED
        if now >= self.expires_at:
            return InviteStatus.EXPIRED
        return InviteStatus.VALID


class AuditEntry(Model):
    id: int
    at: datetime
    actor_id: int | None
    actor_telegram_id: int | None
    action: str
    subject_type: str
    subject_id: str | None
    area_id: int | None
    before: dict | None
    after: dict | None
