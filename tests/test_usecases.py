"""The use-case layer (issue 16): dialogs change the domain only through storage/usecases, and
each use case writes its rows and its audit entry in one transaction."""

import ast
import io
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from storage.evidence import MediaFolder, MediaKind, Received
from storage.images import inspect
from storage.models import Role
from storage.registrations import Status
from storage.reviews import Decision, Result
from storage.usecases import NotAllowed
from storage.usecases.digest import switch_digest
from storage.usecases.enrolment import enrol as enrol_by_invite
from storage.usecases.evidence import (
    delete_evidence,
    keep_pending,
    store_download,
    store_evidence,
)
from storage.usecases.people import set_active
from storage.usecases.recognition import recognise, reopen
from storage.usecases.registrations import edit, register, withdraw
from storage.usecases.reviews import review
from storage.usecases.self_assessment import assess
from tests.conftest import ROOT, new_draft

TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# --- nothing outside storage/ writes an audit entry, opens a transaction or touches the db ----

# Functions handed the whole database to read it (a backup, a page of the dashboard's list,
# the conversation persistence), not to change the domain: `.db` as their argument is allowed.
DB_READERS = {"backup", "browse", "SqlitePersistence"}
# Modules that read the database directly for a reason no use case covers.
READS_THE_DB = {
    "bot/export.py": "reads every sheet of an export in one snapshot (BEGIN … ROLLBACK)",
}


