"""One rule for the programme year (bot/years.py): from 1 December, once this year's
registration has closed, new registrations go to the next year, and the dialogs that work on
registrations find both years' (newest first); staff reports keep the current year."""

import sqlite3
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.years import open_years, registration_year
from storage.models import Role
from storage.registrations import ProgrammeYear
from tests.conftest import settings_for
from tests.test_evidence import picture, register_family, sha

DECEMBER = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
JUNE = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
JANUARY = datetime(2027, 1, 10, 3, 0, tzinfo=UTC)
FAMILY_POINTS = ["10", "8", "10", "10", "10", "7", "10", "9", "10", "7"]
CLOSED = (
    "Việc đăng ký năm 2026 đã kết thúc ngày 31/01/2026. Đăng ký năm 2027 mở từ ngày "
    "01/12/2026.\nMuốn mở lại ngay, quản trị viên đổi ngày kết thúc đăng ký bằng lệnh /namhoc."
)


def rows(db_path, sql, *params):
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def numbers(message) -> list[str]:
    """The registration numbers on a list's buttons, in order."""
    return [row[0].split(" · ")[0] for row in message.buttons if row[0][:3] in ("GD-", "DH-")]


async def test_in_december_a_family_registered_for_next_year_is_found_everywhere(
    bot, api, storage, enrol, hamlets, tmp_path
):
    """No programme dates set: the defaults (close 31/01, lock 30/11, recognition 31/12)."""
    db = tmp_path / "hoctap.sqlite3"
    head = await enrol(1001, Role.HAMLET_HEAD, "00070/Thôn Đông")
    bot.clock = lambda: datetime(2026, 1, 20, 3, 0, tzinfo=UTC)
    earlier = await register_family(storage, head, hamlets["Thôn Đông"], "Lê Văn Cũ", 2026)
    bot.clock = lambda: DECEMBER
    chat = api.person(1001)

    # /dangky registers for 2027.
    (screen,) = await chat.send("/dangky")
    assert "Thôn Đông, năm 2027" in screen.text
    await chat.press("Gia đình học tập")
    await chat.send("Trần Văn Bình", expect=2)
    await chat.press("4")
    await chat.press("1")
    (done,) = await chat.press("✅ Xác nhận đăng ký")
    assert "Số đăng ký: GD-2027-00001" in done.text
    (family,) = rows(db, "SELECT * FROM registrations WHERE year = 2027")
    assert family["number"] == "GD-2027-00001"

    # /danhsach shows both years, the newest first.
    (listing,) = await chat.send("/danhsach")
    assert listing.text.startswith("Đăng ký năm 2027, 2026: 1–2 trên tổng số 2.")
    assert numbers(listing) == ["GD-2027-00001", earlier.number]

    # /minhchung: the list, then by name, then a photo stored under 2027.
    (listing,) = await chat.send("/minhchung")
    assert numbers(listing) == ["GD-2027-00001", earlier.number]
    *_, card = await chat.send("tran van binh", expect=2)
    assert card.text.startswith("Minh chứng của GD-2027-00001: Trần Văn Bình, Thôn Đông")
    await chat.press("Trẻ em đi học đúng tuổi")
    # Taken on the day it was registered (in December 2026 for 2027): not flagged; taken
    # before it was registered, in 2026: flagged as outside the programme year.
    made = datetime.fromisoformat(family["created_at"]).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    photo = picture(71, exif_date=f"{made:%Y:%m:%d} 09:00:00")
    *_, stored = await chat.send_photo(photo)
    assert stored.text.startswith("Đã lưu 1 ảnh cho Trẻ em đi học đúng tuổi.")
    await chat.send_photo(picture(72, exif_date="2026:10:01 09:00:00"))
    first, second = rows(
        db, "SELECT * FROM evidence WHERE registration_id = ? ORDER BY id", family["id"]
    )
    assert first["path"] == f"2027/GD-2027-00001/{sha(photo)}.jpg"
    assert (tmp_path / "media" / first["path"]).read_bytes() == photo
    assert first["flags"] == "[]" and "captured_outside_year" in second["flags"]
    await chat.press("✅ Xong")

    # /danhgia: the list, then the whole self-assessment, open until 30/11/2027.
    (listing,) = await chat.send("/danhgia")
    assert numbers(listing) == ["GD-2027-00001", earlier.number]
    (screen,) = await chat.press("GD-2027-00001 · Trần Văn Bình")
    assert "Chỉ tiêu 1/10: Trẻ em đi học đúng tuổi *" in screen.text
    for points in FAMILY_POINTS:
        (screen,) = await chat.press(points)
    assert "Đã trả lời 10/10 chỉ tiêu" in screen.text
    answers = rows(db, "SELECT value FROM self_assessments WHERE registration_id = ?", family["id"])
    assert len(answers) == 10
    dates = await storage.registrations.programme_year("01", 2027)
    assert (dates.registration_close, dates.evaluation_lock, dates.recognition) == (
        date(2027, 1, 31),
        date(2027, 11, 30),
        date(2027, 12, 31),
    )

    # /thieu names the 2027 family among those missing evidence, with both years.
    (missing,) = await chat.send("/thieu")
    assert missing.text.startswith("Năm 2027, 2026, Thôn Đông")
    assert missing.text.index("GD-2027-00001") < missing.text.index(earlier.number)

    # /nhapds: a pasted list registers for 2027; last year's families are 2026's.
    await chat.send("/nhapds")
    (prompt,) = await chat.press("📋 Nhập danh sách")
    assert prompt.text.startswith("📋 Danh sách gia đình, Thôn Đông, năm 2027")
    await chat.send("Đào Văn Một, 3, 1\nĐào Văn Hai, 5, 2", expect=2)
    await chat.press("✅ Đăng ký 2 gia đình")
    made = rows(db, "SELECT number, head_name FROM registrations WHERE year = 2027 ORDER BY seq")
    assert [tuple(r) for r in made] == [
        ("GD-2027-00001", "Trần Văn Bình"),
        ("GD-2027-00002", "Đào Văn Một"),
        ("GD-2027-00003", "Đào Văn Hai"),
    ]
    await chat.send("/nhapds")
    (carry,) = await chat.press("🔁 Đăng ký lại từ năm trước")
    assert carry.text.startswith("🔁 Đăng ký lại từ năm 2026, Thôn Đông")
    assert carry.buttons[0] == ["✅ Lê Văn Cũ"]
    await chat.send("/huy")

    # Staff reports keep the current year: December is 2026's recognition time.
    await enrol(1002, Role.STAFF, "00070")
    (summary, *_) = await api.person(1002).send("/tongket")
    assert summary.text.startswith("Tổng kết năm 2026")

    # The self-assessment stays open until the 2027 lock, then it is locked.
    bot.clock = lambda: datetime(2027, 11, 30, 3, 0, tzinfo=UTC)
    (screen,) = await chat.send("/danhgia GD-2027-00001")
    (screen,) = await chat.press("✏️ Kết quả học tập, hạnh kiểm")
    await chat.press("10")
    answer = rows(
        db,
        "SELECT value FROM self_assessments WHERE registration_id = ? AND indicator_code = ?",
        family["id"],
        "GD.1.2",
    )
    assert answer[0][0] == 10
    bot.clock = lambda: datetime(2027, 12, 1, 3, 0, tzinfo=UTC)
    (locked,) = await chat.send("/danhgia GD-2027-00001")
    assert "khóa đánh giá" in locked.text


