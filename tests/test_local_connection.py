"""The event loop's own connection (`Database.run_transaction`, `Database.read_small`): small
transactions commit at once on the caller's thread, a busy database never stalls the event
loop, and the write-ahead log is kept short by checkpoints off that thread."""

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from storage.db import Database


@pytest.fixture
async def db(tmp_path: Path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    await db.write("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    yield db
    await db.close()


def committed(tmp_path: Path) -> list[str]:
    """The notes another process sees on disk."""
    with sqlite3.connect(tmp_path / "bot.sqlite3") as conn:
        return [row[0] for row in conn.execute("SELECT body FROM notes ORDER BY id")]


def add_note(body: str, threads: list | None = None):
    def add(conn: sqlite3.Connection) -> int:
        if threads is not None:
            threads.append(threading.current_thread())
        return conn.execute("INSERT INTO notes (body) VALUES (?)", (body,)).lastrowid

    return add


async def test_a_small_transaction_commits_at_once_on_the_event_loops_thread(db, tmp_path):
    threads = []
    await db.run_transaction(add_note("first", threads))
    assert threads == [threading.current_thread()]
    assert committed(tmp_path) == ["first"]
    assert [row["body"] for row in await db.read_small("SELECT body FROM notes")] == ["first"]


async def test_a_failed_transaction_leaves_nothing_and_the_next_one_commits(db, tmp_path):
    def add_then_fail(conn: sqlite3.Connection) -> None:
        add_note("lost")(conn)
        raise ValueError("a rule was broken")

    with pytest.raises(ValueError):
        await db.run_transaction(add_then_fail)
    await db.run_transaction(add_note("kept"))
    assert committed(tmp_path) == ["kept"]


async def test_another_process_writing_does_not_stall_the_event_loop(db, tmp_path):
    """The command line holds the write lock: the bot's commit waits on aiosqlite's thread,
    while the event loop goes on serving other chats, and commits once the lock is free."""
    other = sqlite3.connect(tmp_path / "bot.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes (body) VALUES ('from the command line')")
    threads = []
    waiting = asyncio.ensure_future(db.run_transaction(add_note("from the bot", threads)))
    started = time.perf_counter()
    for _ in range(5):  # other work of the event loop meanwhile, without delay
        await asyncio.sleep(0.02)
    assert time.perf_counter() - started < 1
    assert not waiting.done()
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(waiting, 5)
    assert threads and threads[0] is not threading.current_thread()
    assert committed(tmp_path) == ["from the command line", "from the bot"]


def restarts(tmp_path: Path) -> int:
    """How often the write-ahead log has started again from its beginning: the checkpoint
    sequence number in its header (SQLite's WAL format, bytes 12 to 15)."""
    with open(tmp_path / "bot.sqlite3-wal", "rb") as wal:
        return int.from_bytes(wal.read(16)[12:16], "big")


async def test_the_write_ahead_log_starts_again_from_its_beginning(db, tmp_path):
    """The local connection never checkpoints inside a commit; the checkpoints made for it
    let the log start again from its beginning, so it does not grow with every commit."""
    db.checkpoint_every = 20
    await db.run_transaction(add_note("first"))
    before = restarts(tmp_path)
    deadline = time.monotonic() + 10  # a few hundred commits on a quiet machine
    while restarts(tmp_path) < before + 2 and time.monotonic() < deadline:
        await db.run_transaction(add_note("x" * 3000))
        await asyncio.sleep(0.001)  # updates come one after another, not all at once
    assert restarts(tmp_path) >= before + 2
