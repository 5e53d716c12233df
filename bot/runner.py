"""Long polling until SIGINT or SIGTERM, then a clean shutdown."""

import asyncio
import logging
import signal

from bot.app import build_application
from bot.config import Settings
from storage import Storage

log = logging.getLogger(__name__)


async def run(settings: Settings) -> None:
    storage = await Storage.open(settings.db_path)
    try:
        app = build_application(settings, storage)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with app:
            await app.post_init(app)
            await app.updater.start_polling(drop_pending_updates=False)
            await app.start()
            log.info("bot @%s is running", app.bot.username)
            await stop.wait()
            log.info("stopping")
            await app.updater.stop()
            await app.stop()
    finally:
        await storage.close()
