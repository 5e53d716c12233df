"""Updates of one person in arrival order, different people at the same time."""

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

DEFAULT_CONCURRENCY = 64


def person_key(update: object) -> int | None:
    """Whose update this is: the user, else the chat; None for updates of nobody."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerPersonUpdateProcessor(BaseUpdateProcessor):
    """Processes the updates of one person strictly one after another, in arrival order.

    Each person has a chain: an update waits until the previous update of the same person
    is done, then runs. Updates of different people run concurrently, at most
    `max_concurrent_updates` at a time (PTB's semaphore in `process_update`).

    Arrival order is kept because PTB starts one task per update in the order the updates
    arrive, and the semaphore in front of `do_process_update` is first-in first-out (Python
    >= 3.11.1); the chain link is taken, without awaiting anything, as the first step inside
    it. An update waiting for its predecessor holds a semaphore slot; a person who sends a
    burst therefore uses several slots, each for the few milliseconds an update takes.

    Each update runs in its own task, so ContextVars such as the locale (bot.i18n) that the
    gate sets are private to that update.
    """

    def __init__(self, max_concurrent_updates: int = DEFAULT_CONCURRENCY) -> None:
        super().__init__(max_concurrent_updates)
        self._tails: dict[int, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = person_key(update)
        if key is None:
            await coroutine
            return
        previous = self._tails.get(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = done
        try:
            if previous is not None:
                await asyncio.shield(previous)
            await coroutine
        finally:
            done.set_result(None)
            if self._tails.get(key) is done:
                del self._tails[key]

    @property
    def waiting_people(self) -> int:
        """People with at least one update in progress (for tests and diagnostics)."""
        return len(self._tails)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free: the chains empty themselves as updates finish."""
