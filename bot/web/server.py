"""The dashboard's web server, inside the bot process, on HOCTAP_WEB_HOST:HOCTAP_WEB_PORT
(loopback by default; the operator's reverse proxy serves it as HOCTAP_WEB_BASE_URL).

Only the shell page (the same bytes for everyone, no data) is served without Telegram's
initData. Everything under `f/` needs it, in the `X-Telegram-Init-Data` header (the shell's
requests) or the `init` query parameter (photos and downloads, which a browser fetches by link);
it must name an enrolled, active staff member or administrator.
"""

import logging
from urllib.parse import urlsplit

from aiohttp import web

from bot.commands import STAFF_AND_ADMIN
from bot.i18n import _, use_locale
from bot.web.auth import check_init_data
from bot.web.pages import VIEWER, Pages, Viewer, render

log = logging.getLogger(__name__)

HEADER = "X-Telegram-Init-Data"
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class WebServer:
    """The aiohttp application and its listening socket; `start()` then `stop()`."""

    def __init__(self, app) -> None:
        self.bot_app = app
        settings = app.settings
        self.prefix = urlsplit(settings.web_base_url or "/").path.rstrip("/")
        self.pages = Pages(app.storage, settings, app.now)
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    def application(self) -> web.Application:
        web_app = web.Application(middlewares=[self.authenticate])
        p = self.prefix
        pages = self.pages
        web_app.router.add_get(f"{p}/", self.shell)
        web_app.router.add_get(f"{p}/f/summary", pages.summary)
        web_app.router.add_get(f"{p}/f/registrations", pages.registrations)
        web_app.router.add_get(p + r"/f/registration/{id:\d+}", pages.registration)
        web_app.router.add_get(p + r"/f/photo/{id:\d+}/{size:thumb|full}", pages.photo)
        web_app.router.add_get(p + "/f/export/{format:xlsx|csv}", pages.download)
        return web_app

    async def start(self) -> None:
        settings = self.bot_app.settings
        self.runner = web.AppRunner(self.application(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, settings.web_host, settings.web_port)
        await site.start()
        self.port = self.runner.addresses[0][1]
        log.info("dashboard listening on %s:%s", settings.web_host, self.port)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    @property
    def local_url(self) -> str:
        """The server's own address on loopback (tests and the demo)."""
        return f"http://127.0.0.1:{self.port}{self.prefix}/"

    # --- handlers -------------------------------------------------------------------------

    async def shell(self, request: web.Request) -> web.Response:
        with use_locale(self.bot_app.settings.default_locale):
            response = render("shell.html", base=f"{self.prefix}/")
        response.headers.update(SECURITY_HEADERS)
        return response

    @web.middleware
    async def authenticate(self, request: web.Request, handler) -> web.StreamResponse:
        """Under `f/`: the viewer from initData, in their language, or 401/403 and nothing."""
        if not request.path.startswith(f"{self.prefix}/f/"):
            return await handler(request)
        settings = self.bot_app.settings
        with use_locale(settings.default_locale):
            init_data = request.headers.get(HEADER) or request.query.get("init", "")
            user = check_init_data(init_data, settings.token(), self.bot_app.now())
            if user is None:
                raise web.HTTPUnauthorized(
                    text=_("Please open this page from the bot's button in Telegram."),
                    headers=SECURITY_HEADERS,
                )
            storage = self.bot_app.storage
            person = await storage.people.by_telegram_id(user.telegram_id)
            if person is None or not person.active or person.role not in STAFF_AND_ADMIN:
                raise web.HTTPForbidden(
                    text=_("This page is for supervising staff and administrators."),
                    headers=SECURITY_HEADERS,
                )
        area = await storage.areas.get(person.area_id) if person.area_id is not None else None
        VIEWER.set(Viewer(person, area))
        with use_locale(person.locale):
            try:
                response = await handler(request)
            except web.HTTPException as error:
                error.headers.update(SECURITY_HEADERS)
                raise
        response.headers.update(SECURITY_HEADERS)
        return response
