"""Small in-memory caches of rows that the bot reads on every update."""

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from storage.db import Database

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """The `size` most recently used entries; the least recently used one goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class ReadThrough(Generic[K, V]):
    """Rows read through a repository and kept until the repository writes that table.

    Correct only if every write to the table goes through the repository, which calls
    `writing()` before and after each one. A read is kept only if no write began or ended
    while it ran and no transaction was open when it was sent: on the shared connection a
    read inside another task's transaction sees rows that may yet be rolled back.
    """

    def __init__(self, db: Database, size: int) -> None:
        self.db = db
        self.rows: Recent[K, V] = Recent(size)
        self._writes = 0

    def ticket(self) -> int | None:
        """Taken before a read: None when what it reads must not be kept."""
        return None if self.db.in_transaction else self._writes

    def keep(self, ticket: int | None, key: K, value: V | None) -> None:
        if value is not None and ticket is not None and ticket == self._writes:
            self.rows.put(key, value)

    def writing_row(self, key: K) -> int:
        """Before writing the row `key` whose new value will be known: forget it; the
        ticket to give `written`."""
        self.writing(key)
        return self._writes

    def written(self, ticket: int, key: K, value: V) -> None:
        """After that write, or once it is held back to be committed at the end of the
        update (`Database.write_at_end`; until then this is where it is read from): keep the
        row as written, unless another write began in between, or the write is part of a
        transaction still open (it may be rolled back)."""
        fresh = ticket == self._writes and not self.db.in_own_transaction
        self.writing(key)
        if fresh:
            self.rows.put(key, value)

    def writing(self, key: K | None = None) -> None:
        """Before and after every write to the table: forget the row `key`, or all rows."""
        self._writes += 1
        if key is None:
            self.rows.clear()
        else:
            self.rows.pop(key)
