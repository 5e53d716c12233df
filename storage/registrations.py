"""Registrations of learning families and clans, their drafts, and the programme year."""

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum

from storage.area_scope import within
from storage.audit import AuditLog
from storage.cache import ReadThrough
from storage.clock import to_db, utcnow
from storage.criteria import ModelKind
from storage.db import Database
from storage.models import Area, Model, Person
from storage.text import search_key


class Status(StrEnum):
    REGISTERED = "registered"
    WITHDRAWN = "withdrawn"
    RECOGNISED = "recognised"
    NOT_RECOGNISED = "not_recognised"


NUMBER_PREFIX = {ModelKind.FAMILY: "GD", ModelKind.CLAN: "DH"}
# A registration number as typed: GD-2026-00001, or as a phone keyboard makes it easy.
_NUMBER_TYPED = re.compile(
    rf"^({'|'.join(NUMBER_PREFIX.values())})[\s\-_./]*(\d{{4}})[\s\-_./]*(\d{{1,9}})$",
    re.IGNORECASE,
)


def registration_number(text: str) -> str | None:
    """The registration number `text` means, written as stored, or None if it is not one.

    Numbers are national per kind and year (GD-2026-00001; past 99,999 they grow:
    GD-2026-100000). People type them as printed or as a phone keyboard makes it easy: 'gd
    2026 1', 'GD202600001', 'ĐH-2026-12' (Đ for D). Every command that reads a number uses this.
    """
    match = _NUMBER_TYPED.match(search_key(text))
    if match is None:
        return None
    prefix, year, seq = match.groups()
    return f"{prefix.upper()}-{year}-{int(seq):05d}"


# The columns a registration's answers fill; anything else in a draft is dialog bookkeeping.
DETAIL_FIELDS = (
    "head_name",
    "clan_name",
    "branch",
    "members",
    "school_age_children",
    "households",
    "address",
    "phone",
)


class Registration(Model):
    id: int
    number: str
    kind: ModelKind
    year: int
    hamlet_id: int
    commune_code: str
    province_code: str
    criteria_set_id: str
    name: str
    head_name: str
    clan_name: str | None
    branch: str | None
    members: int | None
    school_age_children: int | None
    households: int | None
    address: str | None
    phone: str | None
    status: Status
    registered_by: int
    created_at: datetime
    updated_at: datetime
    previous_id: int | None = None  # last year's registration this one carries over


class Draft(Model):
    id: int
    person_id: int
    hamlet_id: int | None
    year: int
    answers: dict
    step: int
    created_at: datetime
    updated_at: datetime


class ProgrammeYear(Model):
    province_code: str
    year: int
    registration_close: date
    evaluation_lock: date
    recognition: date

    @classmethod
    def default(cls, province_code: str, year: int) -> "ProgrammeYear":
        """Local practice: register in January, evaluate by November, recognise in December."""
        return cls(
            province_code=province_code,
            year=year,
            registration_close=date(year, 1, 31),
            evaluation_lock=date(year, 11, 30),
            recognition=date(year, 12, 31),
        )

    def problem(self) -> str | None:
        """What is wrong with the dates: 'year' when one is not in the programme year,
        'order' unless registration close ≤ evaluation lock ≤ recognition; None when right."""
        dates = (self.registration_close, self.evaluation_lock, self.recognition)
        if any(day.year != self.year for day in dates):
            return "year"
        if not dates[0] <= dates[1] <= dates[2]:
            return "order"
        return None


class BulkMode(StrEnum):
    LIST = "list"  # a pasted or uploaded list of families
    CARRY = "carry"  # last year's families and clans, registered again


class BulkDraft(Model):
    """What someone has entered towards registering many at once, until Confirm."""

    id: int
    person_id: int
    mode: BulkMode
    hamlet_id: int | None
    year: int
    body: dict
    updated_at: datetime


class NewRegistration(Model):
    """One registration of a batch: its answers, and last year's registration it continues."""

    kind: ModelKind
    head_name: str
    clan_name: str | None = None
    branch: str | None = None
    members: int | None = None
    school_age_children: int | None = None
    households: int | None = None
    address: str | None = None
    phone: str | None = None
    previous_id: int | None = None


# The answer two registrations are compared by, to warn of the same family or clan twice.
IDENTITY_FIELD = {ModelKind.FAMILY: "head_name", ModelKind.CLAN: "clan_name"}


