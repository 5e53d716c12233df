"""Registrations in a real SQLite file: numbering, one registration per draft, duplicates."""

import asyncio

from storage.criteria import ModelKind
from storage.models import Role


async def family_draft(storage, person, hamlet, head_name):
    draft = await storage.registrations.start_draft(person.id, hamlet.id, 2026)
    criteria = await storage.criteria.in_force(hamlet.province_code, 2026, ModelKind.FAMILY)
    answers = {
        "kind": "family",
        "criteria_set_id": criteria.set_id,
        "head_name": head_name,
        "members": 4,
        "school_age_children": 2,
        "assessment": {"GD.1.1": 10, "GD.1.2": 8},
    }
    draft = draft.model_copy(update={"answers": answers})
    await storage.registrations.save_draft(draft)
    return await storage.registrations.draft_of(person.id)


async def test_numbers_are_sequential_per_kind_and_year(storage, enrol, hamlets):
    head = await enrol(700, Role.HAMLET_HEAD, "00070/Thôn Đông")
    first = await storage.registrations.register(
        await family_draft(storage, head, hamlets["Thôn Đông"], "Nguyễn Văn Hoà"),
        hamlets["Thôn Đông"],
        head.id,
    )
    second = await storage.registrations.register(
        await family_draft(storage, head, hamlets["Thôn Đông"], "Lê Thị Hồng"),
        hamlets["Thôn Đông"],
        head.id,
    )
    assert (first.number, second.number) == ("GD-2026-00001", "GD-2026-00002")
    assert first.commune_code == "00070" and first.province_code == "01"
    assert await storage.registrations.assessment(first.id) == {"GD.1.1": 10, "GD.1.2": 8}
    assert await storage.registrations.draft_of(head.id) is None


async def test_two_confirms_of_one_draft_make_one_registration(storage, enrol, hamlets):
    head = await enrol(701, Role.HAMLET_HEAD, "00070/Thôn Đông")
    draft = await family_draft(storage, head, hamlets["Thôn Đông"], "Trần Văn Nam")
    made = await asyncio.gather(
        *(storage.registrations.register(draft, hamlets["Thôn Đông"], head.id) for _ in range(2))
    )
    assert made[0].id == made[1].id
    rows = await storage.db.conn.execute_fetchall("SELECT COUNT(*) FROM registrations")
    assert rows[0][0] == 1


async def test_same_name_ignores_diacritics_case_spacing_and_tone_placement(
    storage, enrol, hamlets
):
    head = await enrol(702, Role.HAMLET_HEAD, "00070/Thôn Đông")
    hamlet = hamlets["Thôn Đông"]
    await storage.registrations.register(
        await family_draft(storage, head, hamlet, "Nguyễn Văn Hoà"), hamlet, head.id
    )
    for typed in ("nguyen van hoa", "NGUYỄN  VĂN HÒA"):
        (match,) = await storage.registrations.same_name(hamlet.id, 2026, ModelKind.FAMILY, typed)
        assert match.name == "Nguyễn Văn Hoà"
    assert (
        await storage.registrations.same_name(hamlet.id, 2026, ModelKind.CLAN, "Nguyễn Văn Hoà")
        == []
    )
    other = hamlets["Thôn Tây"]
    assert (
        await storage.registrations.same_name(other.id, 2026, ModelKind.FAMILY, "nguyen van hoa")
        == []
    )
