"""Enrolled people: one row per Telegram account."""

from storage.clock import to_db, utcnow
from storage.db import Database
from storage.models import Area, Person, Role
from storage.text import nfc


class PeopleRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self,
        telegram_id: int,
        full_name: str,
        phone: str,
        role: Role,
        area_id: int | None,
        locale: str,
    ) -> Person:
        cursor = await self.db.write(
            "INSERT INTO people (telegram_id, full_name, phone, role, area_id, locale, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (telegram_id, nfc(full_name), phone, role.value, area_id, locale, to_db(utcnow())),
        )
        return await self.get(cursor.lastrowid)

    async def get(self, person_id: int) -> Person | None:
        return await self._one("SELECT * FROM people WHERE id = ?", (person_id,))

    async def by_telegram_id(self, telegram_id: int) -> Person | None:
        return await self._one("SELECT * FROM people WHERE telegram_id = ?", (telegram_id,))

    async def set_locale(self, person_id: int, locale: str) -> None:
        await self.db.write("UPDATE people SET locale = ? WHERE id = ?", (locale, person_id))

    async def set_active(self, person_id: int, active: bool) -> None:
        await self.db.write("UPDATE people SET active = ? WHERE id = ?", (int(active), person_id))

    async def in_area(self, area: Area, offset: int = 0, limit: int = 10) -> list[Person]:
        """People whose area lies within `area`, by name."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT people.* FROM people JOIN areas ON areas.id = people.area_id"
            f" WHERE {_WITHIN} ORDER BY people.full_name, people.id LIMIT ? OFFSET ?",
            (*_within_params(area), limit, offset),
        )
        return [Person.model_validate(dict(row)) for row in rows]

    async def count_in_area(self, area: Area) -> int:
        rows = await self.db.conn.execute_fetchall(
            f"SELECT COUNT(*) FROM people JOIN areas ON areas.id = people.area_id WHERE {_WITHIN}",
            _within_params(area),
        )
        return rows[0][0]

    async def _one(self, sql: str, params: tuple) -> Person | None:
        rows = await self.db.conn.execute_fetchall(sql, params)
        return Person.model_validate(dict(rows[0])) if rows else None


# The SQL twin of Area.contains: the same test, as a WHERE clause over `areas`.
_WITHIN = (
    "CASE ? WHEN 'province' THEN areas.province_code = ?"
    " WHEN 'commune' THEN areas.commune_code = ? ELSE areas.id = ? END"
)


def _within_params(area: Area) -> tuple:
    return (area.level.value, area.code, area.code, area.id)
