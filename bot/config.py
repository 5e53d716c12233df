"""Configuration from HOCTAP_* environment variables and an optional .env file."""

import re
from datetime import date, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "HOCTAP_"
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class ConfigError(Exception):
    """A configuration problem, worded as one line that names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_file=".env", extra="ignore")

    bot_token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str = "https://api.telegram.org/file/bot"
    db_path: Path = Path("data/hoctap.sqlite3")
    media_dir: Path = Path("data/media")
    default_locale: Literal["vi", "en"] = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"
    draft_days: int = Field(default=30, ge=1, le=3650)
    backup_dir: Path = Path("data/backups")
    backup_keep: int = Field(default=7, ge=1)
    backup_time: time = time(2, 30)
    remind_days_before: int = Field(default=7, ge=0, le=90)
    web_base_url: str | None = None  # the Mini App's public address; unset: no web server
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    # Day and month (DD/MM) from which /dangky registers for the next programme year, once
    # this year's registration has closed.
    next_year_from: str = Field(default="01/12", pattern=r"^\d{2}/\d{2}$")

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN.match(value.get_secret_value()):
            raise ValueError("does not look like a bot token (digits, a colon, then letters)")
        return value

    @field_validator("web_base_url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError("must be an address starting with https:// (or http:// on loopback)")
        return value.rstrip("/") + "/"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("next_year_from")
    @classmethod
    def _day_and_month(cls, value: str) -> str:
        day, month = (int(part) for part in value.split("/"))
        try:
            date(2024, month, day)  # a leap year: 29/02 is a day
        except ValueError:
            raise ValueError(f"{value!r} is not a day and month written DD/MM") from None
        return value

    def next_year_opens(self, year: int) -> date:
        """The day of `year` from which registration for year + 1 is open."""
        day, month = (int(part) for part in self.next_year_from.split("/"))
        return date(year, month, min(day, 28) if month == 2 else day)

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def token(self) -> str:
        if self.bot_token is None:
            raise ConfigError(f"{ENV_PREFIX}BOT_TOKEN is not set: the bot token from @BotFather")
        return self.bot_token.get_secret_value()


def load_settings() -> Settings:
    """Read the settings, or raise ConfigError naming the first bad variable."""
    try:
        return Settings()
    except ValidationError as error:
        first = error.errors()[0]
        variable = ENV_PREFIX + str(first["loc"][0]).upper()
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{variable}: {message}") from None
