"""The staff dashboard (a Telegram Mini App): pages served by the bot process with aiohttp.

`auth` checks Telegram's initData and signs photo links; `server` runs the aiohttp
application; `pages` renders the HTML (Jinja2 templates in `templates/`).
"""
