"""Updates per second: the full /dangky registration dialog against two baselines.

All three run in this one process, sequentially (as the bot processes updates in production, where
`concurrent_updates` is off), through `Application.process_update` with an offline request
object: no network. (a) is an Application with one echo MessageHandler; (c) asks the same
questions as a plain PTB ConversationHandler keeping its state in memory, making the same Bot
API calls as the bot, with the same texts and keyboards (recorded from an unmeasured run of (b)
and checked against the measured one, update by update); (b) is the bot as
`build_application` makes it, with SqlitePersistence and real SQLite writes in a temporary
file, and many enrolled hamlet heads each registering a family: /dangky, the kind, the head's
name (typed), members and children (tapped), confirm (6 updates each).

Prints figures, never pass/fail, and the Bot API calls that send or edit a message per
registration. Targets of the issues: b/a at most 2.5 (issue 9), b/c at most 2 (issue 15), at
most 8 sends/edits per family registration.

    PYTHONPATH=. .venv/bin/python bench/dialog_throughput.py [--people 200] [--profile]
"""

import argparse
import asyncio
import cProfile
import io
import pstats
import re
import sqlite3
import tempfile
import time
import warnings
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bench.offline import TOKEN, OfflineRequest, Script, machine_lines
from bot.app import build_application
from bot.config import Settings
from storage import Storage
from storage.areas import official_communes, official_provinces
from storage.models import Role
from storage.registrations import ProgrammeYear

PROVINCE = "01"  # Hà Nội
UPDATES_PER_PERSON = 6
WARMUP_PEOPLE = 5
FAMILY_NAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]
MIDDLE_NAMES = ["Văn", "Thị", "Đức", "Minh", "Hữu", "Ngọc"]
GIVEN_NAMES = ["An", "Bình", "Cường", "Dũng", "Hoà", "Lan", "Mai", "Nam", "Phúc", "Thảo"]