def identity_name(kind: ModelKind, answers: dict) -> str:
    return answers[IDENTITY_FIELD[kind]]


def display_name(kind: ModelKind, answers: dict) -> str:
    """What a registration is called: the household head, or the clan and its branch."""
    if kind is ModelKind.FAMILY:
        return answers["head_name"]
    branch = answers.get("branch")
    return f"{answers['clan_name']} ({branch})" if branch else answers["clan_name"]


def _registration(row) -> Registration:
    return Registration.model_validate(dict(row))


CACHED_DRAFTS = 4096  # the drafts of the people most recently in /dangky, kept in memory
CachedDraft = tuple[Draft | None, str]  # the draft (None: there is none), its answers as JSON
NO_DRAFT: CachedDraft = (None, "")
START_DRAFT_SQL = (
    "INSERT INTO registration_drafts (person_id, hamlet_id, year, answers, step, created_at,"
    " updated_at) VALUES (?, ?, ?, '{}', 0, ?, ?)"
)
SAVE_DRAFT_SQL = (
    "UPDATE registration_drafts SET hamlet_id = ?, answers = ?, step = ?, updated_at = ?"
    " WHERE id = ?"
)


def _cached_draft(row) -> CachedDraft:
    if row is None:
        return NO_DRAFT
    return Draft.model_validate(dict(row) | {"answers": {}}), row["answers"]


def _fresh_draft(cached: CachedDraft) -> Draft | None:
    """A copy the caller may change (answers is a plain dict)."""
    draft, answers = cached
    return None if draft is None else draft.model_copy(update={"answers": json.loads(answers)})


