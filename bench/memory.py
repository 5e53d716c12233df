"""Resident memory (VmRSS) of a bot process with many people mid-dialog, loaded from SQLite.

The parent process writes the database: enrolled hamlet heads, each with a registration draft
part-way through /dangky (through storage.registrations) and the rows PTB would have persisted
for them (through SqlitePersistence: the registration conversation in state FORM, and empty
user and chat data). Then fresh child processes each print their VmRSS at start, after
imports and `build_application`, and after `await app.initialize()` (which loads persistence):

    bot, people   the bot on that database
    bot, empty    the bot on a migrated database with no people (what the people add)
    bare PTB      an Application with one echo handler, no persistence (the baseline)

Prints figures, never pass/fail. The issue's target: under 200 MB with 10,000 people.

    PYTHONPATH=. .venv/bin/python bench/memory.py [--people 10000]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.rss import vm_rss_mb

START_RSS = vm_rss_mb()  # before anything heavy is imported, for the child processes
ROOT = Path(__file__).resolve().parent.parent
PROVINCE = "01"
HAMLETS = 100  # people are spread over this many hamlets
TELEGRAM_ID_BASE = 700_000


# --- the parent: the database ----------------------------------------------------------------


async def populate(db_path: Path, people: int) -> dict[str, int]:
    from conversations.states import RegistrationStep as State
    from storage import Storage
    from storage.areas import official_communes, official_provinces
    from storage.criteria import ModelKind
    from storage.models import Role
    from storage.persistence import SqlitePersistence

    storage = await Storage.open(db_path)
    await storage.areas.load_official(official_provinces(), official_communes())
    province = await storage.areas.by_code(PROVINCE)
    communes = await storage.areas.children(province)
    hamlets = [
        (await storage.areas.add_hamlet(communes[i % len(communes)], f"Thôn số {i}"))[0]
        for i in range(HAMLETS)
    ]
    year = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year
    criteria = await storage.criteria.in_force(PROVINCE, year, ModelKind.FAMILY)
    persistence = SqlitePersistence(storage.db)

    async with storage.db.transaction():
        person_ids = [
            (
                await storage.people.add(
                    TELEGRAM_ID_BASE + i,
                    "Nguyễn Văn An",
                    "+84912345678",
                    Role.HAMLET_HEAD,
                    hamlets[i % HAMLETS].id,
                    "vi",
                )
            ).id
            for i in range(people)
        ]
    drafts = [
        await storage.registrations.start_draft(person_id, hamlets[i % HAMLETS].id, year)
        for i, person_id in enumerate(person_ids)
    ]
    async with storage.db.transaction():
        for i, draft in enumerate(drafts):
            # Somewhere between the name (step 1) and the summary (step 4), with the answers
            # the dialog would have saved by then and the id of the screen it shows.
            step = 1 + i % 4
            answers = {
                "kind": ModelKind.FAMILY.value,
                "criteria_set_id": criteria.set_id,
                "screen": 1_000 + i,
                "head_name": "Nguyễn Văn Hoà",
                "members": 5,
                "school_age_children": 2,
                "address": "Số 12, ngõ 3" if i % 2 else None,
            }
            answers = {k: v for k, v in list(answers.items())[: 3 + step]}
            await storage.registrations.save_draft(
                draft.model_copy(update={"answers": answers, "step": step})
            )
            telegram_id = TELEGRAM_ID_BASE + i
            await persistence.update_conversation(
                "registration", (telegram_id, telegram_id), State.FORM
            )
            await persistence.update_user_data(telegram_id, {})
            await persistence.update_chat_data(telegram_id, {})
    counts = {}
    for table in ("people", "registration_drafts", "conversations", "user_data", "chat_data"):
        rows = await storage.db.conn.execute_fetchall(f"SELECT COUNT(*) FROM {table}")
        counts[table] = rows[0][0]
    await storage.close()
    return counts


async def empty_database(db_path: Path) -> None:
    from storage import Storage
    from storage.areas import official_communes, official_provinces

    storage = await Storage.open(db_path)
    await storage.areas.load_official(official_provinces(), official_communes())
    await storage.close()


def run_child(kind: str, db_path: Path | None) -> dict:
    command = [sys.executable, __file__, "--child", kind]
    if db_path:
        command += ["--db", str(db_path)]
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {kind} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the children: one measurement each, in a fresh process ---------------------------------


async def child_bot(db_path: Path) -> dict:
    import warnings

    from telegram.warnings import PTBUserWarning

    warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)

    from bench.offline import TOKEN, OfflineRequest
    from bot.app import build_application
    from bot.config import Settings
    from storage import Storage

    storage = await Storage.open(db_path)
    settings = Settings(
        _env_file=None, bot_token=TOKEN, db_path=db_path, media_dir=db_path.parent / "media"
    )
    app = build_application(
        settings, storage, request=OfflineRequest(), get_updates_request=OfflineRequest()
    )
    built = vm_rss_mb()
    began = time.perf_counter()
    await app.initialize()
    seconds = time.perf_counter() - began
    loaded = vm_rss_mb()
    conversations = {
        name: len(states) for name, states in app._conversation_handler_conversations.items()
    }
    result = {
        "start": START_RSS,
        "built": built,
        "initialized": loaded,
        "initialize_s": seconds,
        "user_data": len(app.user_data),
        "chat_data": len(app.chat_data),
        "conversations": conversations,
    }
    await app.shutdown()
    await storage.close()
    return result


async def child_bare() -> dict:
    from telegram import Update
    from telegram.ext import Application, MessageHandler, filters

    from bench.offline import TOKEN, OfflineRequest

    async def echo(update: Update, context) -> None:
        await update.message.reply_text(update.message.text)

    app = (
        Application.builder()
        .token(TOKEN)
        .request(OfflineRequest())
        .get_updates_request(OfflineRequest())
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    built = vm_rss_mb()
    await app.initialize()
    result = {"start": START_RSS, "built": built, "initialized": vm_rss_mb()}
    await app.shutdown()
    return result


# --- the report ------------------------------------------------------------------------------


def line(label: str, figures: dict) -> str:
    return (
        f"{label:<30} start {figures['start']:6.1f} MB | after imports + build"
        f" {figures['built']:6.1f} MB | after initialize {figures['initialized']:6.1f} MB"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000, help="people mid-dialog")
    parser.add_argument("--child", choices=["bot", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "bot":
        print(json.dumps(await child_bot(args.db)))
        return
    if args.child == "bare":
        print(json.dumps(await child_bare()))
        return

    from bench.offline import machine_lines

    for text in machine_lines():
        print(text)
    print("VmRSS from /proc/self/status, MB = MiB; each figure from a fresh process")
    with tempfile.TemporaryDirectory(prefix="hoctap-bench-") as tmp:
        full, empty = Path(tmp) / "full" / "hoctap.sqlite3", Path(tmp) / "empty" / "hoctap.sqlite3"
        began = time.perf_counter()
        counts = await populate(full, args.people)
        await empty_database(empty)
        print(
            f"database written in {time.perf_counter() - began:.1f} s: "
            + ", ".join(f"{n} {table}" for table, n in counts.items())
            + f" ({full.stat().st_size / 2**20:.1f} MB file)"
        )
        bare = run_child("bare", None)
        bot_empty = run_child("bot", empty)
        bot_full = run_child("bot", full)
    print(line("bare PTB (baseline)", bare))
    print(line("bot, empty database", bot_empty))
    print(line(f"bot, {args.people:,} people mid-dialog", bot_full))
    print(
        f"    loaded by initialize() in {bot_full['initialize_s']:.2f} s:"
        f" {bot_full['user_data']} user_data, {bot_full['chat_data']} chat_data,"
        f" conversations {bot_full['conversations']}"
    )
    total, base = bot_full["initialized"], bare["initialized"]
    print(
        f"bot with {args.people:,} people: {total:.1f} MB = {total / base:.2f} x the bare PTB"
        f" process; the people's state adds {total - bot_empty['initialized']:.1f} MB"
        f" over the empty database"
    )
    print("    (target in the issue: under 200 MB)")


if __name__ == "__main__":
    asyncio.run(main())
