"""What people do across registration, evidence, review and reports that broke: the real bot,
the fake Bot API over HTTP, a real SQLite file. Today is in December, so a new registration
goes to the next programme year (bot/years.py)."""

from datetime import UTC, datetime

import pytest

from storage.models import Role

DECEMBER = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 10:00 on 02/12/2026 in Việt Nam
NEXT = 2027


@pytest.fixture
def december(bot):
    """The bot's clock on 2 December 2026: new registrations go to 2027."""
    bot.clock = lambda: DECEMBER
    return bot


async def register_by_taps(chat, name: str):
    """A hamlet head's /dangky by taps, as people do it; the confirmation screen."""
    await chat.send("/dangky")
    await chat.press("Gia đình học tập")
    await chat.send(name, expect=2)
    await chat.press("4")
    await chat.press("1")
    (done,) = await chat.press("✅ Xác nhận đăng ký")
    return done


async def test_staff_find_a_next_year_registration_by_name(december, api, storage, enrol, hamlets):
    """In December a family registers for next year; staff find it with /tinhtrang by its
    name typed without diacritics, as they do by its number (it said there was none)."""
    await enrol(800, Role.HAMLET_HEAD, "00070/Thôn Đông")
    await enrol(950, Role.STAFF, "00070")
    done = await register_by_taps(api.person(800), "Nguyễn Văn Hoà")
    year = NEXT
    assert f"Số đăng ký: GD-{year}-00001" in done.text
    (status,) = await api.person(950).send("/tinhtrang nguyen van hoa")
    assert status.text.startswith(f"GD-{year}-00001 · gia đình học tập")
    (none,) = await api.person(950).send("/tinhtrang tran thi")
    assert none.text == (
        f"Không có bản đăng ký nào năm {year}, {year - 1} trong địa bàn của bạn khớp với tran thi."
    )