async def test_in_january_everything_is_the_current_year(bot, api, storage, enrol, hamlets):
    head = await enrol(1011, Role.HAMLET_HEAD, "00070/Thôn Đông")
    bot.clock = lambda: datetime(2026, 1, 20, 3, 0, tzinfo=UTC)
    old = await register_family(storage, head, hamlets["Thôn Đông"], "Lê Văn Cũ", 2026)
    bot.clock = lambda: JANUARY
    new = await register_family(storage, head, hamlets["Thôn Đông"], "Trần Văn Mới", 2027)
    chat = api.person(1011)
    (screen,) = await chat.send("/dangky")
    assert "Thôn Đông, năm 2027" in screen.text
    await chat.send("/huy")
    (listing,) = await chat.send("/danhsach")
    assert listing.text.startswith("Đăng ký năm 2027: 1–1 trên tổng số 1.")
    assert numbers(listing) == [new.number]
    (listing,) = await chat.send("/minhchung")
    assert numbers(listing) == [new.number]
    (reply,) = await chat.send("le van cu")
    assert reply.text.startswith("Không tìm thấy “le van cu” trong địa bàn của bạn.")
    await chat.send("/huy")
    (listing,) = await chat.send("/danhgia")
    assert numbers(listing) == [new.number]
    (missing,) = await chat.send("/thieu")
    assert missing.text.startswith("Năm 2027, Thôn Đông") and old.number not in missing.text
    await chat.send("/nhapds")
    (prompt,) = await chat.press("📋 Nhập danh sách")
    assert prompt.text.startswith("📋 Danh sách gia đình, Thôn Đông, năm 2027")


