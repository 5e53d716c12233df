"""Flood control, and failures that end in a polite answer instead of a dead process."""

import logging

from bot.flood import FloodGuard, Verdict
from storage.models import Role

SLOW_DOWN = "Bạn đang gửi tin nhắn nhanh hơn tôi có thể đọc."
APOLOGY = "Xin lỗi, hệ thống vừa gặp sự cố."


def test_flood_guard_warns_once_then_drops_until_the_window_has_passed():
    now = [0.0]
    guard = FloodGuard(limit=3, window=10, clock=lambda: now[0])
    assert [guard.check(1) for _ in range(3)] == [Verdict.OK] * 3
    assert guard.check(2) is Verdict.OK  # someone else is not affected
    assert [guard.check(1) for _ in range(3)] == [Verdict.WARN, Verdict.DROP, Verdict.DROP]
    now[0] = 10.0
    assert guard.check(1) is Verdict.OK
    assert [guard.check(1) for _ in range(3)] == [Verdict.OK, Verdict.OK, Verdict.WARN]


async def test_a_flood_gets_one_slow_down_message(bot, api, enrol):
    await enrol(800, Role.STAFF, "00070")
    person = api.person(800)
    for _ in range(35):
        await person.send("/toi", wait=False)
    replies = await person.wait(expect=31, quiet=0.5)
    texts = [r.text for r in replies]
    assert sum(t.startswith(SLOW_DOWN) for t in texts) == 1
    assert sum(t.startswith("Tài khoản của bạn") for t in texts) == 30
    assert len(texts) == 31


async def test_a_failed_send_ends_in_the_apology_and_logs_no_secrets(bot, api, enrol, caplog):
    caplog.set_level(logging.DEBUG)
    await enrol(801, Role.STAFF, "00070", phone="+84912345678")
    person = api.person(801)
    api.fail_next("sendMessage", 1, 500)
    (reply,) = await person.send("/toi")
    assert reply.text.startswith(APOLOGY)
    (again,) = await person.send("/toi")  # the bot is still there
    assert again.text.startswith("Tài khoản của bạn") and "+84912345678" in again.text

    assert any(r.levelno == logging.ERROR and "failed" in r.getMessage() for r in caplog.records)
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert api.token not in logged
    assert "912345678" not in logged
    assert "0912345678" not in logged
