"""SIGKILL at many points of a registration-and-evidence walk loses nothing.

The same walk runs twice against the real `python -m bot run` process: once undisturbed, once
killed with SIGKILL at several points (between updates, and with an update still in flight)
and started again each time. The two final databases and media folders must be the same.
"""

import asyncio
import hashlib
import signal
import sqlite3
import sys
from pathlib import Path

from bot.testkit import FakeBotApi
from storage import Storage
from storage.areas import official_communes, official_provinces
from storage.models import Role
from tests.conftest import open_all_year
from tests.test_evidence import picture

HEAD, CHAIR = 610, 611


def walk(year: int) -> list:
    """The steps: (who, what, argument, replies expected); a step is one update."""
    number = f"GD-{year}-00001"
    return [
        (HEAD, "send", "/dangky", 1),
        (HEAD, "press", "Gia đình học tập", 1),
        (HEAD, "send", "Đinh Văn Lâm", 2),
        (HEAD, "send", "6", 2),
        (HEAD, "send", "3", 2),
        (HEAD, "press", "✏️ Địa chỉ", 1),
        (HEAD, "send", "Thôn Đông, số 4", 2),
        (HEAD, "press", "✅ Xác nhận đăng ký", 1),
        (HEAD, "press", "📝 Tự đánh giá ngay", 1),
        *[
            (HEAD, "press", points, 1)
            for points in ["5", "6", "7", "8", "9", "10", "5", "6", "7", "8"]
        ],
        (CHAIR, "send", f"/minhchung {number}", 1),
        (CHAIR, "press", "Trẻ em đi học đúng tuổi", 1),
        (CHAIR, "photo", 1, 1),
        (CHAIR, "photo", 2, 1),
        (CHAIR, "press", "✅ Xong", 1),
    ]


# Kills after these steps (indexes into walk()); True: the step is a text message killed while
# the bot handles it, which Telegram (the fake server) then delivers again.
KILL_AFTER = {2: False, 4: True, 11: False, 18: False, 19: True, 21: False}


async def prepare(tmp_path: Path) -> tuple[dict, int]:
    env_db = tmp_path / "data" / "hoctap.sqlite3"
    storage = await Storage.open(env_db)
    await storage.areas.load_official(official_provinces(), official_communes())
    commune = await storage.areas.by_code("00070")
    hamlet, _ = await storage.areas.add_hamlet(commune, "Thôn Đông")
    await storage.people.add(HEAD, "Hà Văn Thôn", "+84912345610", Role.HAMLET_HEAD, hamlet.id, "vi")
    await storage.people.add(
        CHAIR, "Lý Thị Hội", "+84912345611", Role.BRANCH_CHAIR, commune.id, "vi"
    )
    year = await open_all_year(storage)
    await storage.close()
    return {
        "HOCTAP_DB_PATH": str(env_db),
        "HOCTAP_MEDIA_DIR": str(tmp_path / "data" / "media"),
    }, year


async def act(person, what: str, argument, expect: int, in_flight: bool):
    if what == "send" and in_flight:
        await person.send(argument, wait=False)
    elif what == "send":
        await person.send(argument, expect=expect, timeout=60)
    elif what == "press":
        await person.press(argument, expect=expect, timeout=60)
    else:
        await person.send_photo(picture(argument), expect=expect, timeout=60)


async def run_walk(tmp_path: Path, cli_env: dict, kills: dict[int, bool]) -> dict:
    paths, year = await prepare(tmp_path)
    async with FakeBotApi() as api:
        env = (
            cli_env
            | paths
            | {
                "HOCTAP_BOT_TOKEN": api.token,
                "HOCTAP_API_BASE_URL": api.base_url,
                "HOCTAP_FILE_BASE_URL": api.base_file_url,
                "HOCTAP_BACKUP_DIR": str(tmp_path / "backups"),
            }
        )
        people = {HEAD: api.person(HEAD), CHAIR: api.person(CHAIR)}
        bot = await start(env, tmp_path)
        try:
            for index, (who, what, argument, expect) in enumerate(walk(year)):
                in_flight = kills.get(index, False)
                await act(people[who], what, argument, expect, in_flight)
                if index in kills:
                    if in_flight:
                        await asyncio.sleep(0.05)
                    bot.kill()
                    await bot.wait()
                    bot = await start(env, tmp_path)
                    if in_flight:
                        await people[who].wait(expect=expect, timeout=60)
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 30)
    return snapshot(Path(paths["HOCTAP_DB_PATH"]), Path(paths["HOCTAP_MEDIA_DIR"]))


async def start(env: dict, cwd: Path):
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def snapshot(db_path: Path, media: Path) -> dict:
    """What a person would call the content: no ids of rows, no times."""
    with sqlite3.connect(db_path) as conn:
        query = lambda sql: sorted(conn.execute(sql).fetchall())  # noqa: E731
        content = {
            "registrations": query(
                "SELECT number, kind, head_name, members, school_age_children, address, phone,"
                " status FROM registrations"
            ),
            "self_assessments": query("SELECT indicator_code, value FROM self_assessments"),
            "evidence": query("SELECT indicator_code, sha256, status, uploaded_by FROM evidence"),
            "drafts": query("SELECT person_id FROM registration_drafts"),
            "people": query("SELECT telegram_id, role FROM people"),
        }
    content["media"] = sorted(
        (str(p.relative_to(media)), hashlib.sha256(p.read_bytes()).hexdigest())
        for p in media.rglob("*")
        if p.is_file()
    )
    return content


async def test_sigkill_at_six_points_leaves_the_same_database(cli_env, tmp_path):
    calm = await run_walk(tmp_path / "calm", cli_env, kills={})
    killed = await run_walk(tmp_path / "killed", cli_env, kills=KILL_AFTER)
    assert len(calm["registrations"]) == 1 and len(calm["evidence"]) == 2
    assert len(calm["media"]) == 2 and calm["drafts"] == []
    assert killed == calm
