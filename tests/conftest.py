import asyncio
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

import httpx
import pytest
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.application import HoctapApplication
from bot.cli import main
from bot.config import Settings
from bot.runner import polling
from bot.testkit import FakeBotApi
from storage import Storage
from storage.areas import official_communes, official_provinces
from storage.criteria import ModelKind
from storage.models import Person, Role
from storage.registrations import ProgrammeYear
from tests.webapp_data import MARCH, make_data

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def official_database(tmp_path_factory) -> Path:
    """A database file migrated and loaded with the official provinces and communes, made once
    per session (loading the 3,321 communes takes longer than most tests)."""
    path = tmp_path_factory.mktemp("official") / "hoctap.sqlite3"

    async def make() -> None:
        store = await Storage.open(path)
        await store.areas.load_official(official_provinces(), official_communes())
        await store.close()  # the last connection to close folds the WAL into the file

    asyncio.run(make())
    return path


@pytest.fixture
async def storage(official_database, tmp_path):
    """A migrated database in a real SQLite file of the test's own (a copy of
    `official_database`), with the official provinces and communes; after the test, its tallies
    must equal the recount."""
    path = tmp_path / "hoctap.sqlite3"
    shutil.copyfile(official_database, path)
    store = await Storage.open(path)
    yield store
    try:  # whatever the test wrote, the tallies equal the recount (issue 12)
        assert await store.tallies.check() == []
        assert await store.tallies.stale_states() == []
    finally:
        await store.close()


@pytest.fixture
def cli_env(tmp_path):
    """Environment for running `python -m bot` against files in tmp_path, with no token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOCTAP_")}
    env["HOCTAP_DB_PATH"] = str(tmp_path / "data" / "hoctap.sqlite3")
    env["HOCTAP_MEDIA_DIR"] = str(tmp_path / "data" / "media")
    env["HOCTAP_BACKUP_DIR"] = str(tmp_path / "data" / "backups")
    return env


class CliResult(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(cli_env, tmp_path, capsys):
    """`python -m bot ARGS` in-process: `bot.cli.main` with the environment and working
    directory of `cli_env`, in a thread of its own (it runs its own event loop, which an async
    test's loop would forbid). tests/test_process.py starts the real process."""

    def run(*args: str, env: dict | None = None) -> CliResult:
        with pytest.MonkeyPatch.context() as patch, ThreadPoolExecutor(1) as thread:
            for name in list(os.environ):
                if name.startswith("HOCTAP_"):
                    patch.delenv(name)
            for name, value in (env or cli_env).items():
                if name.startswith("HOCTAP_"):
                    patch.setenv(name, value)
            patch.chdir(tmp_path)
            capsys.readouterr()
            code = thread.submit(main, list(args)).result(timeout=120)
            return CliResult(code, *capsys.readouterr())

    return run


@pytest.fixture
async def api():
    """The project's fake Telegram Bot API server, on loopback."""
    async with FakeBotApi() as server:
        yield server


def settings_for(api: FakeBotApi, tmp_path: Path, **overrides) -> Settings:
    return Settings(
        _env_file=None,
        bot_token=api.token,
        api_base_url=api.base_url,
        file_base_url=api.base_file_url,
        db_path=tmp_path / "hoctap.sqlite3",
        media_dir=tmp_path / "media",
        backup_dir=tmp_path / "backups",
        **overrides,
    )


# Each HTTP client would load the CA certificates anew (about 0.15 s; a bot has two).
TLS = httpx.create_ssl_context()


def build_bot(settings: Settings, storage: Storage) -> HoctapApplication:
    """`build_application` with the request objects PTB's builder makes by default (pool sizes
    256 and 1), sharing one TLS context."""
    return build_application(
        settings,
        storage,
        request=HTTPXRequest(connection_pool_size=256, httpx_kwargs={"verify": TLS}),
        get_updates_request=HTTPXRequest(connection_pool_size=1, httpx_kwargs={"verify": TLS}),
    )


@pytest.fixture
async def bot(api, storage, tmp_path):
    """The real application, polling the fake server over HTTP, on the `storage` database."""
    app = build_bot(settings_for(api, tmp_path), storage)
    async with polling(app, poll_timeout=0.5):
        yield app


@pytest.fixture
def enrol(storage):
    """Enrol someone directly in the database: enrol(telegram_id, role, area_spec)."""

    async def make(telegram_id: int, role: Role, area: str | None = None, **fields) -> Person:
        area_id = (await storage.areas.resolve(area)).id if area else None
        return await storage.people.add(
            telegram_id,
            fields.get("name", f"Người Số {telegram_id}"),
            fields.get("phone", "+84912345678"),
            role,
            area_id,
            fields.get("locale", "vi"),
        )

    return make


@pytest.fixture
async def hamlets(storage):
    """Two communes with hamlets: Hoàn Kiếm (00070) and Cửa Nam (00073) in Hà Nội."""
    made = {}
    for commune_code, names in {"00070": ["Thôn Đông", "Thôn Tây"], "00073": ["Thôn Bắc"]}.items():
        commune = await storage.areas.by_code(commune_code)
        for name in names:
            made[name], _ = await storage.areas.add_hamlet(commune, name)
    return made


async def open_all_year(storage: Storage, province_code: str = "01") -> int:
    """Registration open all this year (the default closes at the end of January)."""
    year = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year
    end = date(year, 12, 31)
    await storage.registrations.set_programme_year(
        ProgrammeYear(
            province_code=province_code,
            year=year,
            registration_close=end,
            evaluation_lock=end,
            recognition=end,
        )
    )
    return year


async def new_draft(storage: Storage, person: Person, hamlet, year: int):
    """A finished family draft of `person` for `hamlet`, ready to be registered."""
    draft = await storage.registrations.start_draft(person.id, hamlet.id, year)
    criteria = await storage.criteria.in_force(hamlet.province_code, year, ModelKind.FAMILY)
    answers = {
        "kind": "family",
        "criteria_set_id": criteria.set_id,
        "head_name": "Nguyễn Văn An",
        "members": 4,
        "school_age_children": 2,
        "assessment": {"GD.1.1": 10},
    }
    await storage.registrations.save_draft(draft.model_copy(update={"answers": answers}))
    return await storage.registrations.draft_of(person.id)


@pytest.fixture
async def registration_open(storage):
    """Registration open all year in Hà Nội."""
    return await open_all_year(storage)


@pytest.fixture
async def web_bot(api, storage, tmp_path):
    """The bot with its dashboard on 127.0.0.1 (a free port), clock at 10 March 2026."""
    settings = settings_for(api, tmp_path, web_base_url="http://127.0.0.1/", web_port=0)
    app = build_bot(settings, storage)
    app.clock = lambda: MARCH
    async with polling(app, poll_timeout=0.5):
        yield app


@pytest.fixture
async def web_data(web_bot, storage, tmp_path):
    """The dashboard's small dataset (tests/webapp_data.py)."""
    return await make_data(storage, tmp_path / "media")
