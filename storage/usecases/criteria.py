"""Putting a criteria set in force for a province and year."""

from storage import Storage
from storage.criteria import LoadedSet
from storage.models import Area, Person
from storage.usecases import COMMAND_LINE, record


async def activate_criteria(
    storage: Storage, actor: Person | None, loaded: LoadedSet, province: Area, year: int, file: str
) -> tuple[str, str | None]:
    """Store the set (once per content) and put it in force, audited, together; the stored
    set's id and the id of the set it replaces (None: the shipped one was in force). `actor`
    None: the command line. Raises `CriteriaError`, with nothing written, when the set cannot
    be put in force there."""
    criteria_set = loaded.criteria_set
    async with storage.db.transaction():
        set_id = await storage.criteria.store(criteria_set, loaded.source_sha256)
        previous = await storage.criteria.activate(set_id, province.code, year)
        after = {
            "province_code": province.code,
            "year": year,
            "model_kind": criteria_set.model_kind.value,
            "criteria_set_id": set_id,
            "file": file,
            "source_sha256": loaded.source_sha256,
        }
        await record(
            storage,
            actor,
            "criteria.activated",
            "criteria_set",
            set_id,
            area_id=province.id,
            before={"criteria_set_id": previous} if previous else None,
            after=after if actor else after | COMMAND_LINE,
        )
    return set_id, previous
