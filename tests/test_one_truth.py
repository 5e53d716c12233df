"""Issue 12's reproduction: one evidence-state rule in every surface, local dates, history as
sentences. The real bot over HTTP against the fake Bot API and a real SQLite file."""

import io
from datetime import UTC, datetime

from openpyxl import load_workbook

from storage.models import Role
from storage.reviews import Decision
from tests.test_review import FULL_MARKS, REQUIRED, add_photo, register_family


async def test_reproduction_later_accepted_photo_supersedes_needs_more(
    bot, api, storage, enrol, hamlets, registration_open
):
    head = await enrol(890, Role.HAMLET_HEAD, "00070/Thôn Đông")
    chair = await enrol(900, Role.BRANCH_CHAIR, "00070", name="Phạm Thị Chi")
    staff = await enrol(950, Role.STAFF, "00070", name="Đỗ Văn Duyệt")
    year = registration_open
    hoa = await register_family(
        storage, head, hamlets["Thôn Đông"], "Nguyễn Văn Hoà", year, FULL_MARKS
    )
    bare = await register_family(storage, head, hamlets["Thôn Đông"], "Lê Văn Trống", year)

    # An album for GD.1.2 and one photo for GD.3.1; the other required indicators accepted.
    album = [await add_photo(api, storage, hoa, "GD.1.2", chair, n) for n in (1, 2)]
    first = await add_photo(api, storage, hoa, "GD.3.1", chair, 3)
    for n, code in enumerate(c for c in REQUIRED if c not in ("GD.1.2", "GD.3.1")):
        photo = await add_photo(api, storage, hoa, code, chair, 10 + n)
        await storage.reviews.decide(photo.id, Decision.ACCEPTED, None, staff.id)
    # 01:37 on 02/12 local time is 18:37 on 01/12 UTC.
    late = datetime(year, 12, 1, 18, 37, tzinfo=UTC)
    await storage.reviews.decide(album[0].id, Decision.NEEDS_MORE, "Ảnh mờ", staff.id, late)
    await storage.reviews.decide(album[1].id, Decision.ACCEPTED, None, staff.id)
    await storage.reviews.decide(first.id, Decision.NEEDS_MORE, "Thiếu trang", staff.id, late)
    chat = api.person(950)
    (nothing,) = await chat.send("/congnhan")
    assert nothing.buttons == []  # GD.3.1 needs more: not assessed
    newer = await add_photo(api, storage, hoa, "GD.3.1", chair, 4)
    await storage.reviews.decide(newer.id, Decision.ACCEPTED, None, staff.id)

    (ready,) = await chat.send("/congnhan")
    assert ready.buttons == [[f"{hoa.number} · Nguyễn Văn Hoà"]]  # not the one without photos
    (card,) = await chat.press(hoa.number)
    assert "Minh chứng: mọi chỉ tiêu bắt buộc đều đã được chấp nhận." in card.text
    await chat.press("✅ Công nhận", expect=2)
    await chat.press("Bỏ qua", expect=2)
    *_, saved = await chat.press("Bỏ qua", expect=2)
    assert saved.text == f"Đã lưu và khoá: {hoa.number} — được công nhận."

    (status,) = await chat.send(f"/tinhtrang {hoa.number}")
    lines = status.text.split("\n")
    assert "✅ Góc học tập, tủ sách *: 2 ảnh · đạt" in lines
    assert "✅ Kết quả học tập, hạnh kiểm *: 2 ảnh · đạt" in lines
    assert "Góc học tập, tủ sách: cần bổ sung (Thiếu trang), Đỗ Văn Duyệt, 02/12/2026" in lines
    history = status.text.split("Lịch sử (mới nhất trước):\n")[1].split("\n")
    assert history[0].startswith("Được công nhận bởi Đỗ Văn Duyệt, ")
    assert "registration." not in status.text

    (summary,) = await chat.send("/tongket")
    assert (
        "Thôn Đông: 2 đăng ký · 1 đủ minh chứng (50%) · 1 đã đánh giá (50%) · "
        "1 được công nhận (50%) · 0 không được công nhận (0%)"
    ) in summary.text
    (sent,) = await chat.send("/xuat")
    book = load_workbook(io.BytesIO(sent.file_bytes()))
    rows = [list(r) for r in book["Tổng hợp"].iter_rows(values_only=True)]
    east = next(r for r in rows if r[1] == "Thôn Đông" and r[3] == "Gia đình học tập")
    assert east[4:9] == [2, 1, 1, 1, 0]  # after the STT column
    listed = {r[1]: r[16] for r in book["Danh sách đăng ký"].iter_rows(values_only=True)}
    assert listed[hoa.number] == "đã đánh giá"
    assert listed[bare.number] == "chưa đủ minh chứng"
    assert await storage.tallies.check() == []
