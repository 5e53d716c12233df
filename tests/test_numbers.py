"""Registration numbers of any length, and numbers outside one's area answered as missing."""

import sqlite3

from storage.criteria import ModelKind
from storage.models import Role


async def register(storage, person, hamlet, year, name="Nguyễn Văn An"):
    draft = await storage.registrations.start_draft(person.id, hamlet.id, year)
    criteria = await storage.criteria.in_force(hamlet.province_code, year, ModelKind.FAMILY)
    answers = {
        "kind": "family",
        "criteria_set_id": criteria.set_id,
        "head_name": name,
        "members": 4,
        "school_age_children": 2,
        "assessment": {"GD.1.1": 10},
    }
    await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
    draft = await storage.registrations.draft_of(person.id)
    return await storage.registrations.register(draft, hamlet, person.id)


async def test_the_100000th_family_opens_everywhere(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    year = registration_open
    head = await enrol(770, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(771, Role.STAFF, "00070")
    first = await register(storage, head, hamlets["Thôn Đông"], year)
    with sqlite3.connect(tmp_path / "hoctap.sqlite3") as conn:  # 99,998 families later
        conn.execute(
            "UPDATE registrations SET seq = 99999, number = ? WHERE id = ?",
            (f"GD-{year}-99999", first.id),
        )
    big = await register(storage, head, hamlets["Thôn Đông"], year, "Trần Thị Bình")
    assert big.number == f"GD-{year}-100000"

    staff = api.person(771)
    card = (await staff.send(f"/tinhtrang {big.number}"))[-1]
    assert big.number in card.text and "Trần Thị Bình" in card.text
    (decision,) = await staff.send(f"/congnhan {big.number}")
    assert big.number in decision.text
    (none_yet,) = await staff.send(f"/xemminhchung {big.number}")
    assert f"/minhchung {big.number}" in none_yet.text
    checklist = (await api.person(770).send(f"/minhchung {big.number}"))[-1]
    assert big.number in checklist.text and "Trẻ em đi học đúng tuổi" in checklist.text


async def test_a_number_outside_ones_area_is_answered_as_a_missing_one(
    bot, api, storage, enrol, hamlets, registration_open
):
    year = registration_open
    other_head = await enrol(780, Role.HAMLET_HEAD, "00073/Thôn Bắc")
    await enrol(781, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(782, Role.STAFF, "00070")
    theirs = await register(storage, other_head, hamlets["Thôn Bắc"], year)
    assert theirs.number == f"GD-{year}-00001"
    missing = f"GD-{year}-00042"

    for person_id, command in (
        (782, "/tinhtrang"),
        (782, "/congnhan"),
        (782, "/xemminhchung"),
        (781, "/xemminhchung"),
        (781, "/minhchung"),
    ):
        person = api.person(person_id)
        answer = (await person.send(f"{command} {theirs.number}"))[-1].text
        expected = (await person.send(f"{command} {missing}"))[-1].text
        assert answer == expected.replace(missing, theirs.number), (command, answer)
        assert "Nguyễn Văn An" not in answer
    denied = await storage.audit.entries("access.denied")
    assert len(denied) == 5 and {d.after["number"] for d in denied} == {theirs.number}
