"""Hamlets from a commune's CSV list: `commune_code,hamlet_name`, one hamlet a row."""

import csv
from dataclasses import dataclass, field
from pathlib import Path

from storage import Storage
from storage.models import AreaLevel
from storage.text import nfc

HEADER = ["commune_code", "hamlet_name"]


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
        if header != HEADER:
            report.problems.append((1, f"the header must be {','.join(HEADER)}"))
            return report
        for row in rows:
            problem = await _import_row(storage, row, report)
            if problem:
                report.problems.append((rows.line_num, problem))
    return report


async def _import_row(storage: Storage, row: list[str], report: ImportReport) -> str | None:
    if not any(cell.strip() for cell in row):
        return None
    if len(row) != 2:
        return f"expected 2 fields, found {len(row)}"
    code, name = row[0].strip(), nfc(row[1])
    if not name:
        return "the hamlet name is empty"
    commune = await storage.areas.by_code(code)
    if commune is None or commune.level is not AreaLevel.COMMUNE:
        return f"unknown commune code {code!r}"
    _, created = await storage.areas.add_hamlet(commune, name)
    if created:
        report.added += 1
    else:
        report.already_present += 1
    return None
