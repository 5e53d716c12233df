"""The SQLite connection: pragmas, numbered migrations, and write transactions."""

import asyncio
import logging
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import TypeVar

import aiosqlite

BUSY_TIMEOUT_MS = 5000
log = logging.getLogger(__name__)
T = TypeVar("T")
Deferred = tuple[str, tuple, Callable[[], None] | None]  # SQL, parameters, undo if it fails


class _UpdateWrites:
    """The writes held back for one update, until they are taken (then it is closed)."""

    def __init__(self) -> None:
        self.pending: list[Deferred] = []
        self.closed = False


# The writes held back until the end of the update the current task processes, if any.
_deferred: ContextVar[_UpdateWrites | None] = ContextVar("deferred_writes", default=None)
_MIGRATION_NAME = re.compile(r"^(\d{4})_\w+\.sql$")


def forget_all(writes: list[Deferred], changed: Sequence[int] | None = None) -> None:
    """Undo what was remembered of the writes that were not committed (all of them, or
    those that `changed` no row)."""
    for index, (*_, forget) in enumerate(writes):
        if forget is not None and (changed is None or changed[index] == 0):
            forget()


def migrations() -> list[tuple[int, str]]:
    """The shipped migration scripts as (version, SQL), in order."""
    found = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


class Database:
    """One aiosqlite connection in autocommit mode.

    Writes that must stand or fall together go through `transaction()`, which also
    serialises them, since concurrent updates share this one connection.
    """

    checkpoint_every = 500  # commits of the local connection; see `_after_local_commit`

    def __init__(self, conn: aiosqlite.Connection, path: Path | None = None) -> None:
        self.conn = conn
        self._path = path  # the database file (None: in memory), for the local connection
        self._local: sqlite3.Connection | None = None  # see `_local_connection`
        self._local_commits = 0
        self._checkpoint: _Checkpoint | None = None
        self._write_lock = asyncio.Lock()
        self._owner: asyncio.Task | None = None
        self._depth = 0  # savepoints open inside the owner's transaction

    @classmethod
    async def open(cls, path: str | Path) -> "Database":
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA synchronous = NORMAL")
        return cls(conn, None if str(path) == ":memory:" else Path(path).resolve())

    async def close(self) -> None:
        if self._checkpoint is not None:
            self._checkpoint.join()
        if self._local is not None:
            self._local.close()
            self._local = None
        await self.conn.close()

    def _local_connection(self) -> sqlite3.Connection:
        """The event loop's own connection to the database file, for `read_small` and the
        small transactions of `run_transaction`: what it runs takes tens of microseconds on
        the caller's thread instead of a round trip to aiosqlite's thread (the thread switch
        there and back costs more than such a statement).

        It never waits for a lock (busy_timeout 0): blocking the event loop for another
        process's transaction would stall every chat, so a busy database sends the work to
        aiosqlite's thread, which may wait. It never checkpoints either (`_after_local_commit`).
        """
        if self._local is None:
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA busy_timeout = 0")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            self._local = conn
        return self._local

    async def _after_local_commit(self) -> None:
        """Keep the write-ahead log short without holding up the event loop or an update.

        SQLite's own automatic checkpoint would run inside a commit on the event loop's
        thread and hold every chat for its fsyncs (tens of milliseconds on a slow disk). The
        local connection never checkpoints; instead, every `checkpoint_every` commits, a
        thread of its own copies the log into the database file (`_Checkpoint`) while the
        bot goes on. The log can only start again from its beginning once a checkpoint
        has copied all of it with no commit in between, so when that thread is done, the
        next commit copies the few pages written meanwhile on aiosqlite's thread, under
        the write lock.
        """
        self._local_commits += 1
        checkpoint = self._checkpoint
        if checkpoint is not None and checkpoint.done():
            self._checkpoint = None
            try:
                await self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error:  # tried again after the next `checkpoint_every` commits
                log.warning("checkpoint failed", exc_info=True)
        elif checkpoint is None and self._local_commits % self.checkpoint_every == 0:
            self._checkpoint = _Checkpoint(self._path)

    async def set_trace_callbacks(
        self, shared: Callable[[str], None], local: Callable[[str], None]
    ) -> None:
        """SQLite's trace callbacks of both connections (for the benchmarks' SQL counts)."""
        await self.conn.set_trace_callback(shared)
        if self._path is not None:
            self._local_connection().set_trace_callback(local)

    async def read_small(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        """A small indexed read of what is committed, run at once on the caller's thread
        through the event loop's own connection (`_local_connection`): no round trip.

        For rows read on every registration that another process may change at any time
        (programme years, criteria activations, set from the command line): always as
        committed now, so nothing is cached and nothing can be stale. Inside the current
        task's own transaction (which must see its own writes), and for a database in
        memory, it is an ordinary read on the shared connection.
        """
        if self._path is None or self.in_own_transaction:
            return await self.conn.execute_fetchall(sql, params)
        try:
            return self._local_connection().execute(sql, params).fetchall()
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
        return await self.conn.execute_fetchall(sql, params)  # rare: see _local_connection

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on error; writes of other tasks wait.

        Inside this task's open transaction it nests as a savepoint, so a use case can run
        repository functions that open their own transaction and the audit entry as one.
        """
        if self._owner is asyncio.current_task():
            async with self._savepoint():
                yield self.conn
            return
        async with self._write_lock:
            self._owner = asyncio.current_task()
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            else:
                await self.conn.execute("COMMIT")
            finally:
                self._owner = None

    @asynccontextmanager
    async def _savepoint(self) -> AsyncIterator[None]:
        self._depth += 1
        name = f"nested_{self._depth}"
        await self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await self.conn.execute(f"ROLLBACK TO {name}")
            await self.conn.execute(f"RELEASE {name}")
            raise
        else:
            await self.conn.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    async def write(self, sql: str, params: tuple = ()) -> aiosqlite.Cursor:
        """One write statement, committed on its own or as part of this task's transaction.

        A statement sent while another task has a transaction open on this shared connection
        would silently join that transaction (and vanish with its rollback), so it waits.
        """
        if self._owner is asyncio.current_task():
            return await self.conn.execute(sql, params)
        async with self._write_lock:
            return await self.conn.execute(sql, params)

    @property
    def in_transaction(self) -> bool:
        """Whether some task has a transaction open: what a read sees now may be rolled back
        (the connection is shared), so caches must not keep it."""
        return self._owner is not None

    @property
    def in_own_transaction(self) -> bool:
        """Whether the current task has a transaction open."""
        return self._owner is not None and self._owner is asyncio.current_task()

    async def run(self, fn: Callable[[sqlite3.Connection], object]) -> object:
        """Call `fn(connection)` on the connection's own thread, in one round trip.

        For a series of statements that would otherwise each wait for that thread: the
        thread runs nothing else meanwhile. Uses aiosqlite's queue (`_execute`), the one
        every statement goes through, so the order of statements is kept.
        """
        return await self.conn._execute(fn, self.conn._conn)

    async def run_transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` as one transaction (BEGIN IMMEDIATE … COMMIT, rolled back on
        error), for a few small statements: on the event loop's own connection, at once, or
        in one round trip to aiosqlite's thread when another process holds the database's
        write lock; inside this task's own open transaction, as part of it."""
        if self._owner is asyncio.current_task():
            return await self.run(fn)
        async with self._write_lock:  # no transaction of ours is open on the shared connection
            if self._path is not None:
                local = self._local_connection()
                try:
                    local.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError as error:
                    if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                        raise
                else:
                    result = _finish(local, fn)
                    await self._after_local_commit()
                    return result
            return await self.run(lambda conn: _finish(conn, fn, begin=True))

    async def write_many(self, statements: Sequence[tuple[str, tuple]]) -> list[int]:
        """The statements as one small transaction (`run_transaction`); how many rows each
        changed."""

        def run_all(conn: sqlite3.Connection) -> list[int]:
            return [conn.execute(sql, params).rowcount for sql, params in statements]

        return await self.run_transaction(run_all)

    @contextmanager
    def update_writes(self) -> Iterator[None]:
        """While an update is processed: `write_at_end` holds its writes back for it."""
        unit = _UpdateWrites()
        token = _deferred.set(unit)
        try:
            yield
        finally:
            _deferred.reset(token)
            if not unit.closed:  # never taken (the update was cancelled): never written
                unit.closed = True
                forget_all(unit.pending)

    async def write_at_end(
        self, sql: str, params: tuple, forget: Callable[[], None] | None = None
    ) -> None:
        """A write that may wait for the end of the update being processed, to be committed
        with its dialog state and its processed mark (bot.application); written at once
        outside an update, inside a transaction, or once the update's writes were taken.

        `forget` is called if the write does not take effect: its commit fails, or it
        changes no row (for a cache that already holds the row as written).
        """
        unit = _deferred.get()
        if unit is None or unit.closed or self._owner is asyncio.current_task():
            await self.write(sql, params)
        else:
            unit.pending.append((sql, params, forget))

    @staticmethod
    def take_update_writes() -> list[Deferred]:
        """The writes held back for the current update; later ones are written at once."""
        unit = _deferred.get()
        if unit is None:
            return []
        unit.closed = True
        return unit.pending

    async def schema_version(self) -> int:
        async with self.conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return row[0]

    async def migrate(self) -> int:
        """Apply every migration newer than the recorded version; return the new version."""
        version = await self.schema_version()
        for number, sql in migrations():
            if number <= version:
                continue
            async with self.transaction() as conn:
                for statement in _statements(sql):
                    await conn.execute(statement)
                await conn.execute(f"PRAGMA user_version = {number}")
            version = number
        return version


class _Checkpoint(threading.Thread):
    """One PASSIVE checkpoint on a connection and a thread of its own: it waits for no
    reader or writer, and nobody waits for it (`Database._after_local_commit`)."""

    def __init__(self, path: Path) -> None:
        super().__init__(name="sqlite-checkpoint", daemon=True)
        self._path = path
        self.start()

    def run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            log.warning("checkpoint failed", exc_info=True)
        finally:
            conn.close()

    def done(self) -> bool:
        return not self.is_alive()


def _finish(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T], begin=False) -> T:
    """`fn(conn)` and COMMIT, or ROLLBACK if anything fails (BEGIN IMMEDIATE first if asked)."""
    if begin:
        conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


def _statements(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole.

    `executescript` would commit on its own, outside the migration's transaction.
    """
    statements, current = [], ""
    for line in script.splitlines():
        if line.strip().startswith("--"):
            continue
        current += line + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
