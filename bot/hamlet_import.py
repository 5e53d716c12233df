"""Hamlets from a commune's CSV list: `commune_code,hamlet_name`, one hamlet a row, with an
optional third column `households` (the hamlet's number of households; empty: not known)."""

import csv
from dataclasses import dataclass, field
from pathlib import Path

from storage import Storage
from storage.models import AreaLevel
from storage.text import nfc

HEADER = ["commune_code", "hamlet_name"]
HOUSEHOLDS = "households"


@dataclass
class ImportReport:
    added: int = 0
    already_present: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.added} hamlets added, {self.already_present} already present, "
            f"{len(self.problems)} rows rejected"
        )


async def import_hamlets(storage: Storage, path: Path) -> ImportReport:
    """Import every good row; report each bad one with its line number."""
    report = ImportReport()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = csv.reader(handle)
        header = [nfc(cell).lower() for cell in next(rows, [])]
        if header not in (HEADER, [*HEADER, HOUSEHOLDS]):
            expected = ",".join(HEADER)
            report.problems.append((1, f"the header must be {expected} or {expected},{HOUSEHOLDS}"))
            return report
        for row in rows:
            problem = await _import_row(storage, row, report, len(header))
            if problem:
                report.problems.append((rows.line_num, problem))
    return report


MAX_HOUSEHOLDS = 100_000  # a hamlet has about 250; more is a typing slip (and past SQLite's int)


def households_of(text: str) -> int | None:
    """A household count as written in a cell or on the command line; ValueError if bad."""
    count = int(text.strip())
    if not 0 <= count <= MAX_HOUSEHOLDS:
        raise ValueError(text)
    return count


async def _import_row(
    storage: Storage, row: list[str], report: ImportReport, fields: int
) -> str | None:
    if not any(cell.strip() for cell in row):
        return None
    if len(row) != fields:
        return f"expected {fields} fields, found {len(row)}"
    code, name = row[0].strip(), nfc(row[1])
    if not name:
        return "the hamlet name is empty"
    households = None
    if fields == 3 and row[2].strip():
        try:
            households = households_of(row[2])
        except ValueError:
            return f"households must be a whole number, 0 or more, not {row[2].strip()!r}"
    commune = await storage.areas.by_code(code)
    if commune is None or commune.level is not AreaLevel.COMMUNE:
        return f"unknown commune code {code!r}"
    hamlet, created = await storage.areas.add_hamlet(commune, name)
    if households is not None:
        await storage.households.set(hamlet, households)
    if created:
        report.added += 1
    else:
        report.already_present += 1
    return None
