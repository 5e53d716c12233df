"""The Application subclass that carries the storage and persists after every update."""

from collections.abc import Callable
from datetime import datetime

from telegram.ext import Application

from storage.clock import utcnow


class HoctapApplication(Application):
    """PTB's Application, but the dialog state is written when each update is done.

    PTB writes persistence on a timer (60 s by default); a crash in between would lose what
    people typed. Writing at the end of every update keeps the loss to the update in progress.
    """

    storage = None  # a storage.Storage, set by bot.app.build_application
    settings = None  # a bot.config.Settings, likewise
    clock: Callable[[], datetime] = staticmethod(utcnow)  # tests may set another

    async def process_update(self, update: object) -> None:
        await super().process_update(update)
        await self.update_persistence()
