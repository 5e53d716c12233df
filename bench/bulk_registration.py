"""Storage cost of registering a hamlet's list at once, against one family at a time.

Baseline: /dangky's storage path for each family (a draft started, saved, and registered
with its audit entry by the use case the dialog calls). Measured: `register_many` for the
same families in one transaction (numbers, rows, an audit entry each). Both on fresh real
SQLite files, alternately, in this process. Prints figures, never pass/fail.

    PYTHONPATH=. .venv/bin/python bench/bulk_registration.py [--families 250] [--runs 5]
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from storage import Storage
from storage.areas import official_communes, official_provinces
from storage.criteria import ModelKind
from storage.models import Role
from storage.registrations import BulkMode, NewRegistration
from storage.usecases.registrations import register

YEAR = 2026


async def fresh(directory: Path, name: str):
    storage = await Storage.open(directory / f"{name}.sqlite3")
    await storage.areas.load_official(official_provinces(), official_communes())
    commune = await storage.areas.by_code("00070")
    hamlet, _ = await storage.areas.add_hamlet(commune, "Thôn Đông")
    person = await storage.people.add(
        1, "Trần Văn Trưởng", "+84912345678", Role.HAMLET_HEAD, hamlet.id, "vi"
    )
    set_id = (await storage.criteria.in_force("01", YEAR, ModelKind.FAMILY)).set_id
    return storage, hamlet, person, set_id


def families(count: int) -> list[NewRegistration]:
    return [
        NewRegistration(
            kind=ModelKind.FAMILY, head_name=f"Nguyễn Văn {i:04d}", members=4, school_age_children=1
        )
        for i in range(count)
    ]


async def one_at_a_time(directory: Path, count: int) -> float:
    storage, hamlet, person, set_id = await fresh(directory, f"single-{time.monotonic_ns()}")
    start = time.perf_counter()
    for entry in families(count):
        draft = await storage.registrations.start_draft(person.id, hamlet.id, YEAR)
        answers = {"kind": "family", "criteria_set_id": set_id, **entry.model_dump(mode="json")}
        await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
        draft = await storage.registrations.draft_of(person.id)
        await register(storage, person, draft, hamlet)  # what /dangky's Confirm does
    elapsed = time.perf_counter() - start
    await storage.close()
    return elapsed


async def at_once(directory: Path, count: int) -> float:
    storage, hamlet, person, set_id = await fresh(directory, f"bulk-{time.monotonic_ns()}")
    entries = families(count)
    start = time.perf_counter()
    draft = await storage.registrations.start_bulk_draft(person.id, BulkMode.LIST, hamlet.id, YEAR)
    made = await storage.registrations.register_many(
        draft, hamlet, entries, {ModelKind.FAMILY: set_id}, person
    )
    elapsed = time.perf_counter() - start
    assert len(made) == count
    await storage.close()
    return elapsed


async def main(count: int, runs: int) -> None:
    single, bulk = [], []
    with tempfile.TemporaryDirectory() as directory:
        for _ in range(runs):
            single.append(await one_at_a_time(Path(directory), count))
            bulk.append(await at_once(Path(directory), count))
    a, b = statistics.median(single), statistics.median(bulk)
    print(f"{count} families, median of {runs} runs, fresh SQLite files:")
    print(f"  one at a time (/dangky's storage path + audit): {a * 1000:8.1f} ms")
    print(f"  register_many, one transaction:                  {b * 1000:8.1f} ms")
    print(f"  ratio one-at-a-time / at once: {a / b:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", type=int, default=250)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.families, arguments.runs))
