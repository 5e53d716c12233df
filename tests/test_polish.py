"""Small things people notice, walked end to end: the real bot, the fake Bot API over HTTP, a
real SQLite file. Today is in December, so a new registration goes to the next programme year."""

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from storage.models import Role
from tests.test_evidence import picture
from tests.test_qa_core import register_by_taps

DECEMBER = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 10:00 on 02/12/2026 in Việt Nam
NEXT = 2027


@pytest.fixture
def december(bot):
    """The bot's clock on 2 December 2026: new registrations go to 2027."""
    bot.clock = lambda: DECEMBER
    return bot


@pytest.mark.parametrize("word", ["Xong", "xong roi", "Xong rồi!", "OK"])
async def test_typing_done_at_the_photo_step_works_as_the_button(
    december, api, storage, enrol, hamlets, word
):
    """At the photo step people type "xong rồi" or "ok" instead of pressing ✅ Xong: it was
    answered "Bot đang chờ ảnh, không phải chữ"; now it gives the receipt, as the button does."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)
    await register_by_taps(head, "Nguyễn Văn Hoà")
    await head.send(f"/minhchung GD-{NEXT}-00001")
    await head.press("⬜ Trẻ em đi học đúng tuổi *")
    await head.send_photo(picture(5))
    *_, receipt = await head.send(word)
    assert receipt.text.startswith(
        f"Biên nhận: đã lưu 1 ảnh cho chỉ tiêu Trẻ em đi học đúng tuổi của GD-{NEXT}-00001."
    ), receipt.text


def readme_rows(command: str) -> list[str]:
    """The README's table rows (both tables) that start with the command."""
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    return [line for line in readme.splitlines() if line.startswith(f"| `/{command}")]


async def test_the_readme_gives_the_year_of_tongket_and_namhoc(december, api, enrol, hamlets):
    """/tongket and /namhoc take a year after the area or province, as the bot answers here;
    the README's command and report tables said only `/tongket [area]` and `/namhoc`."""
    await enrol(700, Role.ADMIN)
    admin = api.person(700)
    *_, summary = await admin.send(f"/tongket 00070 {NEXT}")
    assert summary.text.startswith(f"Tổng kết năm {NEXT}: Phường Hoàn Kiếm")
    (dates,) = await admin.send(f"/namhoc 01 {NEXT}")
    assert dates.text.startswith(f"Năm {NEXT} tại Thành phố Hà Nội (01):")
    assert len(readme_rows("tongket [area] [year]`")) == 2  # "In the bot" and "Reports"
    assert len(readme_rows("namhoc [province] [year]`")) == 1


async def test_an_empty_list_without_a_filter_says_none_yet_and_what_to_do(
    december, api, enrol, hamlets
):
    """/danhsach with nothing registered said "… khớp với bộ lọc này" though no filter was
    set; it says there is nothing yet in the area and how to register (who may)."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(810, Role.BRANCH_CHAIR, "00070/Thôn Đông")
    (head,) = await api.person(800).send("/danhsach")
    assert head.text == (
        f"Chưa có bản đăng ký nào tại Thôn Đông cho năm {NEXT}, {NEXT - 1}.\n"
        "Để đăng ký một gia đình hoặc dòng họ, gửi /dangky; đăng ký nhiều cùng lúc: /nhapds."
    )
    (chair,) = await api.person(810).send("/danhsach")
    assert chair.text == (
        f"Chưa có bản đăng ký nào tại Thôn Đông cho năm {NEXT}, {NEXT - 1}.\n"
        "Trưởng thôn đăng ký gia đình và dòng họ bằng /dangky hoặc /nhapds."
    )


async def test_the_export_leaves_the_score_of_a_family_not_self_assessed_blank(
    december, api, storage, enrol, hamlets
):
    """The export's Kết quả sheet gave a family that has not self-assessed 0 points and "chưa
    đạt", as if it had scored nothing: it has no score, so the cells are blank."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(950, Role.STAFF, "00070")
    head = api.person(800)
    await register_by_taps(head, "Nguyễn Văn Hoà")
    await head.press("📝 Tự đánh giá ngay")
    await head.press("8")
    await register_by_taps(head, "Trần Thị Bình")
    (sent,) = await api.person(950).send(f"/xuat 00070 {NEXT}")
    book = load_workbook(io.BytesIO(sent.file_bytes()))
    rows = {r[2]: list(r) for r in book["Kết quả"].iter_rows(values_only=True)}
    assert rows["Nguyễn Văn Hoà"][3:6] == [8, None, "chưa đạt"]
    assert rows["Trần Thị Bình"][3:6] == [None, None, None]


async def test_names_typed_in_lower_case_are_stored_capitalised(
    december, api, storage, enrol, hamlets
):
    """A family head, a clan and a list typed all in lower case without diacritics ("ho
    nguyen", "nguyen van an") were stored as typed; each word now starts with a capital, in
    /dangky and /nhapds alike, and a name with any capital stays as typed."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    head = api.person(800)
    done = await register_by_taps(head, "nguyen van an")
    assert "Nguyen Van An" in done.text
    await head.send("/dangky")
    await head.press("Dòng họ học tập")
    for text in ("ho nguyen", "nguyễn văn tộc", "35"):
        await head.send(text, expect=2)
    await head.press("✅ Xác nhận đăng ký")
    await head.send("/nhapds")
    await head.press("📋 Nhập danh sách")
    await head.send("tran thi binh, 3, 1\nLê thị Lan, 4", expect=2)
    await head.press("✅ Đăng ký 2 gia đình")
    registered, _total = await storage.registrations.in_area(None, (NEXT,), limit=10)
    assert sorted((r.name, r.head_name) for r in registered) == [
        ("Ho Nguyen", "Nguyễn Văn Tộc"),
        ("Lê thị Lan", "Lê thị Lan"),
        ("Nguyen Van An", "Nguyen Van An"),
        ("Tran Thi Binh", "Tran Thi Binh"),
    ]
