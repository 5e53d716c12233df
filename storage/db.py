"""The SQLite connection: pragmas, numbered migrations, and write transactions."""

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

import aiosqlite

BUSY_TIMEOUT_MS = 5000
_MIGRATION_NAME = re.compile(r"^(\d{4})_\w+\.sql$")


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

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self._write_lock = asyncio.Lock()
        self._owner: asyncio.Task | None = None

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
        return cls(conn)

    async def close(self) -> None:
        await self.conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE … COMMIT, rolled back on error; writes of other tasks wait."""
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

    async def run(self, fn: Callable[[sqlite3.Connection], object]) -> object:
        """Call `fn(connection)` on the connection's own thread, in one round trip.

        For a series of statements that would otherwise each wait for that thread: the
        thread runs nothing else meanwhile. Uses aiosqlite's queue (`_execute`), the one
        every statement goes through, so the order of statements is kept.
        """
        return await self.conn._execute(fn, self.conn._conn)

    async def write_many(self, statements: Sequence[tuple[str, tuple]]) -> None:
        """Run the statements as one transaction, in one round trip (BEGIN IMMEDIATE … COMMIT,
        rolled back on error); inside this task's own open transaction, as part of it."""

        def run_all(conn: sqlite3.Connection) -> None:
            for sql, params in statements:
                conn.execute(sql, params)

        if self._owner is asyncio.current_task():
            await self.run(run_all)
            return

        def in_transaction(conn: sqlite3.Connection) -> None:
            conn.execute("BEGIN IMMEDIATE")
            try:
                run_all(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        async with self._write_lock:
            await self.run(in_transaction)

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
