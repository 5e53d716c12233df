"""Provinces and communes from the official list; hamlets kept by their communes."""

from collections.abc import Iterable
from dataclasses import dataclass

from vietnam_provinces import Province, Ward

from storage.db import Database
from storage.models import Area, AreaLevel
from storage.text import fold, nfc, search_key

_COLUMNS = "id, level, code, name, parent_id, province_code, commune_code"


@dataclass(frozen=True)
class OfficialUnit:
    code: str
    name: str
    province_code: str


def official_provinces() -> list[OfficialUnit]:
    return [
        OfficialUnit(f"{int(p.code):02d}", p.name, f"{int(p.code):02d}")
        for p in Province.iter_all()
    ]


def official_communes() -> list[OfficialUnit]:
    return [
        OfficialUnit(f"{int(w.code):05d}", w.name, f"{int(w.province_code):02d}")
        for w in Ward.iter_all()
    ]


def _area(row) -> Area:
    return Area.model_validate(dict(row))


class AreaRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._by_id: dict[int, Area] = {}

    async def load_official(
        self, provinces: Iterable[OfficialUnit], communes: Iterable[OfficialUnit]
    ) -> int:
        """Insert the units that are not there yet; return how many were added."""
        added = 0
        async with self.db.transaction() as conn:
            for unit in provinces:
                cursor = await conn.execute(
                    "INSERT OR IGNORE INTO areas (level, code, name, name_fold, search_key,"
                    " province_code) VALUES ('province', ?, ?, ?, ?, ?)",
                    (unit.code, nfc(unit.name), fold(unit.name), search_key(unit.name), unit.code),
                )
                added += cursor.rowcount
            province_ids = {
                row["code"]: row["id"]
                for row in await conn.execute_fetchall(
                    "SELECT id, code FROM areas WHERE level = 'province'"
                )
            }
            for unit in communes:
                cursor = await conn.execute(
                    "INSERT OR IGNORE INTO areas (level, code, name, name_fold, search_key,"
                    " parent_id, province_code, commune_code)"
                    " VALUES ('commune', ?, ?, ?, ?, ?, ?, ?)",
                    (
                        unit.code,
                        nfc(unit.name),
                        fold(unit.name),
                        search_key(unit.name),
                        province_ids[unit.province_code],
                        unit.province_code,
                        unit.code,
                    ),
                )
                added += cursor.rowcount
        return added

    async def count(self, level: AreaLevel) -> int:
        rows = await self.db.conn.execute_fetchall(
            "SELECT COUNT(*) FROM areas WHERE level = ?", (level.value,)
        )
        return rows[0][0]

    async def get(self, area_id: int) -> Area | None:
        """An area by id, from memory after the first read: area rows are never changed
        (nothing renames or moves an area), and the gate needs the person's area on every
        update."""
        if area_id not in self._by_id:
            area = await self._one(f"SELECT {_COLUMNS} FROM areas WHERE id = ?", (area_id,))
            if area is None:
                return None
            self._by_id[area_id] = area
        return self._by_id[area_id]

    async def by_code(self, code: str) -> Area | None:
        """A province (2 digits) or a commune (5 digits) by its official code."""
        level = {2: AreaLevel.PROVINCE, 5: AreaLevel.COMMUNE}.get(len(code))
        if level is None or not code.isdigit():
            return None
        return await self._one(
            f"SELECT {_COLUMNS} FROM areas WHERE level = ? AND code = ?", (level.value, code)
        )

    async def hamlet(self, commune: Area, name: str) -> Area | None:
        return await self._one(
            f"SELECT {_COLUMNS} FROM areas WHERE level = 'hamlet' AND parent_id = ?"
            " AND name_fold = ?",
            (commune.id, fold(name)),
        )

    async def add_hamlet(self, commune: Area, name: str) -> tuple[Area, bool]:
        """Add a hamlet under a commune; return it and whether it is new."""
        existing = await self.hamlet(commune, name)
        if existing:
            return existing, False
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO areas (level, name, name_fold, search_key, parent_id,"
                " province_code, commune_code) VALUES ('hamlet', ?, ?, ?, ?, ?, ?)",
                (
                    nfc(name),
                    fold(name),
                    search_key(name),
                    commune.id,
                    commune.province_code,
                    commune.commune_code,
                ),
            )
        return await self.get(cursor.lastrowid), True

    async def resolve(self, spec: str, commune: Area | None = None) -> Area | None:
        """An area written as `01` (province), `00070` (commune) or `00070/Thôn Đông` (hamlet,
        also `00070/thon dong`); with `commune` (the person's own), also `Thôn Đông` alone."""
        code, _, hamlet_name = nfc(spec).partition("/")
        area = await self.by_code(code.strip())
        if not hamlet_name:
            if area is None and commune is not None and commune.level is AreaLevel.COMMUNE:
                name = code.strip()
                return await self.hamlet(commune, name) or await self._typed_plainly(commune, name)
            return area
        if area is None or area.level is not AreaLevel.COMMUNE:
            return None
        return await self.hamlet(area, hamlet_name) or await self._typed_plainly(area, hamlet_name)

    async def _typed_plainly(self, commune: Area, name: str) -> Area | None:
        """The one hamlet of the commune whose name is `name` typed without diacritics
        (`thon dong` for Thôn Đông); none when two hamlets would read alike."""
        rows = await self.db.conn.execute_fetchall(
            f"SELECT {_COLUMNS} FROM areas WHERE level = 'hamlet' AND parent_id = ?"
            " AND search_key = ? LIMIT 2",
            (commune.id, search_key(name)),
        )
        return _area(rows[0]) if len(rows) == 1 else None

    async def lineage(self, area: Area) -> list[Area]:
        """The area and its ancestors, nearest first: hamlet, commune, province."""
        chain = [area]
        while chain[-1].parent_id is not None:
            chain.append(await self.get(chain[-1].parent_id))
        return chain

    async def lineage_of(self, area_id: int | None) -> list[Area]:
        """The lineage of the area with this id; nothing for None (the whole country)."""
        return [] if area_id is None else await self.lineage(await self.get(area_id))

    async def children(self, area: Area) -> list[Area]:
        rows = await self.db.conn.execute_fetchall(
            f"SELECT {_COLUMNS} FROM areas WHERE parent_id = ? ORDER BY name", (area.id,)
        )
        return [_area(row) for row in rows]

    async def _one(self, sql: str, params: tuple) -> Area | None:
        rows = await self.db.conn.execute_fetchall(sql, params)
        return _area(rows[0]) if rows else None