def storage_bypasses(source: str, db_readers: set[str] = frozenset()) -> list[str]:
    """Calls of `….audit.record(…)` or `….transaction(…)` and any use of `….db` (but as an
    argument of a function in `db_readers`) in a module's source, as 'line: what'."""
    tree = ast.parse(source)
    handed = {
        id(arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and called_name(node) in db_readers
        for arg in node.args
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if node.func.attr == "record" and getattr(owner, "attr", None) == "audit":
                found.append(f"{node.lineno}: audit.record")
            if node.func.attr == "transaction":
                found.append(f"{node.lineno}: transaction()")
        if isinstance(node, ast.Attribute) and node.attr == "db" and id(node) not in handed:
            found.append(f"{node.lineno}: .db")
    return found


def called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def outside_storage() -> list[Path]:
    """The application's modules outside storage/: the dialogs and bot/ (the kernel, the
    command line, the jobs, the dashboard), the test kit excepted (it builds fixtures)."""
    modules = sorted((ROOT / "conversations").rglob("*.py")) + sorted((ROOT / "bot").rglob("*.py"))
    return [path for path in modules if "testkit" not in path.relative_to(ROOT).parts]


@pytest.mark.parametrize("path", outside_storage(), ids=lambda path: str(path.relative_to(ROOT)))
def test_nothing_outside_storage_audits_opens_a_transaction_or_touches_the_database(path: Path):
    found = storage_bypasses(path.read_text(encoding="utf-8"), DB_READERS)
    if str(path.relative_to(ROOT)) in READS_THE_DB:
        found = [f for f in found if not f.endswith(": .db")]
    assert found == []


def test_the_check_sees_each_kind_of_bypass():
    source = (
        "async def f(context, storage):\n"
        "    await context.storage.audit.record('x', 'y')\n"
        "    async with storage.db.transaction():\n"
        "        pass\n"
        "    await context.storage.db.write('DELETE FROM people')\n"
    )
    assert storage_bypasses(source) == [
        "2: audit.record",
        "3: transaction()",
        "3: .db",
        "5: .db",
    ]
    handed = "await backup(storage.db, media)\nawait storage.db.write('DELETE FROM people')\n"
    assert storage_bypasses(handed, DB_READERS) == ["2: .db"]
    assert len(outside_storage()) > 60  # the dialogs and bot/ are all walked


# --- a failing audit insert undoes the change ------------------------------------------------


async def break_the_audit_log(storage) -> None:
    """From now on every audit insert fails, as a full disk or a broken table would."""
    await storage.db.write(
        "CREATE TRIGGER audit_down BEFORE INSERT ON audit_log"
        " BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END"
    )


@pytest.fixture
async def head(enrol, hamlets):
    return await enrol(801, Role.HAMLET_HEAD, "00070/Thôn Đông")


@pytest.fixture
async def staff(enrol):
    return await enrol(802, Role.STAFF, "00070")


@pytest.fixture
async def registration(storage, head, hamlets, registration_open):
    hamlet = hamlets["Thôn Đông"]
    draft = await new_draft(storage, head, hamlet, registration_open)
    return await register(storage, head, draft, hamlet)


@pytest.fixture
async def photo(storage, registration, head, tmp_path):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(out, "JPEG")
    facts = inspect(out.getvalue())
    path = f"{registration.year}/{registration.number}/{facts.sha256}.jpg"
    MediaFolder(tmp_path / "media").write(path, out.getvalue())
    received = Received(
        registration_id=registration.id,
        indicator_code="GD.1.1",
        media_kind=MediaKind.PHOTO,
        file_id="file-1",
        file_unique_id="unique-1",
        message_date=datetime.now(TZ),
        uploaded_by=head.id,
    )
    return await storage.evidence.add(received, facts, path)


async def test_register_is_undone_when_its_audit_entry_fails(
    storage, head, hamlets, registration_open
):
    hamlet = hamlets["Thôn Đông"]
    draft = await new_draft(storage, head, hamlet, registration_open)
    await break_the_audit_log(storage)
    with pytest.raises(sqlite3.IntegrityError, match="audit log unavailable"):
        await register(storage, head, draft, hamlet)
    assert await storage.registrations.by_draft(draft.id) is None
    assert await storage.registrations.draft_of(head.id) == draft  # nothing typed is lost
    assert await storage.registrations.in_area(None, registration_open) == ([], 0)


async def test_withdraw_is_undone_when_its_audit_entry_fails(storage, head, registration):
    await break_the_audit_log(storage)
    with pytest.raises(sqlite3.IntegrityError):
        await withdraw(storage, head, registration.id)
    assert (await storage.registrations.get(registration.id)).status is Status.REGISTERED


async def test_review_is_undone_when_its_audit_entry_fails(storage, staff, registration, photo):
    await break_the_audit_log(storage)
    with pytest.raises(sqlite3.IntegrityError):
        await review(storage, staff, photo, registration, Decision.ACCEPTED, None)
    assert await storage.reviews.get(photo.id) is None


async def test_recognise_is_undone_when_its_audit_entry_fails(storage, staff, registration):
    await break_the_audit_log(storage)
    with pytest.raises(sqlite3.IntegrityError):
        await recognise(storage, staff, registration, Result.RECOGNISED, "12/QĐ-UBND", None)
    assert await storage.reviews.recognition(registration.id) is None
    assert (await storage.registrations.get(registration.id)).status is Status.REGISTERED


async def test_deleting_evidence_is_undone_when_its_audit_entry_fails(
    storage, staff, photo, tmp_path
):
    media = MediaFolder(tmp_path / "media")
    await break_the_audit_log(storage)
    with pytest.raises(sqlite3.IntegrityError):
        await delete_evidence(storage, staff, photo.id, media)
    assert await storage.evidence.get(photo.id) == photo
    assert (media.root / photo.path).is_file()  # the file stays where the row says


def sent(registration, person, n: int) -> tuple[Received, bytes]:
    """Photo number `n` as a message brought it, and its bytes."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20 * n, 120, 200)).save(out, "JPEG")
    received = Received(
        registration_id=registration.id,
        indicator_code="GD.1.2",
        media_kind=MediaKind.PHOTO,
        file_id=f"file-sent-{n}",
        file_unique_id=f"unique-sent-{n}",
        message_date=datetime.now(TZ),
        uploaded_by=person.id,
    )
    return received, out.getvalue()


async def test_storing_evidence_is_undone_with_its_file_when_its_audit_entry_fails(
    storage, head, registration, tmp_path
):
    media = MediaFolder(tmp_path / "media")
    received, data = sent(registration, head, 3)
    facts = inspect(data)
    await break_the_audit_log(storage)
    with pytest.raises(sqlite3.IntegrityError):
        await store_evidence(storage, head, registration, received, facts, data, media)
    assert await storage.evidence.of_registration(registration.id) == []
    assert await storage.evidence.near.similar(facts.fingerprint) == []  # no index rows
    assert [p for p in media.root.rglob("*") if p.is_file()] == []  # no orphan file


async def test_a_failed_store_keeps_the_file_another_row_uses(
    storage, head, registration, photo, tmp_path
):
    """The same photo for another indicator shares its file: a failed store leaves it."""
    media = MediaFolder(tmp_path / "media")
    received, _ = sent(registration, head, 1)
    data = (media.root / photo.path).read_bytes()
    await break_the_audit_log(storage)
    with pytest.raises(sqlite3.IntegrityError):
        await store_evidence(storage, head, registration, received, inspect(data), data, media)
    assert (media.root / photo.path).read_bytes() == data


async def test_a_stored_photo_is_audited_once_with_its_actor(
    storage, head, registration, tmp_path, enrol
):
    media = MediaFolder(tmp_path / "media")
    received, data = sent(registration, head, 4)
    facts = inspect(data)
    stored = await store_evidence(storage, head, registration, received, facts, data, media)
    again = await store_evidence(storage, head, registration, received, facts, data, media)
    assert again is None  # already evidence of this indicator: nothing more kept
    assert (media.root / stored.path).read_bytes() == data
    assert [e.id for e in await storage.evidence.of_registration(registration.id)] == [stored.id]
    [entry] = await storage.audit.entries("evidence.stored")
    assert (entry.subject_id, entry.actor_id, entry.actor_telegram_id) == (
        str(stored.id),
        head.id,
        801,
    )
    assert entry.area_id == registration.hamlet_id
    assert entry.after == {
        "registration_id": registration.id,
        "number": registration.number,
        "indicator": "GD.1.2",
        "sha256": facts.sha256,
        "flags": [{"kind": "blank"}],  # one colour: the flags are audited with the photo
    }
    outsider = await enrol(806, Role.HAMLET_HEAD, "00070/Thôn Tây")
    other, other_data = sent(registration, outsider, 5)
    with pytest.raises(NotAllowed):
        await store_evidence(
            storage, outsider, registration, other, inspect(other_data), other_data, media
        )
    assert len(await storage.audit.entries("evidence.stored")) == 1


async def test_a_fetched_download_is_stored_whole_or_stays_pending(
    storage, head, registration, tmp_path
):
    media = MediaFolder(tmp_path / "media")
    received, data = sent(registration, head, 6)
    facts = inspect(data)
    pending = await keep_pending(storage, head, registration, received, "timed out", 3)
    await break_the_audit_log(storage)
    with pytest.raises(sqlite3.IntegrityError):
        await store_download(storage, pending, registration, facts, data, media)
    assert await storage.evidence.pending() == [pending]
    assert [p for p in media.root.rglob("*") if p.is_file()] == []
    await storage.db.write("DROP TRIGGER audit_down")
    stored = await store_download(storage, pending, registration, facts, data, media)
    assert (stored.status, (media.root / stored.path).read_bytes()) == ("stored", data)
    twin = await keep_pending(storage, head, registration, received, "timed out", 3)
    assert await store_download(storage, twin, registration, facts, data, media) is None
    assert await storage.evidence.get(twin.id) is None  # dropped, its twin kept
    assert (media.root / stored.path).is_file()
    audited = [(e.action, e.subject_id, e.actor_id) for e in await storage.audit.entries()]
    assert audited[1:] == [
        ("evidence.pending", str(pending.id), head.id),
        ("evidence.stored", str(pending.id), head.id),
        ("evidence.pending", str(twin.id), head.id),
        ("evidence.deleted", str(twin.id), None),
    ]


async def test_the_smaller_changes_are_undone_when_their_audit_entry_fails(
    storage, head, staff, registration, hamlets
):
    invite = await storage.invites.create(Role.BRANCH_CHAIR, hamlets["Thôn Tây"].id)
    await break_the_audit_log(storage)
    for change in (
        edit(storage, head, registration.id, "address", "Số 7"),
        assess(storage, head, registration, "GD.1.1", 5),
        set_active(storage, staff, head, False),
        switch_digest(storage, staff, True),
        enrol_by_invite(storage, 805, "Lê Thị Hoa", "+84912000005", invite.id, "vi"),
    ):
        with pytest.raises(sqlite3.IntegrityError):
            await change
    assert await storage.registrations.get(registration.id) == registration
    assert await storage.registrations.assessment(registration.id) == {"GD.1.1": 10}
    assert (await storage.people.get(head.id)).active
    assert not await storage.reminders.digest_on(staff.id)
    assert await storage.people.by_telegram_id(805) is None
    assert (await storage.invites.get(invite.id)).used_at is None


async def test_each_change_is_audited_once_with_its_actor(
    storage, head, staff, registration, photo, tmp_path, enrol
):
    """The audit entries the dialogs' tests check, made by the use cases, once each even when
    the same change is asked for twice."""
    await edit(storage, head, registration.id, "address", "Số 7")
    await edit(storage, head, registration.id, "address", "Số 7")
    await review(storage, staff, photo, registration, Decision.ACCEPTED, None)
    await review(storage, staff, photo, registration, Decision.ACCEPTED, None)
    admin = await enrol(803, Role.ADMIN)
    assert await recognise(storage, staff, registration, Result.RECOGNISED, None, None)
    assert await recognise(storage, staff, registration, Result.RECOGNISED, None, None) is None
    assert await reopen(storage, admin, registration)
    assert await reopen(storage, admin, registration) is None
    media = MediaFolder(tmp_path / "media")
    assert await delete_evidence(storage, head, photo.id, media)
    assert not await delete_evidence(storage, head, photo.id, media)
    assert not (media.root / photo.path).exists()
    entries = [(e.action, e.actor_id, e.actor_telegram_id) for e in await storage.audit.entries()]
    assert entries == [
        ("registration.created", head.id, 801),
        ("registration.edited", head.id, 801),
        ("evidence.reviewed", staff.id, 802),
        ("registration.recognised", staff.id, 802),
        ("recognition.reopened", admin.id, 803),
        ("evidence.deleted", head.id, 801),
    ]


async def test_the_rules_hold_without_the_dialogs_checks(storage, registration, enrol, staff):
    chair = await enrol(804, Role.BRANCH_CHAIR, "00070")
    with pytest.raises(NotAllowed):
        await withdraw(storage, chair, registration.id)
    with pytest.raises(NotAllowed):
        await reopen(storage, staff, registration)
    assert (await storage.registrations.get(registration.id)).status is Status.REGISTERED
    assert [e.action for e in await storage.audit.entries()] == ["registration.created"]


async def test_a_failing_nested_transaction_leaves_the_outer_one_whole(storage, head):
    """A repository's own transaction inside a use case's is a savepoint: its failure undoes
    only its own writes."""
    async with storage.db.transaction():
        await storage.people.set_locale(head.id, "en")
        with pytest.raises(ZeroDivisionError):
            async with storage.db.transaction():
                await storage.people.set_locale(head.id, "vi")
                1 / 0  # noqa: B018
    assert (await storage.people.get(head.id)).locale == "en"
