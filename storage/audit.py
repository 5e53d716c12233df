"""The append-only audit log: who did what, when, with the record before and after."""

import json

from storage.clock import to_db, utcnow
from storage.db import Database
from storage.models import AuditEntry


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        action: str,
        subject_type: str,
        subject_id: object = None,
        *,
        actor_id: int | None = None,
        actor_telegram_id: int | None = None,
        area_id: int | None = None,
        before: dict | None = None,
        after: dict | None = None,
    ) -> None:
        await self.db.write(
            *entry_statement(
                action,
                subject_type,
                subject_id,
                actor_id=actor_id,
                actor_telegram_id=actor_telegram_id,
                area_id=area_id,
                before=before,
                after=after,
            )
        )

    async def entries(self, action: str | None = None) -> list[AuditEntry]:
        sql = "SELECT * FROM audit_log"
        params: tuple = ()
        if action:
            sql, params = sql + " WHERE action = ?", (action,)
        rows = await self.db.conn.execute_fetchall(sql + " ORDER BY id", params)
        return [_entry(row) for row in rows]

    async def last(self, action: str, subject_type: str, subject_id: object) -> AuditEntry | None:
        """The newest entry of `action` about one subject (by the `audit_subject` index)."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM audit_log WHERE subject_type = ? AND subject_id = ? AND action = ?"
            " ORDER BY id DESC LIMIT 1",
            (subject_type, str(subject_id), action),
        )
        return _entry(rows[0]) if rows else None


def _entry(row) -> AuditEntry:
    return AuditEntry.model_validate(
        dict(row) | {"before": _load(row["before"]), "after": _load(row["after"])}
    )


def entry_statement(
    action: str,
    subject_type: str,
    subject_id: object = None,
    *,
    actor_id: int | None = None,
    actor_telegram_id: int | None = None,
    area_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> tuple[str, tuple]:
    """The INSERT of one audit entry, for a caller that runs it inside its own small
    transaction (`Database.run_transaction`)."""
    return (
        "INSERT INTO audit_log (at, actor_id, actor_telegram_id, action, subject_type,"
        " subject_id, area_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            to_db(utcnow()),
            actor_id,
            actor_telegram_id,
            action,
            subject_type,
            None if subject_id is None else str(subject_id),
            area_id,
            _json(before),
            _json(after),
        ),
    )


def _json(value: dict | None) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def _load(text: str | None) -> dict | None:
    return None if text is None else json.loads(text)