async def test_in_june_both_dialogs_say_when_registration_reopens(
    bot, api, storage, enrol, hamlets, tmp_path
):
    await enrol(1021, Role.HAMLET_HEAD, "00070/Thôn Đông")
    bot.clock = lambda: JUNE
    chat = api.person(1021)
    (closed,) = await chat.send("/dangky")
    assert closed.text == CLOSED
    await chat.send("/nhapds")
    (closed,) = await chat.press("📋 Nhập danh sách")
    assert closed.text == CLOSED and closed.buttons == []
    await chat.send("/nhapds")
    (closed,) = await chat.press("🔁 Đăng ký lại từ năm trước")
    assert closed.text == CLOSED
    assert rows(tmp_path / "hoctap.sqlite3", "SELECT COUNT(*) FROM registrations")[0][0] == 0


async def test_a_draft_begun_before_the_close_is_not_registered_after_it(
    bot, api, storage, enrol, hamlets, tmp_path
):
    await enrol(1031, Role.HAMLET_HEAD, "00070/Thôn Đông")
    bot.clock = lambda: datetime(2026, 1, 31, 14, 0, tzinfo=UTC)  # 21:00 on the last day
    chat = api.person(1031)
    (screen,) = await chat.send("/dangky")
    assert "Thôn Đông, năm 2026" in screen.text
    await chat.press("Gia đình học tập")
    await chat.send("Trần Văn Muộn", expect=2)
    await chat.press("4")
    await chat.press("1")
    bot.clock = lambda: datetime(2026, 2, 1, 2, 0, tzinfo=UTC)
    (closed,) = await chat.press("✅ Xác nhận đăng ký")
    assert closed.text == CLOSED and closed.buttons == []
    assert rows(tmp_path / "hoctap.sqlite3", "SELECT COUNT(*) FROM registrations")[0][0] == 0


@pytest.mark.parametrize(
    ("today", "next_year_from", "expected"),
    [
        (date(2026, 1, 31), "01/12", 2026),  # the last day of this year's registration
        (date(2026, 2, 1), "01/12", None),
        (date(2026, 11, 30), "01/12", None),
        (date(2026, 12, 1), "01/12", 2027),
        (date(2026, 12, 31), "01/12", 2027),
        (date(2026, 11, 15), "15/11", 2027),  # another next-year date
        (date(2026, 11, 14), "15/11", None),
    ],
)
async def test_the_year_a_new_registration_goes_to(
    api, storage, tmp_path, today, next_year_from, expected
):
    settings = settings_for(api, tmp_path, next_year_from=next_year_from)
    choice = await registration_year(storage, settings, "01", today)
    assert choice.year == expected
    assert (choice.closed_on, choice.opens_on.year) == (date(2026, 1, 31), 2026)
    area = await storage.areas.by_code("00070")
    years = await open_years(storage, settings, area, today)
    assert years == ((2027, 2026) if expected == 2027 else (2026,))


async def test_next_year_waits_while_this_years_registration_is_kept_open(api, storage, tmp_path):
    """An administrator kept 2026's registration open to 15/12: until then new registrations
    go to 2026, and 2027 is not worked on yet; then 2027 opens."""
    await storage.registrations.set_programme_year(
        ProgrammeYear(
            province_code="01",
            year=2026,
            registration_close=date(2026, 12, 15),
            evaluation_lock=date(2026, 12, 20),
            recognition=date(2026, 12, 31),
        )
    )
    settings = settings_for(api, tmp_path)
    area = await storage.areas.by_code("00070")
    december = date(2026, 12, 10)
    assert (await registration_year(storage, settings, "01", december)).year == 2026
    assert await open_years(storage, settings, area, december) == (2026,)
    assert await open_years(storage, settings, None, december) == (2027, 2026)  # some province
    later = date(2026, 12, 16)
    assert (await registration_year(storage, settings, "01", later)).year == 2027
    assert await open_years(storage, settings, area, later) == (2027, 2026)
