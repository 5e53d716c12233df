"""Our own long-polling loop: an update is confirmed only after it has been processed.

PTB's Updater hands each batch from getUpdates to a queue and confirms it with the offset of
its very next getUpdates call, which it makes at once; a hard kill (power cut, OOM killer,
`kill -9`) then loses every update that was queued but not yet processed, since Telegram will
not deliver it again. Here a batch is processed to the end before the offset moves past it,
so after a crash Telegram redelivers whatever was not finished, and the ids recorded by
`HoctapApplication` (migration 0005) keep the finished part from being handled twice.

The price: the next batch is fetched when the slowest update of the current one is done.
Handlers are short (a few database statements and API calls); long work belongs in jobs.
"""

import asyncio
import contextlib
import logging
import warnings

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import Application
from telegram.warnings import PTBUserWarning

log = logging.getLogger(__name__)

BATCH_LIMIT = 100


class Poller:
    """Fetch, process, then confirm; until `stop()`.

    `backoff` is the first and the longest pause after a failed getUpdates; the pause doubles
    with each further failure and starts again after a success.
    """

    def __init__(
        self,
        app: Application,
        *,
        poll_timeout: float = 10,
        backoff: tuple[float, float] = (1.0, 30.0),
    ) -> None:
        self.app = app
        self.poll_timeout = poll_timeout
        self.backoff = backoff
        self.offset: int | None = None  # the next update id to ask for; None = all pending
        self._task: asyncio.Task | None = None
        self._stopping = False
        self._fetch: asyncio.Task | None = None
        self._forgotten_below: int | None = None

    async def start(self) -> None:
        """Remove any webhook (getUpdates refuses to work beside one), then poll in a task."""
        await self.app.bot.delete_webhook(drop_pending_updates=False)
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name="hoctap:polling")

    async def stop(self) -> None:
        """Let the batch in hand finish; abandon a long poll (its updates come again)."""
        self._stopping = True
        if self._fetch is not None:
            self._fetch.cancel()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        pause = self.backoff[0]
        while not self._stopping:
            try:
                updates, after = await self._fetch_batch()
            except asyncio.CancelledError:
                if self._stopping:
                    return
                raise
            except (NetworkError, TimedOut, Conflict, InvalidToken, TelegramError) as error:
                # InvalidToken and Conflict are not NetworkErrors, but a pause and another try
                # is still the best a bot can do without an operator; the log says why.
                log.warning("getUpdates failed (%s); trying again in %.1f s", error, pause)
                await self._sleep(pause)
                pause = min(pause * 2, self.backoff[1])
                continue
            pause = self.backoff[0]
            await self._forget_confirmed()
            if updates:
                await self.process_batch(updates)
            if after is not None:
                self.offset = after

    async def _forget_confirmed(self) -> None:
        """The request that just succeeded confirmed every id below our offset: Telegram never
        sends those again, so their 'processed' marks are dropped. Only ids that may still be
        redelivered stay marked, and a server whose ids start again at 1 (a restarted local
        Bot API server) is not mistaken for a replay."""
        if self.offset is None or self.offset == self._forgotten_below:
            return
        await self.app.storage.updates.forget_below(self.app.bot.id, self.offset)
        self._forgotten_below = self.offset

    async def _fetch_batch(self) -> tuple[tuple[Update, ...] | list[Update], int | None]:
        """The next batch and the offset past it (None: nothing came)."""
        try:
            updates = await self._get_updates()
        except TelegramError:
            raise
        except Exception:
            # An update python-telegram-bot cannot read fails the whole batch, every time it
            # is fetched again: then read the batch one update at a time.
            return await self._get_updates_one_by_one()
        return updates, (updates[-1].update_id + 1 if updates else None)

    async def _get_updates(self) -> tuple[Update, ...]:
        self._fetch = asyncio.create_task(
            self.app.bot.get_updates(
                offset=self.offset,
                timeout=self.poll_timeout,
                limit=BATCH_LIMIT,
                allowed_updates=Update.ALL_TYPES,
            )
        )
        try:
            return await self._fetch
        finally:
            self._fetch = None

    async def _get_updates_one_by_one(self) -> tuple[list[Update], int | None]:
        """The pending batch as raw JSON, each update parsed alone; those that cannot be are
        logged by id (not content: it may hold personal data) and skipped. Returns the
        updates and the offset past the whole batch."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PTBUserWarning)  # "use Bot.get_updates instead"
            raw = await self.app.bot.do_api_request(
                "getUpdates", api_kwargs={"offset": self.offset, "limit": BATCH_LIMIT}
            )
        updates = []
        for item in raw:
            try:
                updates.append(Update.de_json(item, self.app.bot))
            except Exception:
                log.error("update %s cannot be read; skipped", item.get("update_id"))
        return updates, (raw[-1]["update_id"] + 1 if raw else None)

    async def process_batch(self, updates: tuple[Update, ...] | list[Update]) -> None:
        """All updates of the batch through the update processor, each in its own task.

        `gather` starts the tasks in arrival order, which the per-person processor relies on;
        each task gets its own copy of the context, so per-update ContextVars stay apart.
        """
        await asyncio.gather(*(self._process(update) for update in updates))

    async def _process(self, update: Update) -> None:
        app = self.app
        try:
            await app.update_processor.process_update(update, app.process_update(update))
        except Exception:
            # Handler errors went to the error handler already; this is a failure around
            # them (saving the dialog state, say). Log it and go on: stopping here would
            # hold every later update back for good.
            log.exception("update %s could not be completed", update.update_id)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            self._fetch = asyncio.create_task(asyncio.sleep(seconds))
            try:
                await self._fetch
            finally:
                self._fetch = None
