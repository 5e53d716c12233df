"""The self-assessment as its own step: from the card in /danhsach or /danhgia, one screen
edited in place, saved per answer, changeable until the evaluation lock."""

import sqlite3
from datetime import date

from storage.models import Role
from storage.registrations import ProgrammeYear
from tests.test_registration_list import MARCH, register

FAMILY_POINTS = ["10", "8", "10", "10", "10", "7", "10", "9", "10", "7"]


def values(db_path, registration_id: int) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        found = conn.execute(
            "SELECT indicator_code, value FROM self_assessments WHERE registration_id = ?",
            (registration_id,),
        ).fetchall()
    return dict(found)


async def test_a_self_assessment_done_later_from_the_card(
    bot, api, storage, enrol, hamlets, tmp_path
):
    bot.clock = lambda: MARCH
    head = await enrol(820, Role.HAMLET_HEAD, "00070/Thôn Đông")
    family = await register(storage, head, hamlets["Thôn Đông"], assessment={})
    chat = api.person(820)
    await chat.send("/danhsach")
    (card,) = await chat.press(family.number)
    assert "📝 Tự đánh giá" in card.button_data
    (screen,) = await chat.press("📝 Tự đánh giá")
    assert screen.message_id == card.message_id  # the card becomes the screen
    assert "Chỉ tiêu 1/10: Trẻ em đi học đúng tuổi *" in screen.text
    assert "GD.1" not in screen.text
    for points in FAMILY_POINTS:
        (screen,) = await chat.press(points)
        assert screen.message_id == card.message_id
    assert "Đã trả lời 10/10 chỉ tiêu" in screen.text
    assert "• Người lớn biết chữ: 10/10 điểm" in screen.text
    assert "Tổng điểm tự chấm: 91/100 điểm" in screen.text
    db = tmp_path / "hoctap.sqlite3"
    assert values(db, family.id)["GD.1.2"] == 8

    (question,) = await chat.press("✏️ Kết quả học tập, hạnh kiểm")
    assert "Hiện tại: 8/10 điểm" in question.text
    (summary,) = await chat.press("10")
    assert "Tổng điểm tự chấm: 93/100 điểm" in summary.text
    (done,) = await chat.press("✅ Xong")
    assert done.text == f"✔️ Đã lưu tự đánh giá {family.number}: 10/10 chỉ tiêu."
    assert done.buttons == []
    assert values(db, family.id)["GD.1.2"] == 10
    assert len(chat.messages) == 1  # /danhsach, the card and the assessment: one message
    entries = await storage.audit.entries("registration.assessed")
    assert len(entries) == 11 and entries[-1].after == {"number": family.number, "GD.1.2": 10}


async def test_existing_answers_are_kept_and_a_branch_chair_continues_until_the_lock(
    bot, api, storage, enrol, hamlets, tmp_path
):
    bot.clock = lambda: MARCH
    head = await enrol(821, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(822, Role.BRANCH_CHAIR, "00070/Thôn Đông")
    family = await register(storage, head, hamlets["Thôn Đông"])  # GD.1.1 and GD.1.2 answered
    chair = api.person(822)
    (screen,) = await chair.send(f"/danhgia {family.number}")
    assert "Chỉ tiêu 3/10: Trẻ trung thực, lễ phép" in screen.text  # the first unanswered
    (screen,) = await chair.press("⬅️ Quay lại")
    assert "Chỉ tiêu 2/10" in screen.text and "Hiện tại: 8/10 điểm" in screen.text
    await chair.press("9")
    assert values(tmp_path / "hoctap.sqlite3", family.id) == {"GD.1.1": 10, "GD.1.2": 9}

    year = 2026
    await storage.registrations.set_programme_year(
        ProgrammeYear(
            province_code="01",
            year=year,
            registration_close=date(year, 1, 31),
            evaluation_lock=date(year, 2, 1),
            recognition=date(year, 12, 31),
        )
    )
    await chair.press("10", expect=0)
    assert "khóa đánh giá" in chair.last_callback_answer["text"]
    assert values(tmp_path / "hoctap.sqlite3", family.id) == {"GD.1.1": 10, "GD.1.2": 9}


async def test_another_hamlet_cannot_assess(bot, api, storage, enrol, hamlets):
    bot.clock = lambda: MARCH
    head = await enrol(823, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(824, Role.BRANCH_CHAIR, "00073/Thôn Bắc")
    family = await register(storage, head, hamlets["Thôn Đông"], assessment={})
    chair = api.person(824)
    (reply,) = await chair.send("/danhgia")
    await chair.press_data(reply, f"sa:v:{family.id}:0:10", expect=0)
    assert chair.last_callback_answer["text"] == "Bạn không có quyền truy cập nội dung này."
    assert await storage.registrations.assessment(family.id) == {}


async def test_a_forged_answer_out_of_range_changes_nothing(bot, api, storage, enrol, hamlets):
    bot.clock = lambda: MARCH
    head = await enrol(825, Role.HAMLET_HEAD, "00070/Thôn Đông")
    family = await register(storage, head, hamlets["Thôn Đông"], assessment={})
    chat = api.person(825)
    (screen,) = await chat.send(f"/danhgia {family.number}")
    for forged in (f"sa:v:{family.id}:0:11", f"sa:v:{family.id}:99:1"):
        await chat.press_data(screen, forged, expect=0)
        assert chat.last_callback_answer["text"].startswith("Nút này không còn hiệu lực")
    assert await storage.registrations.assessment(family.id) == {}
