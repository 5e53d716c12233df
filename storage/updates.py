"""Which Telegram updates each bot has processed (migrations 0005 and 0011)."""

from datetime import datetime, timedelta

from storage.clock import to_db, utcnow
from storage.db import Database

KEEP = timedelta(days=7)
RECORD_SQL = (
    "INSERT OR IGNORE INTO processed_updates (bot_id, update_id, processed_at) VALUES (?, ?, ?)"
)


class ProcessedUpdates:
    """The ids in `processed_updates`, also kept in memory once read.

    Only the bot process writes this table (one bot process owns the database, as for
    `SqlitePersistence`), so after one read per bot, `seen` answers from memory: no query
    on every update. The caller reports each committed mark with `recorded`.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._done: dict[int, set[int]] = {}
        self._loaded: set[int] = set()

    async def seen(self, bot_id: int, update_id: int) -> bool:
        if bot_id not in self._loaded:
            rows = await self.db.conn.execute_fetchall(
                "SELECT update_id FROM processed_updates WHERE bot_id = ?", (bot_id,)
            )
            self._done.setdefault(bot_id, set()).update(row[0] for row in rows)
            self._loaded.add(bot_id)
        return update_id in self._done.get(bot_id, ())

    def recorded(self, bot_id: int, update_id: int) -> None:
        """The mark of `record_statement` was committed (by the caller's transaction)."""
        self._done.setdefault(bot_id, set()).add(update_id)

    @staticmethod
    def record_statement(
        bot_id: int, update_id: int, now: datetime | None = None
    ) -> tuple[str, tuple]:
        """The INSERT that marks `update_id` done, to run inside another write batch."""
        return RECORD_SQL, (bot_id, update_id, to_db(now or utcnow()))

    async def record(self, bot_id: int, update_id: int, now: datetime | None = None) -> None:
        await self.db.write(*self.record_statement(bot_id, update_id, now))
        self.recorded(bot_id, update_id)

    async def forget_below(self, bot_id: int, update_id: int) -> None:
        """Drop the marks of ids the server has confirmed as delivered (below the offset)."""
        await self.db.write(
            "DELETE FROM processed_updates WHERE bot_id = ? AND update_id < ?", (bot_id, update_id)
        )
        if bot_id in self._done:
            self._done[bot_id] = {done for done in self._done[bot_id] if done >= update_id}

    async def prune(self, now: datetime | None = None) -> int:
        """Forget ids older than a week; return how many."""
        cutoff = to_db((now or utcnow()) - KEEP)
        cursor = await self.db.write(
            "DELETE FROM processed_updates WHERE processed_at < ?", (cutoff,)
        )
        self._done.clear()  # read again when next asked
        self._loaded.clear()
        return cursor.rowcount
