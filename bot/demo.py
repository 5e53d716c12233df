"""`python -m bot demo`: the bot against the bundled fake Bot API, a scripted hamlet head,
and the conversation printed as a transcript. No token, no network, a throwaway database.

The staff dashboard runs too, on loopback; the demo checks that it answers a commune staff
member and prints its address (with that staff member's signed initData). With `--web` it
keeps serving until Ctrl-C, so the address can be opened in a browser.
"""

import asyncio
import signal
import tempfile
from datetime import date
from pathlib import Path
from urllib.parse import quote

import aiohttp

from bot.app import build_application
from bot.config import Settings
from bot.runner import polling
from bot.testkit import BotMessage, FakeBotApi, Person
from bot.web.auth import init_data_for
from storage import Storage
from storage.areas import official_communes, official_provinces
from storage.clock import utcnow
from storage.models import Role
from storage.registrations import ProgrammeYear

COMMUNE, HAMLET = "00070", "Tổ dân phố số 1"
STAFF_TELEGRAM_ID = 2001


def show_reply(message: BotMessage) -> str:
    lines = [f"  🤖 {line}" for line in (message.text or "").splitlines()]
    for row in message.buttons or message.reply_buttons:
        lines.append("     " + " ".join(f"[ {label} ]" for label in row))
    return "\n".join(lines)


class Script:
    """A person's side of the conversation, printed as it happens."""

    def __init__(self, person: Person, name: str) -> None:
        self.person, self.name = person, name

    async def says(self, text: str, expect: int = 1) -> None:
        print(f"👤 {self.name}: {text}")
        self._show(await self.person.send(text, expect=expect))

    async def taps(self, label: str, expect: int = 1) -> None:
        print(f"👤 {self.name} taps [ {label} ]")
        self._show(await self.person.press(label, expect=expect))

    async def shares_phone(self, phone: str) -> None:
        print(f"👤 {self.name} shares the phone number {phone}")
        self._show(await self.person.share_contact(phone, expect=2))

    def _show(self, replies: list[BotMessage]) -> None:
        for message in replies:
            print(show_reply(message))
        print()


async def prepare(storage: Storage, year: int) -> str:
    """The official areas, one hamlet, registration open all year, and an invite code."""
    await storage.areas.load_official(official_provinces(), official_communes())
    hamlet, _ = await storage.areas.add_hamlet(await storage.areas.by_code(COMMUNE), HAMLET)
    end = date(year, 12, 31)
    await storage.registrations.set_programme_year(
        ProgrammeYear(
            province_code=hamlet.province_code,
            year=year,
            registration_close=end,
            evaluation_lock=end,
            recognition=end,
        )
    )
    return (await storage.invites.create(Role.HAMLET_HEAD, hamlet.id)).code


async def play(script: Script, code: str) -> None:
    await script.says(f"/start {code}")
    await script.taps("✅ Đúng, tiếp tục", expect=2)
    await script.says("Nguyễn Thị Lan")
    await script.shares_phone("0912345678")
    await script.taps("Tiếng Việt", expect=2)
    await script.says("/dangky")
    await script.taps("Gia đình học tập")
    await script.says("Trần Văn Bình", expect=2)
    await script.taps("5")
    await script.taps("2")
    await script.taps("✏️ Địa chỉ")
    await script.says("Số 12, ngõ 3", expect=2)
    await script.taps("✅ Xác nhận đăng ký")
    await script.taps("📝 Tự đánh giá ngay")
    for points in ("10", "10", "8", "10", "10", "8", "10", "8", "10", "9"):
        await script.taps(points)
    await script.taps("✅ Xong")


async def show_dashboard(app, storage: Storage, serve: bool) -> None:
    """A commune staff member's dashboard address; fetched once to show that it answers."""
    commune = await storage.areas.by_code(COMMUNE)
    await storage.people.add(
        STAFF_TELEGRAM_ID, "Cán bộ Xã", "+84900000000", Role.STAFF, commune.id, "vi"
    )
    init = init_data_for(STAFF_TELEGRAM_ID, app.settings.token(), utcnow())
    url = f"{app.web.local_url}#tgWebAppData={quote(init, safe='')}"
    headers = {"X-Telegram-Init-Data": init}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{app.web.local_url}f/summary", headers=headers) as response,
    ):
        print(f"Dashboard for the commune's staff (HTTP {response.status}):\n{url}")
    if serve:
        print("Open it in a browser on this machine; Ctrl-C ends the demo.")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


async def demo(serve: bool = False, port: int = 0) -> int:
    with tempfile.TemporaryDirectory(prefix="hoctap-demo-") as folder:
        async with FakeBotApi() as api:
            settings = Settings(
                _env_file=None,
                bot_token=api.token,
                api_base_url=api.base_url,
                file_base_url=api.base_file_url,
                db_path=Path(folder) / "demo.sqlite3",
                media_dir=Path(folder) / "media",
                web_base_url="http://127.0.0.1/",
                web_port=port,
            )
            storage = await Storage.open(settings.db_path)
            try:
                code = await prepare(storage, utcnow().astimezone(settings.tzinfo).year)
                app = build_application(settings, storage)
                async with polling(app, poll_timeout=1):
                    print(f"Demo: a hamlet head enrols with invite {code}, registers a family.\n")
                    await play(Script(api.person(1001, first_name="Lan"), "Lan"), code)
                    await show_dashboard(app, storage, serve)
            finally:
                await storage.close()
    return 0