def head_name(i: int) -> str:
    return " ".join(
        (
            FAMILY_NAMES[i % len(FAMILY_NAMES)],
            MIDDLE_NAMES[(i // len(FAMILY_NAMES)) % len(MIDDLE_NAMES)],
            GIVEN_NAMES[(i // 48) % len(GIVEN_NAMES)],
        )
    )


class Timer:
    """Wall and CPU time spent inside `process_update`, and how many updates."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0
        self.updates = 0

    async def feed(self, app: Application, update: Update) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        await app.process_update(update)
        self.cpu += time.process_time() - cpu
        self.wall += time.perf_counter() - wall
        self.updates += 1

    def per_update_ms(self) -> tuple[float, float]:
        return 1000 * self.wall / self.updates, 1000 * self.cpu / self.updates

    def line(self, label: str) -> str:
        wall_ms, cpu_ms = self.per_update_ms()
        return (
            f"{label}: {self.updates} updates in {self.wall:.2f} s ="
            f" {self.updates / self.wall:,.0f} updates/s;"
            f" per update {wall_ms:.3f} ms wall, {cpu_ms:.3f} ms CPU (all threads)"
        )


# --- (a) the bare echo bot -------------------------------------------------------------------


async def echo(update: Update, context) -> None:
    await update.message.reply_text(update.message.text)


def collect_errors(app: Application) -> list[str]:
    """The errors the application's handlers raise, collected as they happen."""
    errors = []

    async def count_error(update: object, context) -> None:
        errors.append(repr(context.error))

    app.add_error_handler(count_error)
    return errors


async def bare_echo(updates: int, users: int) -> Timer:
    request = OfflineRequest()
    app = (
        Application.builder()
        .token(TOKEN)
        .request(request)
        .get_updates_request(OfflineRequest())
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    errors = collect_errors(app)
    timer = Timer()
    async with app:
        script = Script(request, app.bot)
        for i in range(WARMUP_PEOPLE * UPDATES_PER_PERSON):
            await app.process_update(script.text(1 + i % users, "Xin chào"))
        for i in range(updates):
            await timer.feed(app, script.text(1 + i % users, f"Xin chào {i}"))
    assert request.calls["sendMessage"] == updates + WARMUP_PEOPLE * UPDATES_PER_PERSON
    assert not errors, errors
    return timer


# --- (c) the same questions, a plain ConversationHandler with its state in memory ---------------
#
# "Making the same Bot API calls" is taken literally: (c) sends the very texts and keyboards the
# bot sent to the same person at the same step, recorded from an unmeasured run of (b) (the
# registration numbers, the hamlet's name, the summary's ✏️ buttons and Back, the list import),
# so both sides build, serialise and parse the same payloads; only (b) works them out.

KIND, NAME, MEMBERS, CHILDREN, SUMMARY = range(5)
SCREEN_CALLS = ("sendMessage", "editMessageText", "editMessageReplyMarkup")
Call = tuple[str, dict, int | None]  # a Bot API method, its parameters, the message it returned
_IDS = ("message_id", "callback_query_id")  # differ between runs; all else must be equal
_REPLAYED = {
    "sendMessage": {"chat_id", "text", "reply_markup"},
    "editMessageText": {"chat_id", "message_id", "text", "reply_markup"},
    "answerCallbackQuery": {"callback_query_id", "text", "show_alert"},
}


def keyboard(markup: dict | None) -> InlineKeyboardMarkup | None:
    """Buttons built as a plain bot builds them, from the recorded labels and data."""
    if markup is None:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(**button) for button in row] for row in markup["inline_keyboard"]]
    )


async def replay(update: Update, context) -> None:
    """Make this step's recorded calls: the same method, text and buttons as the bot's."""
    data = context.user_data
    calls: list[Call] = context.bot_data["recorded"][update.effective_user.id][data["step"]]
    data["step"] += 1
    for api, params, recorded_id in calls:
        assert set(params) <= _REPLAYED[api], (api, params)  # a parameter this would drop
        if api == "answerCallbackQuery":
            await update.callback_query.answer(params.get("text"), params.get("show_alert"))
        elif api == "sendMessage":
            sent = await context.bot.send_message(
                params["chat_id"], params["text"], reply_markup=keyboard(params.get("reply_markup"))
            )
            data["ids"][recorded_id] = sent.message_id  # the bot's message is (c)'s message
        else:
            await context.bot.edit_message_text(
                params["text"],
                chat_id=params["chat_id"],
                message_id=data["ids"][params["message_id"]],
                reply_markup=keyboard(params.get("reply_markup")),
            )


async def plain_start(update: Update, context) -> int:
    context.user_data.clear()
    context.user_data.update(step=0, ids={})
    await replay(update, context)
    return KIND


async def plain_kind(update: Update, context) -> int:
    context.user_data["kind"] = update.callback_query.data.rsplit(":", 1)[1]
    await replay(update, context)
    return NAME


async def plain_name(update: Update, context) -> int:
    context.user_data["head_name"] = update.message.text
    await replay(update, context)
    return MEMBERS


async def plain_members(update: Update, context) -> int:
    context.user_data["members"] = int(update.callback_query.data.rsplit(":", 1)[1])
    await replay(update, context)
    return CHILDREN


async def plain_children(update: Update, context) -> int:
    context.user_data["children"] = int(update.callback_query.data.rsplit(":", 1)[1])
    await replay(update, context)
    return SUMMARY


async def plain_confirm(update: Update, context) -> int:
    context.bot_data["seq"] = context.bot_data.get("seq", 0) + 1
    await replay(update, context)
    return ConversationHandler.END


async def plain_dialog(
    people: int, telegram_ids: list[int], recorded: dict[int, list[list[Call]]]
) -> tuple[Timer, dict]:
    request = OfflineRequest()
    app = (
        Application.builder()
        .token(TOKEN)
        .request(request)
        .get_updates_request(OfflineRequest())
        .build()
    )
    app.bot_data["recorded"] = recorded
    app.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("dangky", plain_start)],
            states={
                KIND: [CallbackQueryHandler(plain_kind, pattern=r"^reg:0:kind:")],
                NAME: [MessageHandler(filters.TEXT & ~filters.COMMAND, plain_name)],
                MEMBERS: [CallbackQueryHandler(plain_members, pattern=r"^reg:2:n:")],
                CHILDREN: [CallbackQueryHandler(plain_children, pattern=r"^reg:3:n:")],
                SUMMARY: [CallbackQueryHandler(plain_confirm, pattern=r"^reg:4:ok$")],
            },
            fallbacks=[],
        )
    )
    errors = collect_errors(app)
    timer = Timer()
    async with app:
        request.log = []
        steps: dict[int, list[list[Call]]] = {}
        script = Script(request, app.bot)
        for i, user_id in enumerate(telegram_ids):
            for build in registration_updates(script, user_id, i):
                update, start = build(), len(request.log)
                if i >= WARMUP_PEOPLE:
                    await timer.feed(app, update)
                else:
                    await app.process_update(update)
                steps.setdefault(user_id, []).append(request.log[start:])
    assert not errors, errors
    return timer, {"calls": dict(request.calls), "steps": steps}


