"""Long polling until SIGINT or SIGTERM, then a clean shutdown."""

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.app import build_application
from bot.application import HoctapApplication
from bot.config import Settings
from bot.polling import Poller
from storage import Storage
from storage.backup import in_use

log = logging.getLogger(__name__)


@asynccontextmanager
async def polling(app: HoctapApplication, poll_timeout: float = 10) -> AsyncIterator[None]:
    """The application initialised, its menus set, and polling, until the block ends.

    Polling is our own loop (bot.polling), which confirms an update only once it has been
    processed; PTB's Updater is not used. With HOCTAP_WEB_BASE_URL set, the staff dashboard's
    web server runs alongside (`app.web`).
    """
    async with app:
        await app.post_init(app)
        await app.start()
        poller = Poller(app, poll_timeout=poll_timeout)
        await poller.start()
        if app.settings.web_base_url:
            from bot.web.server import WebServer

            app.web = WebServer(app)
            await app.web.start()
        try:
            yield
        finally:
            if app.web is not None:
                await app.web.stop()
            await poller.stop()
            await app.stop()


async def run(settings: Settings) -> None:
    with in_use(settings.db_path):  # `restore` refuses while this is held
        await _run(settings)


async def _run(settings: Settings) -> None:
    storage = await Storage.open(settings.db_path)
    try:
        app = build_application(settings, storage)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with polling(app):
            log.info("bot @%s is running", app.bot.username)
            await stop.wait()
            log.info("stopping")
    finally:
        await storage.close()
