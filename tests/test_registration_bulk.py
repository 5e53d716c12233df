"""Registering many at once (/nhapds, or the bulk:list / bulk:carry buttons of /dangky): the real
bot, the fake Bot API over HTTP, a real SQLite file."""

import asyncio
import csv
import io
import itertools
import sqlite3
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from conversations.family_list import RowProblem, family, rows_from_text
from storage.criteria import ModelKind
from storage.models import Role
from storage.registrations import BulkMode, NewRegistration

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Giang", "Hải", "Khánh", "Lan", "Mai", "Nam"]
SEPARATORS = [", ", "; ", "\t", " - "]
# Five lines the bot cannot use, and why.
BAD = [
    ("Nguyễn Văn Tư, 0, 0", "số nhân khẩu phải từ 1 đến 50"),
    ("Lê Thị Thu, 3, 5", "số trẻ em nhiều hơn số nhân khẩu"),
    ("12345", "không phải họ tên đầy đủ"),
    ("Phạm Văn Sáu, 4, 1, Xóm 2, 12345", "không phải số điện thoại di động Việt Nam"),
    ("Hoàng Văn Bảy, 4, 1, Xóm 2, 0912345678, thêm", "quá nhiều phần"),
]
# Already registered this year in the hamlet, and written differently in the list.
EXISTING = ["Nguyễn Văn Hoà", "Trần Thị Hồng", "Lê Văn Tám"]
IN_LIST = ["nguyen van hoa, 4, 1", "TRẦN THỊ HỒNG", "Lê  Văn Tám - 3 - 0"]
MESSAGE_METHODS = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendDocument"}


def rows(db_path, sql, *params):
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def names(count):
    combos = itertools.product(SURNAMES, MIDDLE, GIVEN)
    return [" ".join(parts) for parts in itertools.islice(combos, count)]


def good_line(index, name):
    """Families written the many ways hamlet heads write them."""
    separator = SEPARATORS[index % 4]
    if index % 5 == 0:
        return name  # the name only
    if index % 7 == 0:
        return f"{index}. {name}{separator}{index % 6 + 2}{separator}{index % 3}"
    return f"{name}{separator}{index % 6 + 2}{separator}{index % 3}"


async def register_by_hand(storage, person, hamlet, year, head_name):
    """A family registered through /dangky's storage path."""
    draft = await storage.registrations.start_draft(person.id, hamlet.id, year)
    criteria = await storage.criteria.in_force(hamlet.province_code, year, ModelKind.FAMILY)
    answers = {
        "kind": "family",
        "criteria_set_id": criteria.set_id,
        "head_name": head_name,
        "members": 4,
        "school_age_children": 1,
    }
    await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
    draft = await storage.registrations.draft_of(person.id)
    return await storage.registrations.register(draft, hamlet, person.id)


def message_calls(api, chat_id, mark):
    return [a.method for a in api.actions[mark:] if a.chat_id == chat_id and a.counts]


def test_lines_are_read_in_the_ways_people_write_them():
    def read(line):
        return family(rows_from_text(line, 1)[0])

    assert read("Trần Văn Bình, 5, 2").model_dump(include={"head_name", "members"}) == {
        "head_name": "Trần Văn Bình",
        "members": 5,
    }
    for line in ("Trần Văn Bình; 5; 2", "Trần Văn Bình\t5\t2", "Trần Văn Bình - 5 - 2"):
        assert read(line).school_age_children == 2
    assert read("12. Trần Văn Bình 5 2").members == 5  # numbered, spaces only
    only_name = read("  Lê   Thị Hoa ")
    assert (only_name.head_name, only_name.members) == ("Lê Thị Hoa", None)
    assert read("Lê Thị Hoa, , , , 0912 345 678").phone == "+84912345678"
    assert read("Lê Thị Hoa, 2, 3") is RowProblem.MORE_CHILDREN
    assert read("Lê Thị Hoa, năm") is RowProblem.MEMBERS
    assert rows_from_text("a\n\n  \nb", 7)[1].number == 8  # blank lines are not counted


