"""The real `python -m bot run` process against the fake Bot API server on loopback."""

import asyncio
import signal
import sys

from storage import Storage
from storage.models import Role


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
