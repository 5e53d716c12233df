"""Registrations of learning families and clans, their drafts, and the programme year."""

import json
from datetime import date, datetime
from enum import StrEnum

from storage.clock import to_db, utcnow
from storage.criteria import ModelKind as Kind
from storage.db import Database
from storage.models import Area, AreaLevel, Model
from storage.text import nfc, search_key


class Status(StrEnum):
    REGISTERED = "registered"
    WITHDRAWN = "withdrawn"
    RECOGNISED = "recognised"
    NOT_RECOGNISED = "not_recognised"


NUMBER_PREFIX = {Kind.FAMILY: "GD", Kind.CLAN: "DH"}
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
    kind: Kind
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


# The answer two registrations are compared by, to warn of the same family or clan twice.
IDENTITY_FIELD = {Kind.FAMILY: "head_name", Kind.CLAN: "clan_name"}


def identity_name(kind: Kind, answers: dict) -> str:
    return answers[IDENTITY_FIELD[kind]]


def display_name(kind: Kind, answers: dict) -> str:
    """What a registration is called: the household head, or the clan and its branch."""
    if kind is Kind.FAMILY:
        return answers["head_name"]
    branch = answers.get("branch")
    return f"{answers['clan_name']} ({branch})" if branch else answers["clan_name"]


def _registration(row) -> Registration:
    return Registration.model_validate(dict(row))


class RegistrationRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- drafts ---------------------------------------------------------------------------

    async def draft_of(self, person_id: int) -> Draft | None:
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM registration_drafts WHERE person_id = ?", (person_id,)
        )
        if not rows:
            return None
        return Draft.model_validate(dict(rows[0]) | {"answers": json.loads(rows[0]["answers"])})

    async def start_draft(self, person_id: int, hamlet_id: int | None, year: int) -> Draft:
        """A fresh draft, replacing any earlier one of this person."""
        now = to_db(utcnow())
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM registration_drafts WHERE person_id = ?", (person_id,))
            await conn.execute(
                "INSERT INTO registration_drafts (person_id, hamlet_id, year, answers, step,"
                " created_at, updated_at) VALUES (?, ?, ?, '{}', 0, ?, ?)",
                (person_id, hamlet_id, year, now, now),
            )
        return await self.draft_of(person_id)

    async def save_draft(self, draft: Draft) -> None:
        await self.db.write(
            "UPDATE registration_drafts SET hamlet_id = ?, answers = ?, step = ?, updated_at = ?"
            " WHERE id = ?",
            (
                draft.hamlet_id,
                json.dumps(draft.answers, ensure_ascii=False),
                draft.step,
                to_db(utcnow()),
                draft.id,
            ),
        )

    async def discard_draft(self, person_id: int) -> None:
        await self.db.write("DELETE FROM registration_drafts WHERE person_id = ?", (person_id,))

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
        cursor = await self.db.write(
            "DELETE FROM registration_drafts WHERE id = ? AND updated_at < ?",
            (draft_id, to_db(moment)),
        )
        return cursor.rowcount > 0

    # --- registrations --------------------------------------------------------------------

    async def register(self, draft: Draft, hamlet: Area, person_id: int) -> Registration:
        """Turn a finished draft into a numbered registration, once.

        The draft id is unique among registrations, so a second Confirm (a double tap, or an
        update delivered again) finds the registration the first one made.
        """
        answers, kind = draft.answers, Kind(draft.answers["kind"])
        now = to_db(utcnow())
        async with self.db.transaction() as conn:
            existing = await self._one(
                "SELECT * FROM registrations WHERE draft_id = ?", (draft.id,)
            )
            if existing:
                return existing
            rows = await conn.execute_fetchall(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM registrations WHERE kind = ? AND year = ?",
                (kind.value, draft.year),
            )
            seq = rows[0][0]
            name = display_name(kind, answers)
            cursor = await conn.execute(
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
                    name,
                    search_key(identity_name(kind, answers)),
                    *(answers.get(field) for field in DETAIL_FIELDS),
                    person_id,
                    draft.id,
                    now,
                    now,
                ),
            )
            await conn.executemany(
                "INSERT INTO self_assessments (registration_id, indicator_code, value)"
                " VALUES (?, ?, ?)",
                [
                    (cursor.lastrowid, code, int(value))
                    for code, value in answers.get("assessment", {}).items()
                ],
            )
            await conn.execute("DELETE FROM registration_drafts WHERE id = ?", (draft.id,))
        return await self.get(cursor.lastrowid)

    async def get(self, registration_id: int) -> Registration | None:
        return await self._one("SELECT * FROM registrations WHERE id = ?", (registration_id,))

    async def by_number(self, number: str) -> Registration | None:
        return await self._one(
            "SELECT * FROM registrations WHERE number = ?", (nfc(number).upper(),)
        )

    async def assessment(self, registration_id: int) -> dict[str, int]:
        rows = await self.db.conn.execute_fetchall(
            "SELECT indicator_code, value FROM self_assessments WHERE registration_id = ?",
            (registration_id,),
        )
        return {row["indicator_code"]: row["value"] for row in rows}

    async def same_name(
        self, hamlet_id: int, year: int, kind: Kind, name: str
    ) -> list[Registration]:
        """Registrations in the hamlet and year of the same head or clan name, compared without
        diacritics, case or extra spaces."""
        rows = await self.db.conn.execute_fetchall(
            "SELECT * FROM registrations WHERE hamlet_id = ? AND year = ? AND kind = ?"
            " AND name_key = ? AND status != 'withdrawn' ORDER BY id",
            (hamlet_id, year, kind.value, search_key(name)),
        )
        return [_registration(row) for row in rows]

    async def in_area(
        self,
        area: Area | None,
        year: int,
        *,
        kind: Kind | None = None,
        status: Status | None = None,
        offset: int = 0,
        limit: int = 10,
    ) -> tuple[list[Registration], int]:
        """A page of the area's registrations for the year, and how many there are in all."""
        where, params = _filters(area, year, kind, status)
        total = await self.db.conn.execute_fetchall(
            f"SELECT COUNT(*) FROM registrations WHERE {where}", params
        )
        rows = await self.db.conn.execute_fetchall(
            f"SELECT * FROM registrations WHERE {where} ORDER BY number LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_registration(row) for row in rows], total[0][0]

    async def search(
        self, area: Area | None, year: int, text: str, limit: int = 10
    ) -> list[Registration]:
        """The area's registrations of the year whose head or clan name contains `text`,
        compared without diacritics, case or extra spaces ('hoa' finds 'Nguyễn Văn Hoà')."""
        where, params = _filters(area, year, None, None)
        key = search_key(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = await self.db.conn.execute_fetchall(
            f"SELECT * FROM registrations WHERE {where} AND name_key LIKE ? ESCAPE '\\'"
            " ORDER BY number LIMIT ?",
            (*params, f"%{key}%", limit),
        )
        return [_registration(row) for row in rows]

    async def update(self, registration_id: int, changes: dict) -> Registration:
        """Change answers or the status; keeps the search key in step with the name."""
        current = await self.get(registration_id)
        values = current.model_dump() | changes
        kind = Kind(values["kind"])
        values["name"] = display_name(kind, values)
        columns = [*DETAIL_FIELDS, "status", "name"]
        await self.db.write(
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
        rows = await self.db.conn.execute_fetchall(
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


def _filters(
    area: Area | None, year: int, kind: Kind | None, status: Status | None
) -> tuple[str, tuple]:
    clauses, params = ["year = ?"], [year]
    if area is not None:
        column = {
            AreaLevel.PROVINCE: ("province_code", area.code),
            AreaLevel.COMMUNE: ("commune_code", area.code),
            AreaLevel.HAMLET: ("hamlet_id", area.id),
        }[area.level]
        clauses.append(f"{column[0]} = ?")
        params.append(column[1])
    if kind is not None:
        clauses.append("kind = ?")
        params.append(kind.value)
    if status is not None:
        clauses.append("status = ?")
        params.append(status.value)
    return " AND ".join(clauses), tuple(params)