async def test_a_list_of_250_families_with_bad_lines_and_duplicates(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    year, db = registration_open, tmp_path / "hoctap.sqlite3"
    head = await enrol(900, Role.HAMLET_HEAD, "00070/Thôn Đông")
    for name in EXISTING:
        await register_by_hand(storage, head, hamlets["Thôn Đông"], year, name)
    other = await enrol(901, Role.HAMLET_HEAD, "00070/Thôn Tây")
    good_names = names(242)
    # The same name in another hamlet is no duplicate.
    await register_by_hand(storage, other, hamlets["Thôn Tây"], year, good_names[0])
    lines = [good_line(i, name) for i, name in enumerate(good_names)]
    for offset, (line, _why) in enumerate(BAD):
        lines.insert(10 + 40 * offset, line)
    for offset, line in enumerate(IN_LIST):
        lines.insert(25 + 70 * offset, line)
    assert len(lines) == 250
    chat = api.person(900)
    mark = len(api.actions)

    (menu,) = await chat.send("/nhapds")
    (prompt,) = await chat.press("📋 Nhập danh sách")
    assert prompt.message_id == menu.message_id  # the same screen, edited
    assert prompt.text.startswith("📋 Danh sách gia đình, Thôn Đông, năm")
    assert prompt.buttons == [["🔘 Gia đình", "⚪ Dòng họ"], ["📥 Tải mẫu Excel"], ["✖️ Hủy"]]
    # A list this long does not fit in one Telegram message: it comes as two.
    await chat.send("\n".join(lines[:130]), expect=2)
    *_, screen = await chat.send("\n".join(lines[130:]), expect=2)
    # The earlier screens, shortened to a record of what was received.
    assert chat.messages[-3].text.endswith("\n➡️ Đã nhận 130 dòng")
    assert chat.messages[-2].text.endswith("\n➡️ Đã nhận 120 dòng")
    assert chat.messages[-3].buttons == chat.messages[-2].buttons == []
    text = screen.text
    assert "Đã đọc 250 dòng." in text
    assert "✅ Sẵn sàng đăng ký: 242 gia đình" in text
    assert "⚠️ Trùng tên với gia đình đã đăng ký năm nay: 3 dòng" in text
    assert f"Nguyen Van Hoa, đã đăng ký số GD-{year}-00001" in text
    number = lines.index(IN_LIST[1]) + 1
    assert f"• dòng {number}: TRẦN THỊ HỒNG, đã đăng ký số GD-{year}-00002" in text
    assert "❌ Không dùng được: 5 dòng" in text
    for line, why in BAD:
        number = lines.index(line) + 1
        assert f"• dòng {number}: «" in text and why in text
    assert screen.buttons[0] == ["✅ Đăng ký 242 gia đình"]

    done, _more = await chat.press("✅ Đăng ký 242 gia đình", expect=2)
    assert done.message_id == screen.message_id
    assert done.text.startswith(f"✅ Đã đăng ký 242 ở Thôn Đông, năm {year}. Số đăng ký:")
    made = rows(
        db,
        "SELECT * FROM registrations WHERE hamlet_id = ? AND year = ? AND id > 4 ORDER BY id",
        hamlets["Thôn Đông"].id,
        year,
    )
    assert len(made) == 242
    assert [r["number"] for r in made] == [f"GD-{year}-{seq:05d}" for seq in range(5, 247)]
    assert [r["head_name"] for r in made] == good_names
    assert {r["registered_by"] for r in made} == {head.id}
    assert (made[1]["members"], made[1]["school_age_children"]) == (3, 1)  # "…, 3, 1"
    assert (made[0]["members"], made[0]["school_age_children"]) == (None, None)  # name only
    assert made[7]["members"] == 3  # "7. Name, 3, 1": the numbering is not the count
    assert all(r["criteria_set_id"].startswith("hkhvn-448-family@") for r in made)
    replies = "\n".join(m.text for m in chat.messages[-2:])
    for r in made:
        assert f"{r['number']} {r['head_name']}" in replies
    audit = rows(db, "SELECT * FROM audit_log WHERE action = 'registration.created'")
    assert len(audit) == 242  # the hand-made ones above wrote none: the dialog does that
    assert rows(db, "SELECT COUNT(*) FROM bulk_drafts")[0][0] == 0

    calls = message_calls(api, 900, mark)
    # The menu, its edit, per part of the list a new screen and the record of the one above,
    # the result in the last screen and the numbers that did not fit in it: at most 10.
    assert len(calls) == 8, calls
    assert set(calls) <= MESSAGE_METHODS

    # A second press of the same Confirm registers nothing more.
    await chat.press_data(
        screen.message_id, screen.button_data["✅ Đăng ký 242 gia đình"], expect=0
    )
    assert rows(db, "SELECT COUNT(*) FROM registrations")[0][0] == 4 + 242


async def test_the_same_name_lines_can_be_registered_too(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    year = registration_open
    head = await enrol(902, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await register_by_hand(storage, head, hamlets["Thôn Đông"], year, "Nguyễn Văn Hoà")
    chat = api.person(902)
    await chat.send("/nhapds")
    await chat.press("📋 Nhập danh sách")
    *_, screen = await chat.send("Nguyen Van Hoa, 3, 1\nLê Thị Lan\nlê thị lan", expect=2)
    assert "trùng dòng 2" in screen.text
    assert screen.buttons[:2] == [["✅ Đăng ký 1 gia đình"], ["⬜ Vẫn đăng ký các dòng này"]]
    (screen,) = await chat.press("⬜ Vẫn đăng ký các dòng này")
    assert screen.buttons[:2] == [["✅ Đăng ký 3 gia đình"], ["☑️ Vẫn đăng ký các dòng này"]]
    await chat.press("✅ Đăng ký 3 gia đình")
    found = rows(tmp_path / "hoctap.sqlite3", "SELECT head_name FROM registrations ORDER BY id")
    assert [r[0] for r in found] == [
        "Nguyễn Văn Hoà",
        "Lê Thị Lan",
        "Nguyen Van Hoa",
        "Lê Thị Lan",
    ]  # lower case: capitalised


async def test_last_years_families_carried_over_with_three_unticked(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    year, db = registration_open, tmp_path / "hoctap.sqlite3"
    head = await enrol(910, Role.HAMLET_HEAD, "00070/Thôn Đông")
    hamlet = hamlets["Thôn Đông"]
    last = await storage.registrations.start_bulk_draft(head.id, BulkMode.LIST, hamlet.id, year - 1)
    families = [
        NewRegistration(
            kind=ModelKind.FAMILY,
            head_name=name,
            members=3 + i % 4,
            school_age_children=i % 3,
            address=f"Xóm {i % 5 + 1}",
            phone="+84912345678" if i % 2 else None,
        )
        for i, name in enumerate(names(38))
    ]
    clans = [
        NewRegistration(
            kind=ModelKind.CLAN, clan_name=clan, branch="Chi 2", head_name=head_name, households=h
        )
        for clan, head_name, h in (("Họ Đỗ", "Đỗ Văn Cả", 30), ("Họ Bùi", "Bùi Văn Trưởng", 12))
    ]
    set_ids = {
        kind: (await storage.criteria.in_force("01", year - 1, kind)).set_id
        for kind in (ModelKind.FAMILY, ModelKind.CLAN)
    }
    previous = await storage.registrations.register_many(
        last,
        hamlet,
        [*families, *clans, families[0].model_copy(update={"head_name": "Lê Rút"})],
        set_ids,
        head,
    )
    withdrawn = previous[-1]
    await storage.registrations.update(withdrawn.id, {"status": "withdrawn"})
    previous = previous[:-1]
    assert len(previous) == 40
    chat = api.person(910)
    mark = len(api.actions)

    await chat.send("/nhapds")
    (screen,) = await chat.press("🔁 Đăng ký lại từ năm trước")
    assert screen.text.startswith(f"🔁 Đăng ký lại từ năm {year - 1}, Thôn Đông")
    assert f"Năm {year - 1} có 40 gia đình, dòng họ đã đăng ký; đang chọn 40." in screen.text
    assert "Trang 1/4" in screen.text
    assert screen.buttons[0] == [f"✅ {previous[0].name}"]
    assert screen.buttons[10] == ["1/4", "▶️"]
    assert screen.buttons[11] == ["✅ Đăng ký lại 40"]
    assert "Lê Rút" not in str(screen.buttons)  # withdrawn last year

    (screen,) = await chat.press(f"✅ {previous[3].name}")
    assert screen.buttons[3] == [f"⬜ {previous[3].name}"]
    await chat.press("▶️")
    await chat.press(f"✅ {previous[15].name}")
    await chat.press("▶️")
    (screen,) = await chat.press("▶️")
    assert "Trang 4/4" in screen.text
    assert screen.buttons[-4] == [f"✅ {previous[39].name} · dòng họ"]
    (screen,) = await chat.press(f"✅ {previous[39].name} · dòng họ")
    assert "đang chọn 37." in screen.text
    (done,) = await chat.press("✅ Đăng ký lại 37")
    assert done.message_id == screen.message_id
    assert f"GD-{year}-00001 {previous[0].name} (năm trước {previous[0].number})" in done.text

    carried = rows(db, "SELECT * FROM registrations WHERE year = ? ORDER BY kind DESC, seq", year)
    assert len(carried) == 37
    unticked = {previous[3].id, previous[15].id, previous[39].id}
    expected = [p for p in previous if p.id not in unticked]
    assert [r["previous_id"] for r in carried] == [p.id for p in expected]
    assert [r["number"] for r in carried] == [
        *(f"GD-{year}-{seq:05d}" for seq in range(1, 37)),
        f"DH-{year}-00001",
    ]
    fields = (
        "name",
        "head_name",
        "clan_name",
        "branch",
        "members",
        "school_age_children",
        "households",
        "address",
        "phone",
        "kind",
        "hamlet_id",
    )
    for row, before in zip(carried, expected, strict=True):
        assert {f: row[f] for f in fields} == {f: getattr(before, f) for f in fields}
    assert (
        carried[0]["criteria_set_id"]
        == (await storage.criteria.in_force("01", year, ModelKind.FAMILY)).set_id
    )
    assert rows(db, "SELECT COUNT(*) FROM registrations WHERE year = ?", year - 1)[0][0] == 41
    assert len(message_calls(api, 910, mark)) == 9  # the menu, then one screen edited 8 times

    # The three left behind are all that is offered the next time.
    await chat.send("/nhapds")
    (screen,) = await chat.press("🔁 Đăng ký lại từ năm trước")
    assert "có 3 gia đình, dòng họ" in screen.text


async def test_an_excel_template_filled_and_sent_back(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    year = registration_open
    await enrol(920, Role.HAMLET_HEAD, "00070/Thôn Tây")
    chat = api.person(920)
    await chat.send("/nhapds")
    await chat.press("📋 Nhập danh sách")
    (template,) = await chat.press("📥 Tải mẫu Excel")
    assert template.raw["document"]["file_name"] == "danh-sach-gia-dinh-Thôn-Tây.xlsx"
    book = load_workbook(io.BytesIO(template.file_bytes()))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == [
        "Họ và tên chủ hộ",
        "Số nhân khẩu",
        "Số trẻ em trong độ tuổi đi học (6 đến 18 tuổi)",
        "Địa chỉ (không bắt buộc)",
        "Số điện thoại (không bắt buộc)",
    ]
    sheet.append(["Đinh Văn Long", 5, 2, "Xóm 1, ngõ 3", "0912345678"])
    sheet.append(["Mai Thị Cúc", 3.0, None, None, 987654321])  # Excel dropped the phone's 0
    sheet.append([None, None, None, None, None])
    sheet.append(["Tạ Văn 9", 3, 1])
    sheet.append(["Lý Văn Sơn"])
    filled = io.BytesIO()
    book.save(filled)

    *_, screen = await chat.send_document(
        filled.getvalue(), "danh sach.xlsx", "application/vnd.ms-excel", expect=2
    )
    assert "Đã đọc 4 dòng." in screen.text
    assert "• hàng 5: «Tạ Văn 9, 3, 1»: không phải họ tên đầy đủ" in screen.text
    await chat.press("✅ Đăng ký 3 gia đình")
    found = rows(
        tmp_path / "hoctap.sqlite3",
        "SELECT head_name, members, school_age_children, address, phone FROM registrations"
        " ORDER BY id",
    )
    assert [tuple(r) for r in found] == [
        ("Đinh Văn Long", 5, 2, "Xóm 1, ngõ 3", "+84912345678"),
        ("Mai Thị Cúc", 3, None, None, "+84987654321"),
        ("Lý Văn Sơn", None, None, None, None),
    ]
    assert chat.last.text.startswith(f"✅ Đã đăng ký 3 ở Thôn Tây, năm {year}.")


async def test_a_csv_file_and_files_that_cannot_be_read(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    await enrol(921, Role.HAMLET_HEAD, "00070/Thôn Tây")
    chat = api.person(921)
    await chat.send("/nhapds")
    await chat.press("📋 Nhập danh sách")
    (reply,) = await chat.send_document(b"PK\x03\x04 broken", "ds.xlsx", "application/zip")
    assert reply.text == "Không mở được tệp Excel này. Tệp có đúng định dạng .xlsx không?"
    (reply,) = await chat.send_document(b"%PDF", "ds.pdf", "application/pdf")
    assert "(.xlsx) hoặc tệp CSV" in reply.text
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Họ và tên chủ hộ", "Số nhân khẩu", "Số trẻ em"])
    writer.writerow(["Phan Văn Đạt", "4", "2"])
    writer.writerow(["Phan Thị Hà", "", ""])
    *_, screen = await chat.send_document(
        out.getvalue().encode("utf-8-sig"), "ds.csv", "text/csv", expect=2
    )
    assert "Đã đọc 2 dòng." in screen.text
    await chat.press("✅ Đăng ký 2 gia đình")
    found = rows(tmp_path / "hoctap.sqlite3", "SELECT head_name, members FROM registrations")
    assert [tuple(r) for r in found] == [("Phan Văn Đạt", 4), ("Phan Thị Hà", None)]


async def test_staff_pick_a_hamlet_of_their_area_and_presses_are_checked(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    commune = await storage.areas.by_code("00070")
    for number in range(1, 9):
        await storage.areas.add_hamlet(commune, f"Tổ dân phố số {number}")
    staff = await enrol(930, Role.STAFF, "00070")
    chat = api.person(930)
    await chat.send("/nhapds")
    (choice,) = await chat.press("📋 Nhập danh sách")
    assert len(choice.buttons) == 8 + 2 and choice.buttons[-2] == ["1/2", "▶️"]
    assert ["Thôn Tây"] in choice.buttons and ["Thôn Bắc"] not in choice.buttons
    (choice,) = await chat.press("▶️")
    assert choice.buttons[:-1] == [["Tổ dân phố số 7"], ["Tổ dân phố số 8"], ["◀️", "2/2"]]
    await chat.press("◀️")
    draft = await storage.registrations.bulk_draft_of(staff.id, BulkMode.LIST)
    await chat.press_data(choice, f"bulk:{draft.id}:h:{hamlets['Thôn Bắc'].id}", expect=0)
    assert chat.last_callback_answer["text"] == "Bạn không có quyền truy cập nội dung này."
    (entry,) = await storage.audit.entries("access.denied")
    assert entry.actor_id == staff.id
    (prompt,) = await chat.press("Thôn Tây")
    assert prompt.text.startswith("📋 Danh sách gia đình, Thôn Tây")

    # A forged press on someone else's draft finds nothing; a branch chair may not press at all.
    await enrol(931, Role.HAMLET_HEAD, "00070/Thôn Đông")
    other = api.person(931)
    (menu,) = await other.send("/nhapds")
    await other.press_data(menu, f"bulk:{draft.id}:ok", expect=0)
    assert other.last_callback_answer["text"].startswith("Nút này không còn hiệu lực")
    await enrol(932, Role.BRANCH_CHAIR, "00070/Thôn Đông")
    chair = api.person(932)
    (reply,) = await chair.send("/nhapds")
    assert reply.text == "Bạn không có quyền dùng lệnh này."
    await chair.press_data(reply, "bulk:list", expect=0)
    assert chair.last_callback_answer["text"] == "Bạn không có quyền truy cập nội dung này."
    assert await storage.registrations.bulk_draft_of(chair.user_id, BulkMode.LIST) is None


async def test_closed_registration_and_leaving_for_another_dialog(
    bot, api, storage, enrol, hamlets, tmp_path
):
    bot.clock = lambda: datetime(2026, 6, 15, 3, 0, tzinfo=UTC)  # closed, 2027 not yet open
    head = await enrol(940, Role.HAMLET_HEAD, "00070/Thôn Đông")
    chat = api.person(940)
    await chat.send("/nhapds")
    (closed,) = await chat.press("📋 Nhập danh sách")
    assert closed.text.startswith("Việc đăng ký năm 2026 đã kết thúc ngày 31/01/2026.")
    assert "Đăng ký năm 2027 mở từ ngày 01/12/2026." in closed.text and closed.buttons == []
    assert await storage.registrations.bulk_draft_of(head.id, BulkMode.LIST) is None


async def test_another_command_leaves_the_list_and_keeps_it(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    head = await enrol(941, Role.HAMLET_HEAD, "00070/Thôn Đông")
    chat = api.person(941)
    await chat.send("/nhapds")
    await chat.press("📋 Nhập danh sách")
    await chat.send("Đào Văn Một, 3, 1", expect=2)
    await chat.send("/minhchung")  # another dialog (one that only shows, /toi, keeps the list)
    replies = await chat.send("Đào Văn Hai", expect=0)  # no longer a line of the list
    assert not any("Đã đọc" in (reply.text or "") for reply in replies)
    draft = await storage.registrations.bulk_draft_of(head.id, BulkMode.LIST)
    assert len(draft.body["rows"]) == 1
    await chat.send("/nhapds")
    (screen,) = await chat.press("📋 Nhập danh sách")  # back to the list entered so far
    assert "Đã đọc 1 dòng." in screen.text


async def test_register_many_is_one_transaction_and_happens_once(storage, enrol, hamlets):
    head = await enrol(950, Role.HAMLET_HEAD, "00070/Thôn Đông")
    hamlet = hamlets["Thôn Đông"]
    repo = storage.registrations
    set_ids = {
        ModelKind.FAMILY: (await storage.criteria.in_force("01", 2026, ModelKind.FAMILY)).set_id
    }
    families = [NewRegistration(kind=ModelKind.FAMILY, head_name=name) for name in names(3)]
    draft = await repo.start_bulk_draft(head.id, BulkMode.LIST, hamlet.id, 2026)
    made = await asyncio.gather(
        *(repo.register_many(draft, hamlet, families, set_ids, head) for _ in range(2))
    )
    assert sorted(made, key=lambda m: m is None)[1] is None  # the second found it done
    count = await storage.db.conn.execute_fetchall("SELECT COUNT(*) FROM registrations")
    assert count[0][0] == 3

    # Carrying over one that someone else carried over meanwhile writes nothing at all.
    first = next(m for m in made if m is not None)
    carry = [
        NewRegistration(kind=ModelKind.FAMILY, head_name=r.head_name, previous_id=r.id)
        for r in first
    ]
    taken = await repo.start_bulk_draft(head.id, BulkMode.CARRY, hamlet.id, 2027)
    set_ids = {
        ModelKind.FAMILY: (await storage.criteria.in_force("01", 2027, ModelKind.FAMILY)).set_id
    }
    await repo.register_many(taken, hamlet, carry[1:2], set_ids, head)
    assert [r.id for r in await repo.to_carry_over(hamlet.id, 2027)] == [first[0].id, first[2].id]
    draft = await repo.start_bulk_draft(head.id, BulkMode.CARRY, hamlet.id, 2027)
    with pytest.raises(sqlite3.IntegrityError):
        await repo.register_many(draft, hamlet, carry, set_ids, head)
    count = await storage.db.conn.execute_fetchall(
        "SELECT COUNT(*) FROM registrations WHERE year = 2027"
    )
    assert count[0][0] == 1
    assert await repo.bulk_draft_of(head.id, BulkMode.CARRY) is not None  # kept for a retry


async def test_a_pasted_list_of_clans_with_a_bad_line_and_a_duplicate(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    year, db, hamlet = registration_open, tmp_path / "hoctap.sqlite3", hamlets["Thôn Đông"]
    head = await enrol(960, Role.HAMLET_HEAD, "00070/Thôn Đông")
    clan_set = (await storage.criteria.in_force("01", year, ModelKind.CLAN)).set_id
    earlier = await storage.registrations.start_bulk_draft(head.id, BulkMode.LIST, hamlet.id, year)
    (registered,) = await storage.registrations.register_many(
        earlier,
        hamlet,
        [NewRegistration(kind=ModelKind.CLAN, clan_name="Họ Đỗ", head_name="Đỗ Văn Cả")],
        {ModelKind.CLAN: clan_set},
        head,
    )
    chat = api.person(960)
    await chat.send("/nhapds")
    (prompt,) = await chat.press("📋 Nhập danh sách")
    assert "Danh sách gia đình hay dòng họ? Bấm chọn bên dưới." in prompt.text
    (prompt,) = await chat.press("⚪ Dòng họ")
    assert prompt.text.startswith(f"📋 Danh sách dòng họ, Thôn Đông, năm {year}")
    assert "mỗi dòng một dòng họ: tên dòng họ, họ tên trưởng họ" in prompt.text
    assert prompt.buttons == [["⚪ Gia đình", "🔘 Dòng họ"], ["📥 Tải mẫu Excel"], ["✖️ Hủy"]]
    lines = [
        "Họ Nguyễn, Nguyễn Văn An, 12",
        "Họ Lê; Lê Văn Bình",  # households not known
        "Họ Trần - Trần Văn Cả - 30 - Chi 2",
        "Họ Phạm, 12",  # no clan head
        "ho do, Đỗ Văn Hai, 8",  # registered already
        "HỌ NGUYỄN, Nguyễn Văn Tư, 5",  # line 1 again
        "Họ Vũ, Vũ Văn Năm, 0",
    ]
    *_, screen = await chat.send("\n".join(lines), expect=2)
    assert screen.text.startswith(f"📋 Danh sách dòng họ, Thôn Đông, năm {year}")
    assert "Đã đọc 7 dòng." in screen.text
    assert "✅ Sẵn sàng đăng ký: 3 dòng họ" in screen.text
    assert "⚠️ Trùng tên với dòng họ đã đăng ký năm nay: 2 dòng" in screen.text
    assert f"• dòng 5: Ho Do, đã đăng ký số {registered.number}" in screen.text
    assert "• dòng 6: HỌ NGUYỄN, trùng dòng 1" in screen.text
    assert "❌ Không dùng được: 2 dòng" in screen.text
    assert "• dòng 4: «Họ Phạm, 12»: thiếu họ tên đầy đủ của trưởng họ" in screen.text
    assert "• dòng 7: «Họ Vũ, Vũ Văn Năm, 0»: số hộ phải từ 1 đến 5000" in screen.text
    assert screen.buttons[:2] == [["✅ Đăng ký 3 dòng họ"], ["⬜ Vẫn đăng ký các dòng này"]]
    assert ["⚪ Gia đình", "🔘 Dòng họ"] in screen.buttons

    (done,) = await chat.press("✅ Đăng ký 3 dòng họ")
    assert done.text.startswith(f"✅ Đã đăng ký 3 ở Thôn Đông, năm {year}. Số đăng ký:")
    made = rows(db, "SELECT * FROM registrations WHERE id > ? ORDER BY id", registered.id)
    assert [
        (r["number"], r["name"], r["clan_name"], r["head_name"], r["households"], r["branch"])
        for r in made
    ] == [
        (f"DH-{year}-00002", "Họ Nguyễn", "Họ Nguyễn", "Nguyễn Văn An", 12, None),
        (f"DH-{year}-00003", "Họ Lê", "Họ Lê", "Lê Văn Bình", None, None),
        (f"DH-{year}-00004", "Họ Trần (Chi 2)", "Họ Trần", "Trần Văn Cả", 30, "Chi 2"),
    ]
    assert {(r["kind"], r["criteria_set_id"], r["hamlet_id"]) for r in made} == {
        ("clan", clan_set, hamlet.id)
    }
    assert f"DH-{year}-00004 Họ Trần (Chi 2)" in done.text
    created = await storage.audit.entries("registration.created")
    assert [e.after["number"] for e in created[1:]] == [r["number"] for r in made]
    assert rows(db, "SELECT COUNT(*) FROM registrations WHERE kind = 'family'")[0][0] == 0
    assert rows(db, "SELECT COUNT(*) FROM bulk_drafts")[0][0] == 0


async def test_a_list_read_again_as_clans_and_the_clans_template(
    bot, api, storage, enrol, hamlets, registration_open, tmp_path
):
    year = registration_open
    await enrol(961, Role.HAMLET_HEAD, "00070/Thôn Tây")
    chat = api.person(961)
    await chat.send("/nhapds")
    await chat.press("📋 Nhập danh sách")
    # Pasted while "families" was marked: nothing typed is lost, one tap reads it as clans.
    *_, screen = await chat.send("Họ Mai, Mai Văn Sáu, 9\nHọ Tạ, Tạ Văn Bảy", expect=2)
    assert "✅ Sẵn sàng đăng ký: 0 gia đình" in screen.text
    assert "• dòng 2: «Họ Tạ, Tạ Văn Bảy»: số nhân khẩu phải từ 1 đến 50" in screen.text
    (screen,) = await chat.press("⚪ Dòng họ")
    assert "✅ Sẵn sàng đăng ký: 2 dòng họ" in screen.text and "❌" not in screen.text

    (prompt,) = await chat.press("🗑 Nhập lại từ đầu")  # the list goes, the kind stays
    assert prompt.text.startswith(f"📋 Danh sách dòng họ, Thôn Tây, năm {year}")
    (template,) = await chat.press("📥 Tải mẫu Excel")
    assert template.raw["document"]["file_name"] == "danh-sach-dong-ho-Thôn-Tây.xlsx"
    book = load_workbook(io.BytesIO(template.file_bytes()))
    assert book.sheetnames == ["Dòng họ", "Hướng dẫn"]
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == [
        "Tên dòng họ",
        "Họ và tên trưởng họ",
        "Số hộ trong dòng họ",
        "Chi, nhánh (không bắt buộc)",
    ]
    sheet.append(["Họ Đinh", "Đinh Văn Tám", 40, "Chi trưởng"])
    sheet.append(["Họ Lý", "Lý", 3])
    filled = io.BytesIO()
    book.save(filled)
    *_, screen = await chat.send_document(
        filled.getvalue(), "dong ho.xlsx", "application/vnd.ms-excel", expect=2
    )
    assert "Đã đọc 2 dòng." in screen.text
    assert "• hàng 3: «Họ Lý, Lý, 3»: thiếu họ tên đầy đủ của trưởng họ" in screen.text
    await chat.press("✅ Đăng ký 1 dòng họ")
    found = rows(
        tmp_path / "hoctap.sqlite3",
        "SELECT number, kind, clan_name, head_name, households, branch FROM registrations",
    )
    assert [tuple(r) for r in found] == [
        (f"DH-{year}-00001", "clan", "Họ Đinh", "Đinh Văn Tám", 40, "Chi trưởng")
    ]
