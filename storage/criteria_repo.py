"""Stored criteria sets and which one is in force for a province, year and model.

A stored set is identified by the id written in its file and a hash of its validated content
(`hkhvn-448-family@a490dbff…`), so storing the same set twice gives the same id, and an edited
set gets a new one. Stored sets are never changed or deleted: a registration that recorded a
set id is assessed against exactly that set, whatever is activated later.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from storage.clock import to_db, utcnow
from storage.criteria import STORED, CriteriaSet, ModelKind, shipped_default
from storage.db import Database

HASH_LENGTH = 16


class CriteriaError(Exception):
    """A refused request about criteria sets, worded as one line."""


class StoredCriteriaSet(BaseModel):
    """A criteria set as stored, with the id that registrations record."""

    model_config = ConfigDict(frozen=True)

    set_id: str
    criteria_set: CriteriaSet
    source_sha256: str
    loaded_at: datetime


def stored_id(criteria_set: CriteriaSet) -> str:
    return f"{criteria_set.id}@{criteria_set.content_sha256()[:HASH_LENGTH]}"


class CriteriaRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._loaded: dict[str, StoredCriteriaSet] = {}
        # Sets (frozen) known to be stored, by object: the shipped default is asked for on
        # every registration, and neither hashing it nor asking the database again is needed.
        self._stored: dict[int, tuple[CriteriaSet, str]] = {}

    async def store(self, criteria_set: CriteriaSet, source_sha256: str) -> str:
        """Keep a validated set and return its id; storing the same content again is a no-op."""
        known = self._stored.get(id(criteria_set))
        if known is not None and known[0] is criteria_set:
            return known[1]
        set_id = stored_id(criteria_set)
        if not await self._exists(set_id):
            await self._insert(set_id, criteria_set, source_sha256)
        if not self.db.in_own_transaction:  # else it could yet be rolled back
            self._stored[id(criteria_set)] = (criteria_set, set_id)
        return set_id

    async def _insert(self, set_id: str, criteria_set: CriteriaSet, source_sha256: str) -> None:
        await self.db.write(
            "INSERT OR IGNORE INTO criteria_sets (id, set_key, model_kind, title, body,"
            " body_sha256, source_sha256, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                set_id,
                criteria_set.id,
                criteria_set.model_kind.value,
                criteria_set.title.vi,
                criteria_set.body_json(),
                criteria_set.content_sha256(),
                source_sha256,
                to_db(utcnow()),
            ),
        )

    async def get(self, set_id: str) -> StoredCriteriaSet | None:
        """A stored set; kept in memory after the first read, since stored sets never change
        (the table's triggers refuse updates and deletes) and every dialog step needs one."""
        if set_id in self._loaded:
            return self._loaded[set_id]
        rows = await self.db.conn.execute_fetchall(
            "SELECT id, body, source_sha256, loaded_at FROM criteria_sets WHERE id = ?", (set_id,)
        )
        if not rows:
            return None
        self._loaded[set_id] = _stored(rows[0])
        return self._loaded[set_id]

    async def activate(self, set_id: str, province_code: str, year: int) -> str | None:
        """Put a stored set in force for a province and year; return the set id it replaces.

        Refused (CriteriaError) for an unknown set or province, or a year the set is not for.
        """
        stored = await self.get(set_id)
        if stored is None:
            raise CriteriaError(f"no stored criteria set {set_id!r}")
        criteria_set = stored.criteria_set
        if not criteria_set.years.covers(year):
            raise CriteriaError(
                f"{criteria_set.id} is for the years {criteria_set.years}, not {year}"
            )
        provinces = await self.db.conn.execute_fetchall(
            "SELECT 1 FROM areas WHERE level = 'province' AND code = ?", (province_code,)
        )
        if not provinces:
            raise CriteriaError(f"unknown province code {province_code!r}")
        kind = criteria_set.model_kind
        previous = await self.activated_id(province_code, year, kind)
        await self.db.write(
            "INSERT INTO criteria_activations (province_code, year, model_kind, criteria_set_id,"
            " activated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (province_code, year, model_kind) DO UPDATE SET"
            " criteria_set_id = excluded.criteria_set_id, activated_at = excluded.activated_at",
            (province_code, year, kind.value, set_id, to_db(utcnow())),
        )
        return previous

    async def activated_id(self, province_code: str, year: int, kind: ModelKind) -> str | None:
        """The set id activated for this province, year and model, if any (read as committed,
        without a round trip: `criteria activate` may change it from another process)."""
        rows = await self.db.read_small(
            "SELECT criteria_set_id FROM criteria_activations"
            " WHERE province_code = ? AND year = ? AND model_kind = ?",
            (province_code, year, kind.value),
        )
        return rows[0]["criteria_set_id"] if rows else None

    async def in_force(self, province_code: str, year: int, kind: ModelKind) -> StoredCriteriaSet:
        """The set activated for this province, year and model; else the shipped default.

        The default is the shipped set of that model whose years cover `year`, else the newest
        shipped set of that model. It is stored on first use, so it too has an id to record.
        """
        activated = await self.activated_id(province_code, year, kind)
        if activated is not None:
            stored = await self.get(activated)
            if stored is not None:
                return stored
        default = shipped_default(kind, year)
        if default is None:
            raise CriteriaError(f"no criteria set for {kind.value}: none activated, none shipped")
        set_id = await self.store(default.criteria_set, default.source_sha256)
        return await self.get(set_id)

    async def _exists(self, set_id: str) -> bool:
        rows = await self.db.conn.execute_fetchall(
            "SELECT 1 FROM criteria_sets WHERE id = ?", (set_id,)
        )
        return bool(rows)


def _stored(row) -> StoredCriteriaSet:
    return StoredCriteriaSet(
        set_id=row["id"],
        criteria_set=CriteriaSet.model_validate_json(row["body"], context=STORED),
        source_sha256=row["source_sha256"],
        loaded_at=row["loaded_at"],
    )
