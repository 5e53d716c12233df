"""The rows within an area, as SQL: the one map from an area's level to the column that says it.

Rows that belong to a hamlet (registrations, and hamlets in `areas`) carry their province's and
commune's codes, and the hamlet's id in a column of their own (`hamlet_id`; `id` in `areas`).
"""

from storage.models import Area, AreaLevel


def within(
    area: Area | None, alias: str = "", hamlet_column: str = "hamlet_id"
) -> tuple[str, list]:
    """A WHERE condition (on table `alias`, if given) and its parameters; None is everywhere."""
    if area is None:
        return "1 = 1", []
    column, value = {
        AreaLevel.PROVINCE: ("province_code", area.code),
        AreaLevel.COMMUNE: ("commune_code", area.code),
        AreaLevel.HAMLET: (hamlet_column, area.id),
    }[area.level]
    return f"{alias}.{column} = ?" if alias else f"{column} = ?", [value]
