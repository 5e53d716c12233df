"""Households per hamlet, and per child area of a report: the denominator of the rate of
households recognised as learning families.

A commune's or province's count is known only when every one of its hamlets has one; a partly
counted area shows the rate as unknown (with how many hamlets are counted), never as a rate
over the counted part.
"""

from dataclasses import dataclass

from storage.area_scope import within
from storage.audit import AuditLog
from storage.db import Database
from storage.models import Area, AreaLevel, Person

# The column naming a hamlet's child area, by the level of the area reported on.
_CHILD = {
    None: "province_code",
    AreaLevel.PROVINCE: "commune_code",
    AreaLevel.COMMUNE: "CAST(id AS TEXT)",
    AreaLevel.HAMLET: "CAST(id AS TEXT)",
}


@dataclass(frozen=True)
class Households:
    hamlets: int = 0  # hamlets in the area
    counted: int = 0  # of which have a household count
    total: int = 0  # households of the counted hamlets

    @property
    def known(self) -> int | None:
        """The area's households, or None unless every hamlet (at least one) is counted."""
        return self.total if self.hamlets and self.counted == self.hamlets else None

    def __add__(self, other: "Households") -> "Households":
        return Households(
            self.hamlets + other.hamlets, self.counted + other.counted, self.total + other.total
        )


class HouseholdRepository:
    def __init__(self, db: Database, audit: AuditLog) -> None:
        self.db, self.audit = db, audit

    async def set(self, hamlet: Area, households: int | None) -> None:
        if hamlet.level is not AreaLevel.HAMLET:
            raise ValueError("households are counted per hamlet")
        await self.db.write(
            "UPDATE areas SET households = ? WHERE id = ? AND level = 'hamlet'",
            (households, hamlet.id),
        )

    async def change(self, hamlet: Area, households: int | None, actor: Person | None) -> None:
        """Set a hamlet's count and audit it in one transaction; `actor` None: the command
        line."""
        async with self.db.transaction():
            before = await self.of(hamlet)
            await self.set(hamlet, households)
            await self.audit.record(
                "hamlet.households_set",
                "area",
                hamlet.id,
                actor_id=actor.id if actor else None,
                actor_telegram_id=actor.telegram_id if actor else None,
                area_id=hamlet.id,
                before={"households": before},
                after={"households": households} | ({} if actor else {"by": "command line"}),
            )

    async def of(self, hamlet: Area) -> int | None:
        rows = await self.db.conn.execute_fetchall(
            "SELECT households FROM areas WHERE id = ?", (hamlet.id,)
        )
        return rows[0]["households"] if rows else None

    async def per_child(self, area: Area | None) -> dict[str, Households]:
        """Households per child area of a report on `area`, keyed like the summary's rows:
        province or commune code, or the hamlet's id as text."""
        child = _CHILD[area.level if area else None]
        inside, params = within(area, hamlet_column="id")
        where = f"level = 'hamlet' AND {inside}"
        rows = await self.db.conn.execute_fetchall(
            f"SELECT {child} AS child, COUNT(*) AS hamlets, COUNT(households) AS counted,"
            f" COALESCE(SUM(households), 0) AS total FROM areas WHERE {where} GROUP BY child",
            params,
        )
        return {
            str(row["child"]): Households(row["hamlets"], row["counted"], row["total"])
            for row in rows
        }


# National targets for 2025 (QĐ 387/QĐ-TTg): shares recognised as learning families and clans.
FAMILY_TARGET = 0.70
CLAN_TARGET = 0.65


def family_rate(recognised_families: int, households: Households) -> float | None:
    """Recognised learning families per household, or None when the count is not known.

    (The clans' rate would need the number of clans of an area, which is not recorded.)
    """
    known = households.known
    if not known:
        return None
    return recognised_families / known
