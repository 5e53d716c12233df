"""A fake Telegram Bot API server and a client that acts as a person, for tests and the demo.

Typical use with a real python-telegram-bot ``Application``::

    async with FakeBotApi() as api:
        app = (
            Application.builder()
            .token(api.token)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )
        ...  # add handlers, start polling
        lan = api.person(1001)
        reaction = await lan.send("/start")  # the bot messages sent in reply
        await lan.press("OK")

See :mod:`bot.testkit.client` for the rule that decides when an action's reaction is complete.
"""

from bot.testkit.client import BotMessage, Person
from bot.testkit.fake_api import FakeBotApi

__all__ = ["BotMessage", "FakeBotApi", "Person"]
