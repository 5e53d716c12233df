"""The Application subclass that carries the storage and persists after every update."""

import asyncio
import logging
from collections.abc import Callable
from contextlib import nullcontext
from contextvars import ContextVar
from datetime import date, datetime

from telegram import Update
from telegram.ext import Application
from telegram.ext._handlers.conversationhandler import PendingState
from telegram.ext._utils.trackingdict import TrackingDict

from storage.clock import utcnow
from storage.db import forget_all

log = logging.getLogger(__name__)

# The id of the update the current task is processing, for update_persistence to record.
_current_update: ContextVar[int | None] = ContextVar("current_update", default=None)


class HoctapApplication(Application):
    """PTB's Application, but each update is handled at most once and saved when it is done.

    PTB writes persistence on a timer (60 s by default); a crash in between would lose what
    people typed. Here the dialog state is written at the end of every update.

    Idempotency: an update whose id is already in `processed_updates` (migrations 0005 and
    0011: per bot, so a new token's updates are never mistaken for the old bot's) is
    skipped, so a redelivered update (same update_id, e.g. after a crash before the polling
    loop confirmed it) is neither processed nor answered twice. The id is written in the same
    SQLite transaction as the dialog state and user/chat data of that update.

    What "the same transaction" can and cannot mean with PTB: the handlers make their own
    domain writes (a person enrolled, an invite used) while the update is processed, each
    committed at once through `Database.write` or `Database.transaction`; PTB hands the
    dialog state and the data over only afterwards, in `update_persistence`. So the domain
    writes and the "processed" mark are not atomic. A crash after a handler's commit but
    before the mark means the update comes again and its handler runs again, so handlers must
    tolerate a replay (enrolment does: a used invite code is refused). What is atomic is the
    pair "state after this update" + "this update is done": there is never a saved state
    without its mark, nor a mark without the state, so a replay never starts from a state
    the update already moved on from. Writes made through `Database.write_at_end` (a
    registration draft's answers) join that transaction too: the draft, the dialog state and
    the mark stand or fall together, so a replayed answer starts from the draft it found.

    Messages the bot sent before a crash cannot be taken back; a replayed update may answer
    again. That is the at-least-once half that no bot can avoid; the mark makes it rare.
    """

    storage = None  # a storage.Storage, set by bot.app.build_application
    settings = None  # a bot.config.Settings, likewise
    flood = None  # a bot.flood.FloodGuard for messages, likewise
    press_flood = None  # another for button presses
    private_only = None  # a bot.private.PrivateOnly
    web = None  # a bot.web.server.WebServer while the dashboard runs (bot.runner.polling)
    _persist_lock: asyncio.Lock | None = None
    # The current moment as an aware datetime; tests replace it (`app.clock = lambda: ...`).
    clock: Callable[[], datetime] = staticmethod(utcnow)

    def now(self) -> datetime:
        """The current moment in the configured time zone."""
        return self.clock().astimezone(self.settings.tzinfo)

    def today(self) -> date:
        """Today's date in the configured time zone; its year is the programme year."""
        return self.now().date()

    async def process_update(self, update: object) -> None:
        update_id = update.update_id if isinstance(update, Update) and self.storage else None
        if update_id is not None and await self.storage.updates.seen(self.bot.id, update_id):
            log.info("update %s was processed before; skipped", update_id)
            return
        token = _current_update.set(update_id)
        try:
            deferring = self.storage is not None and self.persistence is not None
            with self.storage.update_writes() if deferring else nullcontext():
                await super().process_update(update)
                await self.update_persistence()  # also when no handler blocked: records the id
        finally:
            _current_update.reset(token)

    async def update_persistence(self) -> None:
        """PTB's persistence run, committed as one transaction with the update id, if any.

        PTB calls this from `process_update`, from its timer and from `stop`. A lock keeps the
        runs from interleaving: each collects what PTB hands over (it runs under PTB's own
        lock) and commits afterwards, so without ours an older collection could commit last.
        """
        if self.persistence is None:
            await super().update_persistence()
            return
        held = self.storage.take_update_writes() if self.storage else []
        if self._persist_lock is None:
            self._persist_lock = asyncio.Lock()
        update_id = _current_update.get()
        also = [(sql, params) for sql, params, _ in held]
        if update_id is not None:
            also.append(self.storage.updates.record_statement(self.bot.id, update_id))
        try:
            async with self._persist_lock:
                changed = await self.persistence.write_batch(self._hand_over, *also)
        except BaseException:
            forget_all(held)
            raise
        forget_all(held, changed)
        if update_id is not None:
            self.storage.updates.recorded(self.bot.id, update_id)

    def _data_calls(self, kind: str, data, update: Callable, drop: Callable) -> list[tuple]:
        """The writes of the chats' or users' data that PTB marked as changed or deleted since
        the last run (`kind`: "chat" or "user"); the marks are taken, as PTB takes them."""
        marks = (
            f"_{kind}_ids_to_be_updated_in_persistence",
            f"_{kind}_ids_to_be_deleted_in_persistence",
        )
        updated, deleted = (getattr(self, name) for name in marks)
        for name in marks:
            setattr(self, name, set())
        return [(update, i, data[i]) for i in updated - deleted] + [(drop, i) for i in deleted]

    async def _hand_over(self) -> None:
        """What PTB's `update_persistence` hands over, handed over one after another.

        PTB deep-copies each piece and gathers the persistence calls as tasks, so that a
        handler running meanwhile cannot change a piece before it is written. Here each call
        only turns its piece into JSON and adds a statement to the batch, without yielding to
        the event loop, so nothing runs in between and neither copies nor tasks are needed
        (two of the persistence run's costs per update). The pieces, and what happens to an
        error (the error handlers get it, the other writes go on), are PTB's 22.x; the
        marks it keeps of what changed are its own (underscore) attributes.
        """
        persistence, store = self.persistence, self.persistence.store_data
        calls = []
        if store.callback_data and self.bot.callback_data_cache is not None:
            calls.append(
                (persistence.update_callback_data, self.bot.callback_data_cache.persistence_data)
            )
        if store.bot_data:
            calls.append((persistence.update_bot_data, self.bot_data))
        if store.chat_data:
            calls += self._data_calls(
                "chat", self.chat_data, persistence.update_chat_data, persistence.drop_chat_data
            )
        if store.user_data:
            calls += self._data_calls(
                "user", self.user_data, persistence.update_user_data, persistence.drop_user_data
            )
        for name, states in self._conversation_handler_conversations.items():
            if not states._write_access_keys:  # what pop_accessed_write_items pops: none
                continue
            for key, state in states.pop_accessed_write_items():
                if isinstance(state, PendingState):  # a non-blocking handler's state
                    if not state.done():  # the next best guess, and look again next run
                        state = state.old_state
                        states.mark_as_accessed(key)
                    else:
                        state = state.resolve()
                state = None if state is TrackingDict.DELETED else state
                calls.append((persistence.update_conversation, name, key, state))
        errors = []
        for call, *args in calls:
            try:
                await call(*args)
            except Exception as error:  # PTB hands each to the error handlers
                errors.append(error)
        for error in errors:
            await self.process_error(error=error, update=None)
