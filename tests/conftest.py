import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage import Storage
from storage.areas import official_communes, official_provinces

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def storage(tmp_path):
    """A migrated database in a real SQLite file, with the official provinces and communes."""
    store = await Storage.open(tmp_path / "hoctap.sqlite3")
    await store.areas.load_official(official_provinces(), official_communes())
    yield store
    await store.close()


@pytest.fixture
def cli_env(tmp_path):
    """Environment for running `python -m bot` against files in tmp_path, with no token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOCTAP_")}
    env["HOCTAP_DB_PATH"] = str(tmp_path / "data" / "hoctap.sqlite3")
    env["HOCTAP_MEDIA_DIR"] = str(tmp_path / "data" / "media")
    return env


@pytest.fixture
def run_cli(cli_env, tmp_path):
    def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=env or cli_env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run
