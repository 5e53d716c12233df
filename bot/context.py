"""The per-update context: who is speaking, and where the storage is."""

from datetime import date

from telegram.ext import CallbackContext, ExtBot

from bot.years import open_years
from storage import Storage
from storage.models import Area, Person


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    """PTB's context plus the enrolled person, resolved once per update by the gate."""

    person: Person | None = None
    area: Area | None = None  # the person's own area; None for admins (the whole country)
    action = None  # the bot.actions.Action of the button pressed, set by its handler
    pressed: tuple | None = None  # that button's arguments, read from its callback data

    @property
    def storage(self) -> Storage:
        return self.application.storage

    @property
    def settings(self):
        return self.application.settings

    def today(self) -> date:
        """Today's date where the programme runs."""
        return self.application.today()

    async def open_years(self, area: Area | None = None) -> tuple[int, ...]:
        """The programme years worked on in `area` (default: the person's own), newest first."""
        area = area if area is not None else self.area
        return await open_years(self.storage, self.settings, area, self.today())
