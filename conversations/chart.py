"""/bieudo [area] (chart): a bar chart of registered and recognised per child area, as a photo."""

import asyncio
import threading

from telegram import Update
from telegram.ext import CommandHandler

from bot.chart import render_chart
from bot.context import BotContext
from bot.i18n import _, current_locale, use_locale
from conversations.report_common import area_in_reach, area_title, taken_at

_DRAWING = threading.Lock()  # matplotlib is not thread-safe; one chart at a time


def draw(summary, locale: str) -> bytes:
    with _DRAWING, use_locale(locale):
        return render_chart(summary)


async def show_chart(update: Update, context: BotContext) -> None:
    spec = " ".join(context.args or []) or None
    ok, area = await area_in_reach(update, context, spec, "chart")
    if not ok:
        return
    now = context.application.now()
    summary = await context.storage.summary.summary(area, now.year, now)
    # Drawing takes a fraction of a second of CPU: off the event loop, in this update's language.
    picture = await asyncio.to_thread(draw, summary, current_locale())
    caption = _("{area}, {year}. Figures as of {moment}.").format(
        area=area_title(area), year=now.year, moment=taken_at(now)
    )
    await update.message.reply_photo(photo=picture, caption=caption)


def handlers() -> list:
    return [CommandHandler("bieudo", show_chart)]
