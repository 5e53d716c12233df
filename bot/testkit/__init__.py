"""A fake Telegram Bot API server and a client that acts as a person, for tests and the demo."""

from bot.testkit.client import BotMessage, Person
from bot.testkit.fake_api import FakeBotApi

__all__ = ["BotMessage", "FakeBotApi", "Person"]
