"""Enrolled people: one row per Telegram account."""

from storage.area_scope import within
from storage.cache import ReadThrough
from storage.clock import to_db, utcnow
from storage.db import Database
from storage.models import Area, Person, Role
from storage.text import nfc

CACHED_PEOPLE = 4096  # the people most recently seen by the gate, kept in memory


class PeopleRepository:
    """People; the gate's lookup by Telegram id is answered from memory when it can be.

    Every write to `people` goes through this class and forgets what was kept, so a role
    change, a deactivation or a new language holds from the person's next update. Only the
    bot process writes `people` (no command-line command does); a new way to change people
    from outside it must go through this class in that process, or drop this cache.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._by_telegram_id: ReadThrough[int, Person] = ReadThrough(db, CACHED_PEOPLE)

    async def _write(self, sql: str, params: tuple):
        self._by_telegram_id.writing()
        try:
            return await self.db.write(sql, params)
        finally:
            self._by_telegram_id.writing()

    async def add(
        self,
        telegram_id: int,
        full_name: str,
        phone: str,
        role: Role,
        area_id: int | None,
        locale: str,
    ) -> Person:
        cursor = await self._write(
            "INSERT INTO people (telegram_id, full_name, phone, role, area_id, locale, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (telegram_id, nfc(full_name), phone, role.value, area_id, locale, to_db(utcnow())),
        )
        return await self.get(cursor.lastrowid)

    async def get(self, person_id: int) -> Person | None:
        return await self._one("SELECT * FROM people WHERE id = ?", (person_id,))

    async def by_telegram_id(self, telegram_id: int) -> Person | None:
        cache = self._by_telegram_id
        person = cache.rows.get(telegram_id)
        if person is None:
            ticket = cache.ticket()
            # As committed, without a round trip (`Database.read_small`): the read cannot
            # overlap a write of this process, and a write still uncommitted is not seen.
            rows = await self.db.read_small(
                "SELECT * FROM people WHERE telegram_id = ?", (telegram_id,)
            )
            person = Person.model_validate(dict(rows[0])) if rows else None
            cache.keep(ticket, telegram_id, person)
        return person

    async def set_locale(self, person_id: int, locale: str) -> None:
        await self._write("UPDATE people SET locale = ? WHERE id = ?", (locale, person_id))

    async def set_active(self, person_id: int, active: bool) -> bool:
        """(De)activate; False when the person already was (a double tap, two officers)."""
        cursor = await self._write(
            "UPDATE people SET active = ? WHERE id = ? AND active != ?",
            (int(active), person_id, int(active)),
        )
        return cursor.rowcount == 1

    async def change_role(self, person_id: int, role: Role, area_id: int | None) -> None:
        await self._write(
            "UPDATE people SET role = ?, area_id = ? WHERE id = ?", (role.value, area_id, person_id)
        )

    async def in_area(self, area: Area | None, offset: int = 0, limit: int = 10) -> list[Person]:
        """People whose area lies within `area` (everyone when None), by name."""
        where, params = within(area, "areas", "id")  # the SQL twin of Area.contains
        rows = await self.db.conn.execute_fetchall(
            "SELECT people.* FROM people LEFT JOIN areas ON areas.id = people.area_id"
            f" WHERE {where} ORDER BY people.full_name, people.id LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [Person.model_validate(dict(row)) for row in rows]

    async def count_in_area(self, area: Area | None) -> int:
        where, params = within(area, "areas", "id")  # the SQL twin of Area.contains
        rows = await self.db.conn.execute_fetchall(
            "SELECT COUNT(*) FROM people LEFT JOIN areas ON areas.id = people.area_id"
            f" WHERE {where}",
            params,
        )
        return rows[0][0]

    async def _one(self, sql: str, params: tuple) -> Person | None:
        rows = await self.db.conn.execute_fetchall(sql, params)
        return Person.model_validate(dict(rows[0])) if rows else None
