"""The token is never printed; phone numbers are masked in logs however written; the log level
is set by HOCTAP_LOG_LEVEL (issue 11)."""

import asyncio
import logging
import sys

import pytest

from bot.cli import logging_to_stderr
from bot.config import Settings
from bot.errors import redact


async def run_bot(env, cwd) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(process.communicate(), 90)
    return process.returncode, err.decode()


async def test_a_rejected_token_is_one_line_without_the_token(api, cli_env, tmp_path):
    wrong = "123456:WRONG-secret-TOKEN"
    env = cli_env | {
        "HOCTAP_BOT_TOKEN": wrong,
        "HOCTAP_API_BASE_URL": api.base_url,
        "HOCTAP_FILE_BASE_URL": api.base_file_url,
    }
    code, stderr = await run_bot(env, tmp_path)
    assert code == 2
    assert stderr.startswith("error: Telegram rejected the bot token (HOCTAP_BOT_TOKEN)")
    assert stderr.strip().count("\n") == 0, stderr
    assert "WRONG-secret" not in stderr and "Traceback" not in stderr


async def test_no_network_is_one_line_without_the_token(cli_env, tmp_path):
    env = cli_env | {
        "HOCTAP_BOT_TOKEN": "123456:NO-NETWORK-secret",
        "HOCTAP_API_BASE_URL": "http://127.0.0.1:9/bot",
        "HOCTAP_FILE_BASE_URL": "http://127.0.0.1:9/file/bot",
    }
    code, stderr = await run_bot(env, tmp_path)
    assert code == 2
    assert stderr.startswith("error: cannot reach the Bot API at http://127.0.0.1:9/bot")
    assert stderr.strip().count("\n") == 0, stderr
    assert "NO-NETWORK-secret" not in stderr and "Traceback" not in stderr


@pytest.mark.parametrize(
    "written",
    [
        "0912-345-678",
        "(091) 234-5678",
        "091.234.5678",
        "+84 (91) 234 5678",
        "84 912 345 678",
        "+84912345678",
    ],
)
def test_phone_numbers_are_masked_however_written(written):
    masked = redact(f"phone {written}, then 0987 654 321.")
    assert masked == "phone <phone>, then <phone>."


def test_ids_and_registration_numbers_are_not_taken_for_phones():
    text = "update 123456789 of 1796158822: GD-2026-100000 on 2026-03-01 10:00:00"
    assert redact(text) == text


def test_the_log_level_comes_from_configuration(tmp_path):
    root = logging.getLogger()
    with logging_to_stderr(Settings(_env_file=None, log_level="debug")):
        assert root.level == logging.DEBUG
    with logging_to_stderr(Settings(_env_file=None)):
        assert root.level == logging.INFO


def test_a_bad_log_level_names_the_variable(run_cli, cli_env):
    result = run_cli("init-db", env=cli_env | {"HOCTAP_LOG_LEVEL": "LOUD"})
    assert result.returncode == 2
    assert result.stderr.startswith("error: HOCTAP_LOG_LEVEL:")
