"""A small dashboard dataset for the web tests: two communes of Hà Nội, registrations with
real photo files on disk, reviewed and recognised, and people of several roles and areas."""

import io
from dataclasses import dataclass
from datetime import UTC, datetime

from PIL import Image

from storage import Storage
from storage.criteria import ModelKind
from storage.evidence import MediaFolder, MediaKind, Received
from storage.images import inspect
from storage.models import Area, Person, Role
from storage.registrations import Registration, Status

YEAR = 2026
MARCH = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)
STAFF_PROVINCE, STAFF_OTHER_COMMUNE, ADMIN, HEAD = 802, 803, 805, 806


@dataclass
class Data:
    east: Area
    west: Area
    north: Area
    hoa: Registration  # a family of Thôn Đông (00070), recognised, two photos
    clan: Registration  # a clan of Thôn Đông
    north_family: Registration  # a family of Thôn Bắc (00073)
    hoa_photos: list[int]
    people: dict[int, Person]


async def enrol(storage: Storage, telegram_id: int, role: Role, area: str | None) -> Person:
    area_id = (await storage.areas.resolve(area)).id if area else None
    name = f"Cán Bộ {telegram_id}"
    return await storage.people.add(telegram_id, name, "+84912345678", role, area_id, "vi")


async def register(storage, person, hamlet, kind: str, name: str) -> Registration:
    draft = await storage.registrations.start_draft(person.id, hamlet.id, YEAR)
    criteria = await storage.criteria.in_force(hamlet.province_code, YEAR, ModelKind(kind))
    if kind == "family":
        answers = {"head_name": name, "members": 4, "school_age_children": 2}
        answers["assessment"] = {"GD.1.1": 10, "GD.1.2": 8}
    else:
        answers = {"clan_name": name, "head_name": "Nguyễn Văn Tộc", "households": 30}
        answers["assessment"] = {"DH.1.1": 1}
    answers |= {"kind": kind, "criteria_set_id": criteria.set_id}
    await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
    draft = await storage.registrations.draft_of(person.id)
    return await storage.registrations.register(draft, hamlet, person.id)


def picture(colour: str, size=(800, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


async def add_photo(storage, media: MediaFolder, registration, code, uploader, colour) -> int:
    data = picture(colour)
    facts = inspect(data)
    relative = MediaFolder.relative_path(
        registration.year, registration.number, facts.sha256, "jpg"
    )
    media.write(relative, data)
    received = Received(
        registration_id=registration.id,
        indicator_code=code,
        media_kind=MediaKind.PHOTO,
        file_id=f"f-{registration.id}-{code}-{colour}",
        file_unique_id=f"u-{registration.id}-{code}-{colour}",
        message_date=MARCH,
        uploaded_by=uploader.id,
    )
    return (await storage.evidence.add(received, facts, relative)).id


async def make_data(storage: Storage, media_dir) -> Data:
    media = MediaFolder(media_dir)
    people = {
        STAFF_PROVINCE: await enrol(storage, STAFF_PROVINCE, Role.STAFF, "01"),
        STAFF_OTHER_COMMUNE: await enrol(storage, STAFF_OTHER_COMMUNE, Role.STAFF, "00073"),
        ADMIN: await enrol(storage, ADMIN, Role.ADMIN, None),
        HEAD: await enrol(storage, HEAD, Role.HAMLET_HEAD, "00070"),
    }
    hamlets = {}
    for code, name in (("00070", "Thôn Đông"), ("00070", "Thôn Tây"), ("00073", "Thôn Bắc")):
        hamlets[name], _ = await storage.areas.add_hamlet(await storage.areas.by_code(code), name)
    await storage.households.set(hamlets["Thôn Đông"], 4)
    head, reviewer = people[HEAD], people[STAFF_PROVINCE]
    hoa = await register(storage, head, hamlets["Thôn Đông"], "family", "Nguyễn Văn Hoà")
    clan = await register(storage, head, hamlets["Thôn Đông"], "clan", "Họ Lê")
    north = await register(storage, head, hamlets["Thôn Bắc"], "family", "Trần Thị Bắc")
    photos = [
        await add_photo(storage, media, hoa, "GD.1.1", head, "red"),
        await add_photo(storage, media, hoa, "GD.1.2", head, "blue"),
    ]
    await add_photo(storage, media, north, "GD.1.1", head, "green")
    await storage.db.write(
        "INSERT INTO evidence_reviews (evidence_id, decision, reason, reviewer_id, reviewed_at)"
        " VALUES (?, 'accepted', NULL, ?, '2026-03-05T02:00:00+00:00')",
        (photos[0], reviewer.id),
    )
    await storage.registrations.update(hoa.id, {"status": Status.RECOGNISED})
    await storage.db.write(
        "INSERT INTO recognitions (registration_id, result, evaluation, decision_number,"
        " decision_date, decided_by, decided_at) VALUES (?, 'recognised', '{}', '12/QĐ-UBND',"
        " '2026-03-08', ?, '2026-03-08T02:00:00+00:00')",
        (hoa.id, reviewer.id),
    )
    return Data(
        east=hamlets["Thôn Đông"],
        west=hamlets["Thôn Tây"],
        north=hamlets["Thôn Bắc"],
        hoa=await storage.registrations.get(hoa.id),
        clan=clan,
        north_family=north,
        hoa_photos=photos,
        people=people,
    )