class RegistrationRepository:
    """Registrations and their drafts.

    A person's draft is read on every step of /dangky, so it is kept in memory once read
    (every write to `registration_drafts` goes through this class and updates or forgets
    it), and each step's save waits for the end of the update (`Database.write_at_end`),
    committed with the dialog state and the update's processed mark.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._drafts: ReadThrough[int, CachedDraft] = ReadThrough(db, CACHED_DRAFTS)

    # --- drafts ---------------------------------------------------------------------------

    async def draft_of(self, person_id: int) -> Draft | None:
        cached = self._drafts.rows.get(person_id)
        if cached is None:
            ticket = self._drafts.ticket()
            rows = await self.db.read_small(  # as committed, on the event loop's thread
                "SELECT * FROM registration_drafts WHERE person_id = ?", (person_id,)
            )
            cached = _cached_draft(rows[0] if rows else None)
            self._drafts.keep(ticket, person_id, cached)
        return _fresh_draft(cached)

    async def start_draft(self, person_id: int, hamlet_id: int | None, year: int) -> Draft:
        """A fresh draft, replacing any earlier one of this person."""
        now = to_db(utcnow())

        def start(conn) -> object:
            conn.execute("DELETE FROM registration_drafts WHERE person_id = ?", (person_id,))
            conn.execute(START_DRAFT_SQL, (person_id, hamlet_id, year, now, now))
            return conn.execute(
                "SELECT * FROM registration_drafts WHERE person_id = ?", (person_id,)
            ).fetchone()

        ticket = self._drafts.writing_row(person_id)
        try:
            cached = _cached_draft(await self.db.run_transaction(start))
        except BaseException:
            self._drafts.writing(person_id)
            raise
        self._drafts.written(ticket, person_id, cached)
        return _fresh_draft(cached)

    async def save_draft(self, draft: Draft) -> None:
        """Save the draft's answers and step, with the update being processed (at once
        outside one); they are read back from memory meanwhile."""
        now = utcnow().replace(microsecond=0)
        answers = json.dumps(draft.answers, ensure_ascii=False)
        saved = draft.model_copy(update={"answers": {}, "updated_at": now})
        ticket = self._drafts.writing_row(draft.person_id)
        await self.db.write_at_end(
            SAVE_DRAFT_SQL,
            (draft.hamlet_id, answers, draft.step, to_db(now), draft.id),
            forget=lambda: self._drafts.writing(draft.person_id),
        )
        self._drafts.written(ticket, draft.person_id, (saved, answers))

    async def discard_draft(self, person_id: int) -> None:
        ticket = self._drafts.writing_row(person_id)
        try:
            await self.db.write("DELETE FROM registration_drafts WHERE person_id = ?", (person_id,))
        except BaseException:
            self._drafts.writing(person_id)
            raise
        self._drafts.written(ticket, person_id, NO_DRAFT)

    async def drafts_untouched_since(self, moment: datetime) -> list[Draft]:
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM registration_drafts WHERE updated_at < ?", (to_db(moment),)
        )
        return [
            Draft.model_validate(dict(row) | {"answers": json.loads(row["answers"])})
            for row in rows
        ]

    async def discard_draft_untouched(self, draft_id: int, moment: datetime) -> bool:
        """Delete the draft if it is still untouched since `moment`; True when it was deleted.

        The condition is checked by the DELETE itself, so a draft saved in the meantime stays.
        """
        self._drafts.writing()
        try:
            cursor = await self.db.write(
                "DELETE FROM registration_drafts WHERE id = ? AND updated_at < ?",
                (draft_id, to_db(moment)),
            )
        finally:
            self._drafts.writing()
        return cursor.rowcount > 0

    # --- registrations --------------------------------------------------------------------

    async def register(
        self,
        draft: Draft,
        hamlet: Area,
        person_id: int,
        audit: Callable[[Registration], tuple[str, tuple]] | None = None,
    ) -> Registration:
        """Turn a finished draft into a numbered registration, once.

        The draft id is unique among registrations, so a second Confirm (a double tap, or an
        update delivered again) finds the registration the first one made. `audit` gives the
        audit entry's INSERT for the new registration: it runs in the same transaction
        (not for a registration found made already).
        """
        answers, kind = draft.answers, ModelKind(draft.answers["kind"])
        now = to_db(utcnow())

        def register_once(conn) -> object:  # one small transaction (run_transaction)
            existing = conn.execute(
                "SELECT * FROM registrations WHERE draft_id = ?", (draft.id,)
            ).fetchone()
            if existing:
                return existing, False
            seq = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM registrations WHERE kind = ? AND year = ?",
                (kind.value, draft.year),
            ).fetchone()[0]
            cursor = conn.execute(
                "INSERT INTO registrations (number, kind, year, seq, hamlet_id, commune_code,"
                " province_code, criteria_set_id, name, name_key, head_name, clan_name, branch,"
                " members, school_age_children, households, address, phone, registered_by,"
                " draft_id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    f"{NUMBER_PREFIX[kind]}-{draft.year}-{seq:05d}",
                    kind.value,
                    draft.year,
                    seq,
                    hamlet.id,
                    hamlet.commune_code,
                    hamlet.province_code,
                    answers["criteria_set_id"],
                    display_name(kind, answers),
                    search_key(identity_name(kind, answers)),
                    *(answers.get(field) for field in DETAIL_FIELDS),
                    person_id,
                    draft.id,
                    now,
                    now,
                ),
            )
            conn.executemany(
                "INSERT INTO self_assessments (registration_id, indicator_code, value)"
                " VALUES (?, ?, ?)",
                [
                    (cursor.lastrowid, code, int(value))
                    for code, value in answers.get("assessment", {}).items()
                ],
            )
            deleted = conn.execute("DELETE FROM registration_drafts WHERE id = ?", (draft.id,))
            row = conn.execute(
                "SELECT * FROM registrations WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
            if audit is not None:
                conn.execute(*audit(_registration(row)))
            return row, deleted.rowcount == 1

        ticket = self._drafts.writing_row(draft.person_id)
        try:
            row, draft_gone = await self.db.run_transaction(register_once)
        except BaseException:
            self._drafts.writing(draft.person_id)
            raise
        if draft_gone:  # the person's one draft: none now ('register another' reads none)
            self._drafts.written(ticket, draft.person_id, NO_DRAFT)
        else:
            self._drafts.writing(draft.person_id)
        return _registration(row)

    async def by_draft(self, draft_id: int) -> Registration | None:
        """The registration a draft was turned into, if it was."""
        return await self._one("SELECT * FROM registrations WHERE draft_id = ?", (draft_id,))

    async def get(self, registration_id: int) -> Registration | None:
        return await self._one("SELECT * FROM registrations WHERE id = ?", (registration_id,))

    async def by_number(self, text: str) -> Registration | None:
        """The registration whose number `text` is (`registration_number`), if any."""
        number = registration_number(text)
        if number is None:
            return None
        return await self._one("SELECT * FROM registrations WHERE number = ?", (number,))

    async def assessment(self, registration_id: int) -> dict[str, int]:
        rows = await self.db.conn.execute_fetchall(
            "SELECT indicator_code, value FROM self_assessments WHERE registration_id = ?",
            (registration_id,),
        )
        return {row["indicator_code"]: row["value"] for row in rows}

    async def answer(self, registration_id: int, code: str) -> int | None:
        """One self-assessment answer, None when not answered."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT value FROM self_assessments WHERE registration_id = ? AND indicator_code = ?",
            (registration_id, code),
        )
        return rows[0][0] if rows else None

    async def set_answer(self, registration_id: int, code: str, value: int) -> bool:
        """Record one self-assessment answer, only while the registration is still registered
        (checked by the write itself); False when it no longer is."""
        cursor = await self.db.write(
            "INSERT INTO self_assessments (registration_id, indicator_code, value)"
            " SELECT id, ?, ? FROM registrations WHERE id = ? AND status = 'registered'"
            " ON CONFLICT (registration_id, indicator_code)"
            " DO UPDATE SET value = excluded.value",
            (code, value, registration_id),
        )
        return cursor.rowcount > 0

    async def same_name(
        self, hamlet_id: int, year: int, kind: ModelKind, name: str
    ) -> list[Registration]:
        """Registrations in the hamlet and year of the same head or clan name, compared without
        diacritics, case or extra spaces. As committed, without a round trip (one indexed
        lookup, `Database.read_small`): asked once per typed name in /dangky."""
        rows = await self.db.read_small(
            "SELECT * FROM registrations WHERE hamlet_id = ? AND year = ? AND kind = ?"
            " AND name_key = ? AND status != 'withdrawn' ORDER BY id",
            (hamlet_id, year, kind.value, search_key(name)),
        )
        return [_registration(row) for row in rows]

    async def in_area(
        self,
        area: Area | None,
        year: int | tuple[int, ...],
        *,
        kind: ModelKind | None = None,
        status: Status | None = None,
        offset: int = 0,
        limit: int = 10,
    ) -> tuple[list[Registration], int]:
        """A page of the area's registrations of the year (or years, newest first), and how many
        there are in all."""
        where, params = _filters(area, year, kind, status)
        total = await self.db.conn.execute_fetchall(
            f"SELECT COUNT(*) FROM registrations WHERE {where}", params
        )
        rows = await self.db.conn.execute_fetchall(
            f"SELECT * FROM registrations WHERE {where} ORDER BY year DESC, number"
            " LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_registration(row) for row in rows], total[0][0]

    async def search(
        self, area: Area | None, year: int | tuple[int, ...], text: str, limit: int = 10
    ) -> list[Registration]:
        """The area's registrations of the year (or years, newest first) whose head or clan name
        contains `text`, compared without diacritics, case or extra spaces ('hoa' finds
        'Nguyễn Văn Hoà')."""
        where, params = _filters(area, year, None, None)
        key = search_key(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self.db.conn.execute_fetchall(
            f"SELECT * FROM registrations WHERE {where} AND name_key LIKE ? ESCAPE '\\'"
            " ORDER BY year DESC, number LIMIT ?",
            (*params, f"%{key}%", limit),
        )
        return [_registration(row) for row in rows]

    async def update(self, registration_id: int, changes: dict) -> Registration | None:
        """Change answers or withdraw, while the registration is still registered; None when
        it no longer is. Keeps the search key in step with the name.

        Read and write are one transaction: a recognition committed in between would
        otherwise be overwritten by the status read before it.
        """
        async with self.db.transaction() as conn:
            current = await self.get(registration_id)
            if current is None or current.status is not Status.REGISTERED:
                return None
            values = current.model_dump() | changes
            kind = ModelKind(values["kind"])
            values["name"] = display_name(kind, values)
            columns = [*DETAIL_FIELDS, "status", "name"]
            await conn.execute(
                f"UPDATE registrations SET {', '.join(f'{c} = ?' for c in columns)},"
                " name_key = ?, updated_at = ? WHERE id = ?",
                (
                    *(values[c] for c in columns),
                    search_key(identity_name(kind, values)),
                    to_db(utcnow()),
                    registration_id,
                ),
            )
        return await self.get(registration_id)

    # --- many at once ---------------------------------------------------------------------

    async def bulk_draft_of(self, person_id: int, mode: BulkMode) -> BulkDraft | None:
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM bulk_drafts WHERE person_id = ? AND mode = ?", (person_id, mode.value)
        )
        if not rows:
            return None
        return BulkDraft.model_validate(dict(rows[0]) | {"body": json.loads(rows[0]["body"])})

    async def start_bulk_draft(
        self, person_id: int, mode: BulkMode, hamlet_id: int | None, year: int
    ) -> BulkDraft:
        """A fresh draft of this mode, replacing any earlier one of this person."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM bulk_drafts WHERE person_id = ? AND mode = ?", (person_id, mode.value)
            )
            await conn.execute(
                "INSERT INTO bulk_drafts (person_id, mode, hamlet_id, year, body, updated_at)"
                " VALUES (?, ?, ?, ?, '{}', ?)",
                (person_id, mode.value, hamlet_id, year, to_db(utcnow())),
            )
        return await self.bulk_draft_of(person_id, mode)

    async def save_bulk_draft(self, draft: BulkDraft) -> None:
        await self.db.write(
            "UPDATE bulk_drafts SET hamlet_id = ?, year = ?, body = ?, updated_at = ? WHERE id = ?",
            (
                draft.hamlet_id,
                draft.year,
                json.dumps(draft.body, ensure_ascii=False),
                to_db(utcnow()),
                draft.id,
            ),
        )

    async def discard_bulk_draft(self, person_id: int, mode: BulkMode) -> None:
        await self.db.write(
            "DELETE FROM bulk_drafts WHERE person_id = ? AND mode = ?", (person_id, mode.value)
        )

    async def bulk_drafts_untouched_since(
        self, moment: datetime, mode: BulkMode = BulkMode.LIST
    ) -> list[BulkDraft]:
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM bulk_drafts WHERE mode = ? AND updated_at < ? ORDER BY id",
            (mode.value, to_db(moment)),
        )
        return [
            BulkDraft.model_validate(dict(row) | {"body": json.loads(row["body"])}) for row in rows
        ]

    async def discard_bulk_draft_untouched(self, draft_id: int, moment: datetime) -> bool:
        """Delete the draft if it is still untouched since `moment`; True when it was deleted
        (the DELETE checks it, so a list saved in the meantime stays)."""
        cursor = await self.db.write(
            "DELETE FROM bulk_drafts WHERE id = ? AND updated_at < ?", (draft_id, to_db(moment))
        )
        return cursor.rowcount > 0

    async def registered_names(
        self, hamlet_id: int, year: int, kind: ModelKind
    ) -> dict[str, Registration]:
        """The hamlet's registrations of the year and kind (not withdrawn) by their name key,
        the key `same_name` compares: to check a whole list with one query."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM registrations WHERE hamlet_id = ? AND year = ? AND kind = ?"
            " AND status != 'withdrawn' ORDER BY id DESC",
            (hamlet_id, year, kind.value),
        )
        return {row["name_key"]: _registration(row) for row in rows}  # the first one wins

    async def to_carry_over(self, hamlet_id: int, year: int) -> list[Registration]:
        """The hamlet's families, then clans, registered (not withdrawn) in the year before
        `year` and not yet carried over into a later registration, in number order."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM registrations AS r WHERE hamlet_id = ? AND year = ?"
            " AND status != 'withdrawn'"
            " AND NOT EXISTS (SELECT 1 FROM registrations AS n WHERE n.previous_id = r.id)"
            " ORDER BY kind = 'clan', seq",
            (hamlet_id, year - 1),
        )
        return [_registration(row) for row in rows]

    async def register_many(
        self,
        draft: BulkDraft,
        hamlet: Area,
        entries: list[NewRegistration],
        criteria_set_ids: dict[ModelKind, str],
        actor: Person,
    ) -> list[Registration] | None:
        """Number and register every entry in one transaction, with an audit entry each, and
        close the draft; None when the draft was confirmed already (a double tap, or an update
        delivered again), so nothing is registered twice.

        Raises sqlite3.IntegrityError, with nothing written, when one of last year's
        registrations was carried over by someone else meanwhile.
        """
        now = to_db(utcnow())
        audit = AuditLog(self.db)
        async with self.db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM bulk_drafts WHERE id = ?", (draft.id,))
            if cursor.rowcount == 0:
                return None
            seqs = {}
            for kind in {entry.kind for entry in entries}:
                rows = await conn.execute_fetchall(
                    "SELECT COALESCE(MAX(seq), 0) FROM registrations WHERE kind = ? AND year = ?",
                    (kind.value, draft.year),
                )
                seqs[kind] = rows[0][0]
            ids = []
            for entry in entries:
                seqs[entry.kind] += 1
                answers = entry.model_dump()
                cursor = await conn.execute(
                    "INSERT INTO registrations (number, kind, year, seq, hamlet_id, commune_code,"
                    " province_code, criteria_set_id, name, name_key, head_name, clan_name,"
                    " branch, members, school_age_children, households, address, phone,"
                    " registered_by, previous_id, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        f"{NUMBER_PREFIX[entry.kind]}-{draft.year}-{seqs[entry.kind]:05d}",
                        entry.kind.value,
                        draft.year,
                        seqs[entry.kind],
                        hamlet.id,
                        hamlet.commune_code,
                        hamlet.province_code,
                        criteria_set_ids[entry.kind],
                        display_name(entry.kind, answers),
                        search_key(identity_name(entry.kind, answers)),
                        *(answers[field] for field in DETAIL_FIELDS),
                        actor.id,
                        entry.previous_id,
                        now,
                        now,
                    ),
                )
                ids.append(cursor.lastrowid)
            marks = ", ".join("?" * len(ids))
            rows = await conn.execute_fetchall(
                f"SELECT * FROM registrations WHERE id IN ({marks}) ORDER BY id", ids
            )
            made = [_registration(row) for row in rows]
            for registration in made:
                await audit.record(
                    "registration.created",
                    "registration",
                    registration.id,
                    actor_id=actor.id,
                    actor_telegram_id=actor.telegram_id,
                    area_id=hamlet.id,
                    after=registration.model_dump(mode="json") | {"via": draft.mode.value},
                )
        return made

    async def move(self, registration_id: int, hamlet: Area) -> Registration:
        """Put a registration under another hamlet (its commune and province follow); the
        tallies follow by the database's triggers (migration 0012)."""
        await self.db.write(
            "UPDATE registrations SET hamlet_id = ?, commune_code = ?, province_code = ?,"
            " updated_at = ? WHERE id = ?",
            (
                hamlet.id,
                hamlet.commune_code,
                hamlet.province_code,
                to_db(utcnow()),
                registration_id,
            ),
        )
        return await self.get(registration_id)

    async def _one(self, sql: str, params: tuple) -> Registration | None:
        rows = await self.db.conn.execute_fetchall(sql, params)
        return _registration(rows[0]) if rows else None

    # --- programme years ------------------------------------------------------------------

    async def programme_year(self, province_code: str, year: int) -> ProgrammeYear:
        """The province's dates in force for the year (read twice per registration, and
        changed from the command line at any time: read as committed, without a round trip,
        see `Database.read_small`)."""
        rows = await self.db.read_small(
            "SELECT * FROM programme_years WHERE province_code = ? AND year = ?",
            (province_code, year),
        )
        if not rows:
            return ProgrammeYear.default(province_code, year)
        return ProgrammeYear.model_validate(dict(rows[0]))

    async def set_programme_year(self, dates: ProgrammeYear) -> None:
        await self.db.write(
            "INSERT INTO programme_years (province_code, year, registration_close,"
            " evaluation_lock, recognition) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (province_code, year) DO UPDATE SET"
            " registration_close = excluded.registration_close,"
            " evaluation_lock = excluded.evaluation_lock, recognition = excluded.recognition",
            (
                dates.province_code,
                dates.year,
                dates.registration_close.isoformat(),
                dates.evaluation_lock.isoformat(),
                dates.recognition.isoformat(),
            ),
        )


def year_clause(column: str, year: int | tuple[int, ...]) -> tuple[str, list]:
    """`column = ?` for one programme year, `column IN (?, ?)` for the open years."""
    years = (year,) if isinstance(year, int) else year
    if len(years) == 1:
        return f"{column} = ?", [years[0]]
    return f"{column} IN ({', '.join('?' for _ in years)})", list(years)


def _filters(
    area: Area | None, year: int | tuple[int, ...], kind: ModelKind | None, status: Status | None
) -> tuple[str, tuple]:
    clause, params = year_clause("year", year)
    clauses = [clause]
    if area is not None:
        clause, values = within(area)
        clauses.append(clause)
        params += values
    if kind is not None:
        clauses.append("kind = ?")
        params.append(kind.value)
    if status is not None:
        clauses.append("status = ?")
        params.append(status.value)
    return " AND ".join(clauses), tuple(params)
