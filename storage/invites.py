"""Invite codes: single use, expiring, revocable, each for one role and one area."""

import secrets
from datetime import datetime, timedelta

from storage.clock import to_db, utcnow
from storage.db import Database
from storage.models import Invite, Role

# No 0/O, 1/I/L: codes are read aloud and typed on phones. 32 symbols give 5 bits each.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
DEFAULT_EXPIRY_DAYS = 14


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def clean_code(typed: str) -> str:
    """What a person typed, as a code: upper case, without spaces or dashes."""
    return "".join(c for c in typed.upper() if c not in " -\u00a0")


class InviteRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        role: Role,
        area_id: int | None,
        *,
        created_by: int | None = None,
        expires_days: int = DEFAULT_EXPIRY_DAYS,
        now: datetime | None = None,
    ) -> Invite:
        now = now or utcnow()
        cursor = await self.db.write(
            "INSERT INTO invites (code, role, area_id, created_by, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                new_code(),
                role.value,
                area_id,
                created_by,
                to_db(now),
                to_db(now + timedelta(days=expires_days)),
            ),
        )
        return await self._one("SELECT * FROM invites WHERE id = ?", (cursor.lastrowid,))

    async def get(self, invite_id: int) -> Invite | None:
        return await self._one("SELECT * FROM invites WHERE id = ?", (invite_id,))

    async def by_code(self, typed: str) -> Invite | None:
        return await self._one("SELECT * FROM invites WHERE code = ?", (clean_code(typed),))

    async def mark_used(self, invite_id: int, person_id: int, now: datetime) -> bool:
        """Use the invite once; False when it was used, revoked or expired meanwhile.

        The check and the write are one statement, so two people racing for one code cannot
        both win; callers run it inside the transaction that enrols, and roll back on False.
        """
        cursor = await self.db.write(
            "UPDATE invites SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL"
            " AND revoked_at IS NULL AND expires_at > ?",
            (to_db(now), person_id, invite_id, to_db(now)),
        )
        return cursor.rowcount == 1

    async def revoke(self, invite_id: int, now: datetime | None = None) -> None:
        await self.db.write(
            "UPDATE invites SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (to_db(now or utcnow()), invite_id),
        )

    async def _one(self, sql: str, params: tuple) -> Invite | None:
        rows = await self.db.conn.execute_fetchall(sql, params)
        return Invite.model_validate(dict(rows[0])) if rows else None


class EnrolmentFailures:
    """Wrong, expired or used codes typed by one Telegram account, counted for throttling."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, telegram_id: int, now: datetime) -> None:
        await self.db.write(
            "INSERT INTO enrolment_failures (telegram_id, at) VALUES (?, ?)",
            (telegram_id, to_db(now)),
        )

    async def count_since(self, telegram_id: int, since: datetime) -> int:
        rows = await self.db.conn.execute_fetchall(
            "SELECT COUNT(*) FROM enrolment_failures WHERE telegram_id = ? AND at >= ?",
            (telegram_id, to_db(since)),
        )
        return rows[0][0]
