"""The real `python -m bot run` process against the fake Bot API server on loopback."""

import asyncio
import signal
import sys

from storage import Storage
from storage.models import Role
from tests.conftest import open_all_year


async def start_bot(env, cwd):
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_the_bot_process_answers_and_stops_cleanly_on_sigterm(api, cli_env, tmp_path):
    init = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "init-db", env=cli_env)
    assert await init.wait() == 0
    storage = await Storage.open(cli_env["HOCTAP_DB_PATH"])
    commune = await storage.areas.by_code("00070")
    await storage.people.add(601, "Vũ Thị Hoa", "+84912345601", Role.STAFF, commune.id, "vi")
    await storage.close()

    env = cli_env | {
        "HOCTAP_BOT_TOKEN": api.token,
        "HOCTAP_API_BASE_URL": api.base_url,
        "HOCTAP_FILE_BASE_URL": api.base_file_url,
    }
    api.fail_next("setMyCommands", times=2, error_code=400, description="Bad Request: refused")
    bot = await start_bot(env, tmp_path)
    try:
        (reply,) = await api.person(600).send("/start", timeout=60)
        assert reply.text.startswith("Bạn chưa được đăng ký sử dụng bot Xã hội học tập.")
        (help_text,) = await api.person(601).send("/trogiup")
        assert help_text.text.startswith("Xin chào Vũ Thị Hoa, bạn đang sử dụng với vai trò")
        assert "/nguoidung — Người dùng trong địa bàn của tôi" in help_text.text
    finally:
        bot.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(bot.wait(), 30)
    stderr = (await bot.stderr.read()).decode()
    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert "setMyCommands for vi refused" in stderr  # the refusal was logged, not fatal
    assert api.token not in stderr and "TEST-TOKEN" not in stderr


async def test_a_registration_survives_sigkill_mid_dialog(api, cli_env, tmp_path):
    init = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "init-db", env=cli_env)
    assert await init.wait() == 0
    storage = await Storage.open(cli_env["HOCTAP_DB_PATH"])
    commune = await storage.areas.by_code("00070")
    hamlet, _ = await storage.areas.add_hamlet(commune, "Thôn Đông")
    await storage.people.add(610, "Hà Văn Thôn", "+84912345610", Role.HAMLET_HEAD, hamlet.id, "vi")
    year = await open_all_year(storage)
    await storage.close()
    env = cli_env | {
        "HOCTAP_BOT_TOKEN": api.token,
        "HOCTAP_API_BASE_URL": api.base_url,
        "HOCTAP_FILE_BASE_URL": api.base_file_url,
    }
    head = api.person(610)

    bot = await start_bot(env, tmp_path)
    try:
        await head.send("/dangky", timeout=60)
        await head.press("Gia đình học tập")
        await head.send("Đinh Văn Lâm", expect=2)
        *_, children = await head.send("6", expect=2)
        assert children.text.startswith("Bước 4/5")
    finally:
        bot.kill()  # SIGKILL: no shutdown, no final persistence write
        await bot.wait()

    bot = await start_bot(env, tmp_path)
    try:
        *_, offer = await head.send("/dangky", timeout=60)
        assert offer.text.startswith("Bạn có một đăng ký đang làm dở (bước 4/5)")
        (question,) = await head.press("▶️ Tiếp tục")
        assert question.text.startswith("Bước 4/5")
        await head.press("3")
        (done,) = await head.press("✅ Xác nhận đăng ký")
        assert f"GD-{year}-00001" in done.text
        await head.press("📝 Tự đánh giá ngay")
        for _ in range(10):
            await head.press("5")
    finally:
        bot.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.wait(), 30)

    storage = await Storage.open(cli_env["HOCTAP_DB_PATH"])
    try:
        (row,) = await storage.db.conn.execute_fetchall("SELECT * FROM registrations")
        assert (row["head_name"], row["members"], row["school_age_children"]) == (
            "Đinh Văn Lâm",
            6,
            3,
        )
        codes = [
            "GD.1.1",
            "GD.1.2",
            "GD.1.3",
            "GD.2.1",
            "GD.2.2",
            "GD.2.3",
            "GD.3.1",
            "GD.3.2",
            "GD.4.1",
            "GD.4.2",
        ]
        assert await storage.registrations.assessment(row["id"]) == dict.fromkeys(codes, 5)
    finally:
        await storage.close()
