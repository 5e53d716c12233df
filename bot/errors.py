"""The global error handler, and a log filter that keeps secrets out of the logs."""

import logging
import re

from telegram import Update
from telegram.error import BadRequest, TelegramError

from bot.context import BotContext
from bot.i18n import _

log = logging.getLogger(__name__)

# Anything written like a Vietnamese phone number: 0912345678, +84 912 345 678, 0912-345-678,
# (091) 234-5678, +84 (91) 234.5678; separators are spaces, dots, dashes and brackets.
_PHONE = re.compile(r"(?<![\w+])(?:\+?\(?84\)?|\(?0)(?:[ .\-()]{0,2}\d){9,10}(?!\d)")


# python-telegram-bot logs a batch it cannot parse in full: names, phones, messages.
PTB_RAW_UPDATES = "Error while parsing updates!"

_secrets: set[str] = set()
_factory_installed = False


def redact(text: str) -> str:
    """`text` with the registered secrets and anything like a phone number blanked out."""
    for secret in _secrets:
        text = text.replace(secret, "<token>")
    return _PHONE.sub("<phone>", text)


def install_redaction(token: str | None) -> None:
    """Redact every log record as it is made, whichever handler later writes it.

    A filter on our own handler (RedactingFilter) misses the handlers others attach to the
    root logger: pytest's, a journald or Sentry handler. The record factory runs once per
    record that passes the level check, before any handler sees it. Installed once per
    process; each call adds its token.
    """
    global _factory_installed
    if token:
        _secrets.add(token)
    if _factory_installed:
        return
    make = logging.getLogRecordFactory()

    def redacting_factory(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if isinstance(record.msg, str) and record.msg.startswith(PTB_RAW_UPDATES):
            record.msg, record.args = PTB_RAW_UPDATES + " (their content is not logged)", None
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: leave it to the handler to report
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(redacting_factory)
    _factory_installed = True


class RedactingFilter(logging.Filter):
    """Blank the bot token and phone numbers out of every log record."""

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token:
            message = message.replace(self.token, "<token>")
        record.msg, record.args = _PHONE.sub("<phone>", message), None
        if record.exc_info and self.token:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = record.exc_text.replace(self.token, "<token>")
        return True


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure with the update id; tell the person nothing they entered was lost.

    A press whose data no declared button reads never gets here: the gate refuses it
    (bot.actions), so a failure on a press is our failure like any other.
    """
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(context.error, BadRequest) and "not modified" in context.error.message:
        # A second tap on a button whose message the first tap already changed: done already.
        log.info("update %s: message not modified (a repeated press)", update_id)
        return
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return  # nothing is ever said in a group (see bot.private)
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            _(
                "Sorry, something went wrong on our side. Nothing you entered was lost: "
                "please try again in a moment."
            ),
        )
    except TelegramError:
        log.warning("could not tell chat about the failure of update %s", update_id)