def without_ids(steps: dict[int, list[list[Call]]]) -> dict:
    """The calls of each person's each update, ids left out (each run numbers its own)."""
    return {
        user: [
            [(api, {k: v for k, v in p.items() if k not in _IDS}) for api, p, _ in step]
            for step in s
        ]
        for user, s in steps.items()
    }


# --- (b) the registration dialog -------------------------------------------------------------


async def prepare(storage: Storage, people: int) -> list[int]:
    """Official areas, one hamlet and one enrolled hamlet head per person, registration open
    all year in the province; returns the heads' Telegram ids."""
    await storage.areas.load_official(official_provinces(), official_communes())
    province = await storage.areas.by_code(PROVINCE)
    communes = await storage.areas.children(province)
    year = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year
    end = date(year, 12, 31)
    await storage.registrations.set_programme_year(
        ProgrammeYear(
            province_code=PROVINCE,
            year=year,
            registration_close=end,
            evaluation_lock=end,
            recognition=end,
        )
    )
    telegram_ids = []
    for i in range(people):
        hamlet, _ = await storage.areas.add_hamlet(communes[i % len(communes)], f"Thôn số {i}")
        telegram_id = 500_000 + i
        await storage.people.add(
            telegram_id, head_name(i), "+84912345678", Role.HAMLET_HEAD, hamlet.id, "vi"
        )
        telegram_ids.append(telegram_id)
    return telegram_ids


def registration_updates(script: Script, user_id: int, i: int):
    """The 6 updates of one family registration, each built after the previous reply."""
    yield lambda: script.text(user_id, "/dangky")
    yield lambda: script.press(user_id, ":kind:family")
    yield lambda: script.text(user_id, head_name(i))
    yield lambda: script.press(user_id, ":n:5")  # members
    yield lambda: script.press(user_id, ":n:2")  # children of school age
    yield lambda: script.press(user_id, ":ok")


_LITERAL = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")


class SqlCounter:
    """Counts the SQL statements SQLite runs while `on` is set, by shape (literals as ?), the
    round trips to aiosqlite's thread (each call queued to it, whatever it runs) and the
    transactions run at once on the event loop's own connection (`Database.run_transaction`).

    SQLite's trace reports a statement again for each trigger it fires, so an INSERT with
    triggers counts more than once."""

    def __init__(self) -> None:
        self.on = False
        self.shapes: Counter[str] = Counter()
        self.round_trips = self.local_transactions = 0

    def shared(self, sql: str) -> None:  # trace callback of aiosqlite's connection, its thread
        if self.on:
            self.shapes[" ".join(_LITERAL.sub("?", sql).split())] += 1

    def local(self, sql: str) -> None:  # trace callback of the event loop's own connection
        self.shared(sql)
        self.local_transactions += self.on and sql == "BEGIN IMMEDIATE"

    async def watch(self, db) -> None:
        """Trace both connections of `db` and count the calls its aiosqlite connection queues
        to its thread (aiosqlite's one entry, `_execute`)."""
        await db.set_trace_callbacks(self.shared, self.local)
        execute = db.conn._execute

        async def counted(fn, *args, **kwargs):
            self.round_trips += self.on
            return await execute(fn, *args, **kwargs)

        db.conn._execute = counted


