"""Evidence photos per indicator of a registration: rows in SQLite, files in the media folder.

A photo's file is `MEDIA_DIR/<year>/<registration number>/<sha256>.<ext>`, written to a
temporary file and renamed, so the folder never holds half a file. Deleted photos move to
`MEDIA_DIR/trash/` until `python -m bot purge-trash`.
"""

import json
import os
import tempfile
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from storage.clock import to_db, utcnow
from storage.db import Database
from storage.images import ImageFacts
from storage.models import Area, Model
from storage.near_duplicates import NearDuplicateIndex
from storage.registrations import Registration, _filters, _registration

TRASH = "trash"


class EvidenceStatus(StrEnum):
    STORED = "stored"
    PENDING_DOWNLOAD = "pending_download"


class MediaKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


class FlagKind(StrEnum):
    DUPLICATE = "duplicate"  # the same file is evidence of another registration
    NEAR_DUPLICATE = "near_duplicate"  # a resized, cropped or recompressed copy of another's
    SAME_REGISTRATION = "same_registration"  # the same photo or a copy, for another indicator
    BLANK = "blank"  # almost no detail: one colour, or nearly
    CAPTURED_OUTSIDE_YEAR = "captured_outside_year"  # EXIF date not in the programme year


class Flag(Model):
    kind: FlagKind
    registration_number: str | None = None
    indicator_code: str | None = None
    evidence_id: int | None = None
    distance: int | None = None
    captured_at: datetime | None = None


class Evidence(Model):
    id: int
    registration_id: int
    indicator_code: str
    status: EvidenceStatus
    media_kind: MediaKind
    file_id: str
    file_unique_id: str
    sha256: str | None
    bytes: int | None
    width: int | None
    height: int | None
    mime_type: str | None
    path: str | None
    phash: str | None
    captured_at: datetime | None
    message_date: datetime
    uploaded_by: int
    caption: str | None
    forwarded: bool
    flags: list[Flag]
    download_attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class Received(Model):
    """What a message brought, before it is stored."""

    registration_id: int
    indicator_code: str
    media_kind: MediaKind
    file_id: str
    file_unique_id: str
    message_date: datetime
    uploaded_by: int
    caption: str | None = None
    forwarded: bool = False
    mime_type: str | None = None


class EvidenceSession(Model):
    person_id: int
    registration_id: int
    indicator_code: str | None
    stored: int
    updated_at: datetime


def _evidence(row) -> Evidence:
    flags = [Flag.model_validate(f) for f in json.loads(row["flags"])]
    values = dict(row) | {"flags": flags, "forwarded": bool(row["forwarded"])}
    return Evidence.model_validate(values)


def _flags_json(flags: list[Flag]) -> str:
    return json.dumps([f.model_dump(mode="json", exclude_none=True) for f in flags])


def _facts_values(facts: ImageFacts) -> tuple:
    captured = facts.captured_at.isoformat() if facts.captured_at else None
    return (
        facts.sha256,
        facts.size,
        facts.width,
        facts.height,
        facts.mime_type,
        facts.phash,
        captured,
    )


def in_programme_year(captured: datetime, registration: Registration) -> bool:
    """Taken in the registration's year, or in the year before but not before the day it was
    registered: a 2027 registration made in December 2026 may show that December's photos."""
    if captured.year == registration.year:
        return True
    made = registration.created_at.date()
    return captured.year == registration.year - 1 and captured.date() >= made


class EvidenceRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.near = NearDuplicateIndex(db)

    # --- rows ---------------------------------------------------------------------------

    async def add(
        self,
        received: Received,
        facts: ImageFacts | None,
        path: str | None,
        flags: list[Flag] = (),
        error: str | None = None,
        attempts: int = 1,
    ) -> Evidence:
        """A stored photo (facts and path given), or one still to download (both None)."""
        now = to_db(utcnow())
        status = EvidenceStatus.STORED if facts else EvidenceStatus.PENDING_DOWNLOAD
        values = _facts_values(facts) if facts else (None,) * 7
        mime = facts.mime_type if facts else received.mime_type
        cursor = await self.db.write(
            "INSERT INTO evidence (registration_id, indicator_code, status, media_kind, file_id,"
            " file_unique_id, sha256, bytes, width, height, mime_type, phash, captured_at, path,"
            " message_date, uploaded_by, caption, forwarded, flags, download_attempts,"
            " last_error, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                received.registration_id,
                received.indicator_code,
                status.value,
                received.media_kind.value,
                received.file_id,
                received.file_unique_id,
                *values[:4],
                mime,
                *values[5:],
                path,
                to_db(received.message_date),
                received.uploaded_by,
                received.caption,
                int(received.forwarded),
                _flags_json(list(flags)),
                attempts,
                error,
                now,
                now,
            ),
        )
        if facts is not None:
            await self.near.add(cursor.lastrowid, facts.fingerprint)
        return await self.get(cursor.lastrowid)

    async def complete_download(
        self, evidence_id: int, facts: ImageFacts, path: str, flags: list[Flag]
    ) -> Evidence:
        await self.db.write(
            "UPDATE evidence SET status = 'stored', sha256 = ?, bytes = ?, width = ?, height = ?,"
            " mime_type = ?, phash = ?, captured_at = ?, path = ?, flags = ?,"
            " download_attempts = download_attempts + 1, last_error = NULL, updated_at = ?"
            " WHERE id = ?",
            (*_facts_values(facts), path, _flags_json(flags), to_db(utcnow()), evidence_id),
        )
        await self.near.add(evidence_id, facts.fingerprint)
        return await self.get(evidence_id)

    async def download_failed(self, evidence_id: int, error: str) -> None:
        await self.db.write(
            "UPDATE evidence SET download_attempts = download_attempts + 1, last_error = ?,"
            " updated_at = ? WHERE id = ?",
            (error[:500], to_db(utcnow()), evidence_id),
        )

    async def get(self, evidence_id: int) -> Evidence | None:
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM evidence WHERE id = ?", (evidence_id,)
        )
        return _evidence(rows[0]) if rows else None

    async def of_registration(self, registration_id: int) -> list[Evidence]:
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM evidence WHERE registration_id = ? ORDER BY indicator_code, id",
            (registration_id,),
        )
        return [_evidence(row) for row in rows]

    async def counts(self, registration_id: int) -> dict[str, int]:
        """Photos per indicator code (pending downloads included: they are not lost)."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT indicator_code, COUNT(*) AS n FROM evidence WHERE registration_id = ?"
            " GROUP BY indicator_code",
            (registration_id,),
        )
        return {row["indicator_code"]: row["n"] for row in rows}

    async def same_in_indicator(
        self,
        registration_id: int,
        indicator_code: str,
        *,
        file_unique_id: str | None = None,
        sha256: str | None = None,
        except_id: int | None = None,
    ) -> Evidence | None:
        """This photo already given for this indicator of this registration, if it was."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM evidence WHERE registration_id = ? AND indicator_code = ?"
            " AND (file_unique_id = ? OR sha256 = ?) AND id != ? ORDER BY id LIMIT 1",
            (registration_id, indicator_code, file_unique_id, sha256, except_id or 0),
        )
        return _evidence(rows[0]) if rows else None

    async def flags_for(
        self,
        registration: Registration,
        facts: ImageFacts,
        file_unique_id: str,
        indicator_code: str | None = None,
        except_id: int | None = None,
    ) -> list[Flag]:
        """Flags for a photo about to be kept for `indicator_code` (row `except_id` if it has
        one): the same file or a near copy already evidence of another registration (the
        earliest / the closest) or of another indicator of this one; blank; taken outside the
        registration's programme year. Index lookups only."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT e.id, e.registration_id, e.indicator_code, r.number FROM evidence e"
            " JOIN registrations r ON r.id = e.registration_id WHERE e.sha256 = ?"
            " UNION SELECT e.id, e.registration_id, e.indicator_code, r.number FROM evidence e"
            " JOIN registrations r ON r.id = e.registration_id WHERE e.file_unique_id = ?"
            " ORDER BY 1",
            (facts.sha256, file_unique_id),
        )
        exact = {row["id"] for row in rows}
        same = [(0, row) for row in rows]
        matches = await self.near.similar(facts.fingerprint)
        if matches:
            ids = ",".join(str(m.evidence_id) for m in matches)
            found = await self.db.conn.execute_fetchall(
                "SELECT e.id, e.registration_id, e.indicator_code, r.number FROM evidence e"
                f" JOIN registrations r ON r.id = e.registration_id WHERE e.id IN ({ids})"
            )
            by_id = {row["id"]: row for row in found}
            same += [
                (m.distance, by_id[m.evidence_id])
                for m in matches
                if m.evidence_id in by_id and m.evidence_id not in exact
            ]
        same = [(d, row) for d, row in same if row["id"] != except_id]
        flags = []
        elsewhere = [(d, row) for d, row in same if row["registration_id"] != registration.id]
        if elsewhere:
            distance, row = min(elsewhere, key=lambda pair: (pair[0], pair[1]["id"]))
            kind = FlagKind.DUPLICATE if row["id"] in exact else FlagKind.NEAR_DUPLICATE
            flags.append(
                Flag(
                    kind=kind,
                    registration_number=row["number"],
                    evidence_id=row["id"],
                    distance=None if kind is FlagKind.DUPLICATE else distance,
                )
            )
        here = [
            (d, row)
            for d, row in same
            if row["registration_id"] == registration.id and row["indicator_code"] != indicator_code
        ]
        if here:
            distance, row = min(here, key=lambda pair: (pair[0], pair[1]["id"]))
            flags.append(
                Flag(
                    kind=FlagKind.SAME_REGISTRATION,
                    registration_number=row["number"],
                    indicator_code=row["indicator_code"],
                    evidence_id=row["id"],
                    distance=distance,
                )
            )
        if facts.fingerprint.blank:
            flags.append(Flag(kind=FlagKind.BLANK))
        if facts.captured_at is not None and not in_programme_year(facts.captured_at, registration):
            flags.append(Flag(kind=FlagKind.CAPTURED_OUTSIDE_YEAR, captured_at=facts.captured_at))
        return flags

    async def pending(self) -> list[Evidence]:
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM evidence WHERE status = 'pending_download' ORDER BY id"
        )
        return [_evidence(row) for row in rows]

    async def delete(self, evidence_id: int) -> bool:
        """Delete the photo's row and its review, if any (the audit log keeps both); False
        when it was gone already (a double tap, two people at once)."""
        async with self.db.transaction() as conn:
            await NearDuplicateIndex.remove_in(conn, evidence_id)
            await conn.execute("DELETE FROM evidence_reviews WHERE evidence_id = ?", (evidence_id,))
            cursor = await conn.execute("DELETE FROM evidence WHERE id = ?", (evidence_id,))
        return cursor.rowcount == 1

    async def path_in_use(self, path: str) -> bool:
        rows = await self.db.conn.execute_fetchall(
            "SELECT 1 FROM evidence WHERE path = ? LIMIT 1", (path,)
        )
        return bool(rows)

    async def by_coverage(
        self, area: Area | None, year: int | tuple[int, ...], offset: int = 0, limit: int = 10
    ) -> tuple[list[tuple[Registration, int]], int]:
        """A page of the area's registrations, those with evidence for fewest indicators first,
        each with that number (newest year first, for several years); and how many
        registrations there are in all."""
        where, params = _filters(area, year, None, None)
        total = await self.db.conn.execute_fetchall(
            f"SELECT COUNT(*) FROM registrations WHERE {where} AND status != 'withdrawn'", params
        )
        rows = await self.db.conn.execute_fetchall(
            "SELECT r.*, (SELECT COUNT(DISTINCT e.indicator_code) FROM evidence e"
            " WHERE e.registration_id = r.id) AS covered"
            f" FROM registrations r WHERE {where} AND status != 'withdrawn'"
            " ORDER BY year DESC, covered, number LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [(_registration(row), row["covered"]) for row in rows], total[0][0]

    # --- what a person is sending now ---------------------------------------------------

    async def session_of(self, person_id: int) -> EvidenceSession | None:
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM evidence_sessions WHERE person_id = ?", (person_id,)
        )
        return EvidenceSession.model_validate(dict(rows[0])) if rows else None

    async def start_session(
        self, person_id: int, registration_id: int, indicator_code: str | None
    ) -> None:
        await self.db.write(
            "INSERT INTO evidence_sessions (person_id, registration_id, indicator_code, stored,"
            " updated_at) VALUES (?, ?, ?, 0, ?) ON CONFLICT (person_id) DO UPDATE SET"
            " registration_id = excluded.registration_id,"
            " indicator_code = excluded.indicator_code, stored = 0,"
            " updated_at = excluded.updated_at",
            (person_id, registration_id, indicator_code, to_db(utcnow())),
        )

    async def count_stored(self, person_id: int, n: int = 1) -> None:
        await self.db.write(
            "UPDATE evidence_sessions SET stored = stored + ?, updated_at = ? WHERE person_id = ?",
            (n, to_db(utcnow()), person_id),
        )

    async def end_session(self, person_id: int) -> None:
        await self.db.write("DELETE FROM evidence_sessions WHERE person_id = ?", (person_id,))


class MediaFolder:
    """The evidence files on disk, under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def relative_path(year: int, number: str, sha256: str, extension: str) -> str:
        return f"{year}/{number}/{sha256}.{extension}"

    def write(self, relative: str, data: bytes) -> Path:
        """Write atomically: a temporary file in the same folder, flushed, then renamed."""
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target

    def trash(self, relative: str) -> Path | None:
        """Move a file into the trash folder, keeping its relative path; None if it is gone."""
        source = self.root / relative
        if not source.is_file():
            return None
        target = self.root / TRASH / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        return target

    def purge_trash(self) -> int:
        """Delete every file in the trash; the number deleted."""
        trash = self.root / TRASH
        if not trash.is_dir():
            return 0
        count = 0
        for path in sorted(trash.rglob("*"), reverse=True):
            if path.is_file() or path.is_symlink():
                path.unlink()
                count += 1
            elif path.is_dir():
                path.rmdir()
        return count
