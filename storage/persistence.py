"""PTB persistence in the bot's own SQLite database, as JSON rows (migration 0002)."""

import json
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from storage.db import Database

Data = dict[Any, Any]
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]  # PTB's callback cache
Memo = tuple[tuple[str, object], str | None]  # (table, id) -> JSON written, None = row dropped
Pending = tuple[str, tuple, Memo | None]

# The write batch being collected by the current task (and the tasks it starts), if any.
_batch: ContextVar[list[Pending] | None] = ContextVar("persistence_batch", default=None)


def _dump(value: object, strict: bool = True) -> str:
    """JSON text, readable UTF-8; strict refuses what would come back different (int keys…)."""
    if type(value) is dict and not value:  # most user and chat data, after every update
        return "{}"
    text = json.dumps(value, ensure_ascii=False)
    if strict and json.loads(text) != value:
        raise TypeError(f"not JSON round-trippable (use str keys, lists, plain types): {value!r}")
    return text


class SqlitePersistence(BasePersistence[Data, Data, Data]):
    """Dialog states and user/chat/bot data kept in the tables of migration 0002.

    Shares the connection of `db` and never closes it: whoever opened `db` closes it.
    Each write is a single statement through `db.write`, which keeps it from landing inside
    a transaction another coroutine has open on the same shared connection.
    Unchanged JSON is not rewritten (PTB hands over bot data after every update); that memo
    assumes only this object writes these tables, which holds for one bot process.

    `write_batch` collects the writes of one PTB `update_persistence` run and commits them in
    one transaction together with extra statements (the processed update id), in one round
    trip to the database thread.
    """

    def __init__(
        self,
        db: Database,
        update_interval: float = 60,
        store_data: PersistenceInput | None = None,
    ) -> None:
        super().__init__(
            store_data=store_data or PersistenceInput(callback_data=False),
            update_interval=update_interval,
        )
        self._db = db
        self._written: dict[tuple[str, object], str] = {}  # last JSON written, to skip no-op writes

    async def _rows(self, sql: str, *params: object) -> list[Any]:
        async with self._db.conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def _write(self, sql: str, *params: object, memo: Memo | None = None) -> None:
        batch = _batch.get()
        if batch is not None:
            batch.append((sql, params, memo))
            return
        await self._db.write(sql, params)
        self._remember(memo)

    def _remember(self, memo: Memo | None) -> None:
        if memo is None:
            return
        key, text = memo
        if text is None:
            self._written.pop(key, None)
        else:
            self._written[key] = text

    async def write_batch(
        self, collect: Callable[[], Awaitable[None]], *also: tuple[str, tuple]
    ) -> list[int]:
        """Run `collect` with writes held back, then commit them and `also` in one transaction.

        Writes made by `collect` and by the tasks it starts (PTB gathers the update_* calls)
        are collected rather than sent. Nothing is committed if `collect` fails. The caller
        must keep two batches from interleaving (one could carry an older state of a row);
        `HoctapApplication` holds a lock around it. Returns how many rows each of `also`
        changed.
        """
        pending: list[Pending] = []
        token = _batch.set(pending)
        try:
            await collect()
        finally:
            _batch.reset(token)
        statements = [(sql, params) for sql, params, _ in pending] + list(also)
        if not statements:
            return []
        changed = await self._db.write_many(statements)
        for *_, memo in pending:
            self._remember(memo)
        return changed[len(pending) :]

    async def _upsert(self, table: str, column: str, row_id: int, value: object) -> None:
        text = _dump(value, strict=table != "callback_data")
        if self._written.get((table, row_id)) == text:
            return
        await self._write(
            f"INSERT INTO {table} ({column}, data) VALUES (?, ?)"
            f" ON CONFLICT ({column}) DO UPDATE SET data = excluded.data",
            row_id,
            text,
            memo=((table, row_id), text),
        )

    async def _drop(self, table: str, column: str, row_id: int) -> None:
        await self._write(
            f"DELETE FROM {table} WHERE {column} = ?", row_id, memo=((table, row_id), None)
        )

    async def _load(self, table: str, column: str) -> dict[int, Data]:
        rows = await self._rows(f"SELECT {column}, data FROM {table}")
        return {row_id: json.loads(data) for row_id, data in rows}

    async def get_user_data(self) -> dict[int, Data]:
        return await self._load("user_data", "user_id")

    async def get_chat_data(self) -> dict[int, Data]:
        return await self._load("chat_data", "chat_id")

    async def get_bot_data(self) -> Data:
        rows = await self._rows("SELECT data FROM bot_data WHERE id = 1")
        return json.loads(rows[0][0]) if rows else {}

    async def get_callback_data(self) -> CDCData | None:
        rows = await self._rows("SELECT data FROM callback_data WHERE id = 1")
        if not rows:
            return None
        keyboards, queries = json.loads(rows[0][0])
        return [(k, t, buttons) for k, t, buttons in keyboards], queries

    async def get_conversations(self, name: str) -> ConversationDict:
        rows = await self._rows("SELECT key, state FROM conversations WHERE name = ?", name)
        return {tuple(json.loads(key)): json.loads(state) for key, state in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store the state of one dialog; `None` (the dialog ended) deletes its row. PTB hands
        a state over whenever a handler returned one, most often the state it was in: that is
        not written again."""
        key_text = _dump(list(key), strict=False)  # PTB's ids, ints or strings: they come back
        row = (f"conversations {name}", key_text)
        if new_state is None:
            sql, params, text = "DELETE FROM conversations WHERE name = ? AND key = ?", (), None
        else:
            text = _dump(new_state)
            if self._written.get(row) == text:
                return
            sql = "INSERT OR REPLACE INTO conversations (name, key, state) VALUES (?, ?, ?)"
            params = (text,)
        await self._write(sql, name, key_text, *params, memo=(row, text))

    async def update_user_data(self, user_id: int, data: Data) -> None:
        await self._upsert("user_data", "user_id", user_id, data)

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        await self._upsert("chat_data", "chat_id", chat_id, data)

    async def update_bot_data(self, data: Data) -> None:
        await self._upsert("bot_data", "id", 1, data)

    async def update_callback_data(self, data: CDCData) -> None:
        await self._upsert("callback_data", "id", 1, data)

    async def drop_user_data(self, user_id: int) -> None:
        await self._drop("user_data", "user_id", user_id)

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._drop("chat_data", "chat_id", chat_id)

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        """No-op: one bot process owns the database, so memory is never older than disk."""

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        """No-op, as for user data."""

    async def refresh_bot_data(self, bot_data: Data) -> None:
        """No-op, as for user data."""

    async def flush(self) -> None:
        """Nothing is buffered (every update_* has committed), and the owner closes `db`."""