async def registration_dialog(
    people: int,
    workdir: Path,
    rate_limiter: bool,
    profile: cProfile.Profile | None,
    sql: SqlCounter | None,
) -> tuple[Timer, dict]:
    db_path = workdir / "hoctap.sqlite3"
    storage = await Storage.open(db_path)
    telegram_ids = await prepare(storage, people + WARMUP_PEOPLE)
    if sql:
        await sql.watch(storage.db)
    settings = Settings(
        _env_file=None, bot_token=TOKEN, db_path=db_path, media_dir=workdir / "media"
    )
    request = OfflineRequest()
    app = build_application(
        settings, storage, request=request, get_updates_request=OfflineRequest()
    )
    limiter = type(app.bot.rate_limiter).__name__
    if not rate_limiter:
        app.bot._rate_limiter = None  # Telegram's 30 messages/s cap is not the bot's own cost
    errors = collect_errors(app)
    timer = Timer()
    confirmed = 0
    async with app:
        request.log = []
        steps: dict[int, list[list[Call]]] = {}
        script = Script(request, app.bot)
        for i, user_id in enumerate(telegram_ids):
            measured = i >= WARMUP_PEOPLE
            if measured and i == WARMUP_PEOPLE:
                if profile:
                    profile.enable()
                if sql:
                    sql.on = True
            for build in registration_updates(script, user_id, i):
                update, start = build(), len(request.log)
                if measured:
                    await timer.feed(app, update)
                else:
                    await app.process_update(update)
                steps.setdefault(user_id, []).append(request.log[start:])
            confirmed += "GD-" in request.last_text.get(user_id, "")
        if profile:
            profile.disable()
        if sql:
            sql.on = False
    await storage.close()
    with sqlite3.connect(db_path) as conn:
        counts = {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("registrations", "self_assessments", "registration_drafts")
        }
        counts["conversations"] = conn.execute(
            "SELECT COUNT(*) FROM conversations WHERE name = 'registration'"
        ).fetchone()[0]
    facts = {
        "counts": counts,
        "confirmed": confirmed,
        "errors": errors,
        "calls": dict(request.calls),
        "limiter": limiter,
        "total_people": len(telegram_ids),
        "steps": steps,
    }
    return timer, facts


