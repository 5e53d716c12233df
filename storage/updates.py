"""Which Telegram updates each bot has processed (migrations 0005 and 0011)."""

from datetime import datetime, timedelta

from storage.clock import to_db, utcnow
from storage.db import Database

KEEP = timedelta(days=7)
RECORD_SQL = (
    "INSERT OR IGNORE INTO processed_updates (bot_id, update_id, processed_at) VALUES (?, ?, ?)"
)


class ProcessedUpdates:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def seen(self, bot_id: int, update_id: int) -> bool:
        async with self.db.conn.execute(
            "SELECT 1 FROM processed_updates WHERE bot_id = ? AND update_id = ?",
            (bot_id, update_id),
        ) as cursor:
            return await cursor.fetchone() is not None

    @staticmethod
    def record_statement(
        bot_id: int, update_id: int, now: datetime | None = None
    ) -> tuple[str, tuple]:
        """The INSERT that marks `update_id` done, to run inside another write batch."""
        return RECORD_SQL, (bot_id, update_id, to_db(now or utcnow()))

    async def record(self, bot_id: int, update_id: int, now: datetime | None = None) -> None:
        await self.db.write(*self.record_statement(bot_id, update_id, now))

    async def forget_below(self, bot_id: int, update_id: int) -> None:
        """Drop the marks of ids the server has confirmed as delivered (below the offset)."""
        await self.db.write(
            "DELETE FROM processed_updates WHERE bot_id = ? AND update_id < ?", (bot_id, update_id)
        )

    async def prune(self, now: datetime | None = None) -> int:
        """Forget ids older than a week; return how many."""
        cutoff = to_db((now or utcnow()) - KEEP)
        cursor = await self.db.write(
            "DELETE FROM processed_updates WHERE processed_at < ?", (cutoff,)
        )
        return cursor.rowcount