def print_profile(profile: cProfile.Profile, out: Path | None, top: int = 25) -> None:
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profile, stream=text).strip_dirs().sort_stats(order).print_stats(top)
        body = text.getvalue()
        print(f"\n--- cProfile of (b), main thread only, top {top} by {order} ---")
        print(body[body.find("   ncalls") :].rstrip())
    if out:
        profile.dump_stats(out)
        print(f"\n(full profile written to {out}; read it with python -m pstats)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200, help="hamlet heads who register")
    parser.add_argument(
        "--rate-limiter",
        action="store_true",
        help="keep the AIORateLimiter that build_application sets (30 messages/s overall)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile (b) and print the top")
    parser.add_argument("--profile-out", type=Path, help="also dump the profile to this file")
    parser.add_argument(
        "--count-sql", action="store_true", help="count SQL statements per update in (b)"
    )
    args = parser.parse_args()
    # The same warning pyproject.toml lets through in tests: per_message=False is deliberate.
    warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)
    updates = args.people * UPDATES_PER_PERSON

    for line in machine_lines():
        print(line)
    print(
        f"N = {updates} measured updates per run ({args.people} people x {UPDATES_PER_PERSON});"
        f" {WARMUP_PEOPLE} warm-up people per run not counted; updates fed one at a time"
    )

    echo_timer = await bare_echo(updates, users=args.people)
    print(echo_timer.line("(a) bare PTB Application, one echo MessageHandler"))
    with tempfile.TemporaryDirectory(prefix="hoctap-bench-") as tmp:  # (b), to record it
        _, recording = await registration_dialog(args.people, Path(tmp), False, None, None)
    heads = [500_000 + i for i in range(args.people + WARMUP_PEOPLE)]
    plain_timer, plain = await plain_dialog(args.people, heads, recording["steps"])
    print(plain_timer.line("(c) the same questions, plain ConversationHandler, state in memory"))

    profile = cProfile.Profile() if args.profile or args.profile_out else None
    sql = SqlCounter() if args.count_sql else None
    label = "(b) full /dangky registration dialog, SQLite + SqlitePersistence"
    with tempfile.TemporaryDirectory(prefix="hoctap-bench-") as tmp:
        dialog_timer, facts = await registration_dialog(
            args.people, Path(tmp), args.rate_limiter, profile, sql
        )
    print(dialog_timer.line(label))
    state = "kept" if args.rate_limiter else "removed for the measurement (--rate-limiter keeps it)"
    print(f"    rate limiter of build_application: {facts['limiter']}, {state}")

    (a_wall, a_cpu), (b_wall, b_cpu) = echo_timer.per_update_ms(), dialog_timer.per_update_ms()
    c_wall, c_cpu = plain_timer.per_update_ms()
    print(f"ratio of per-update cost b/a: wall {b_wall / a_wall:.2f}, CPU {b_cpu / a_cpu:.2f}")
    print("    (target of issue 9: at most 2.5)")
    print(f"ratio of per-update cost b/c: wall {b_wall / c_wall:.2f}, CPU {b_cpu / c_cpu:.2f}")
    print("    (target of issue 15: at most 2)")
    total = facts["total_people"]
    screens = sum(facts["calls"].get(m, 0) for m in SCREEN_CALLS) / total
    plain_screens = sum(plain["calls"].get(m, 0) for m in SCREEN_CALLS) / total
    print(
        f"Bot API calls that send or edit a message, per family registration: (b) {screens:.1f},"
        f" (c) {plain_screens:.1f} (target: at most 8)"
    )
    same = without_ids(facts["steps"]) == without_ids(plain["steps"])
    print(
        "check: (b) and (c) make the same Bot API calls, each with the same text and buttons,"
        f" update by update: {same}"
    )

    counts = facts["counts"]
    print(
        f"check: {counts['registrations']} registrations in SQLite for"
        f" {facts['total_people']} people (incl. warm-up); {facts['confirmed']} confirmations"
        f" seen; {counts['self_assessments']} self-assessment rows;"
        f" {counts['registration_drafts']} drafts and {counts['conversations']} registration"
        " conversations left"
    )
    print(f"check: error handler invoked {len(facts['errors'])} times")
    for error in facts["errors"][:5]:
        print(f"    {error}")
    calls = ", ".join(f"{name} {count}" for name, count in sorted(facts["calls"].items()))
    print(f"Bot API calls in (b): {calls}")
    if sql:
        total = sum(sql.shapes.values())
        trips = sql.round_trips / updates
        local = sql.local_transactions / updates
        print(f"\nround trips to the database thread in (b): {trips:.2f} per update")
        print(f"transactions on the event loop's own connection in (b): {local:.2f} per update")
        print(f"SQL statements in (b): {total / updates:.2f} per update; by shape, per update:")
        for shape, count in sql.shapes.most_common(20):
            print(f"  {count / updates:6.2f}  {shape[:150]}")
    if profile:
        print_profile(profile, args.profile_out)


if __name__ == "__main__":
    asyncio.run(main())
