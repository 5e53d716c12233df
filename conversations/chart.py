"""/bieudo [area] (chart): bar charts of registered and recognised per child area, families and
clans apart, as a photo (an album of pages when there are many areas)."""

import asyncio
import threading

from telegram import InputMediaPhoto, Update
from telegram.ext import CommandHandler

from bot.chart import render_charts
from bot.context import BotContext
from bot.i18n import _, current_locale, use_locale
from conversations.report_common import area_in_reach, area_title, taken_at

ALBUM = 10
_DRAWING = threading.Lock()  # matplotlib is not thread-safe; one chart at a time


def draw(summary, locale: str) -> list[bytes]:
    with _DRAWING, use_locale(locale):
        return render_charts(summary)


async def show_chart(update: Update, context: BotContext) -> None:
    spec = " ".join(context.args or []) or None
    ok, area = await area_in_reach(update, context, spec, "chart")
    if not ok:
        return
    now = context.application.now()
    summary = await context.storage.summary.summary(area, now.year, now)
    # Drawing takes a fraction of a second of CPU: off the event loop, in this update's language.
    pictures = await asyncio.to_thread(draw, summary, current_locale())
    caption = _("{area}, {year}. Figures as of {moment}.").format(
        area=area_title(area), year=now.year, moment=taken_at(now)
    )
    if len(pictures) == 1:
        await update.message.reply_photo(photo=pictures[0], caption=caption)
        return
    for start in range(0, len(pictures), ALBUM):  # an album holds at most 10 photos
        album = [
            InputMediaPhoto(picture, caption=caption if start + index == 0 else None)
            for index, picture in enumerate(pictures[start : start + ALBUM])
        ]
        await update.message.reply_media_group(media=album)


def handlers() -> list:
    return [CommandHandler("bieudo", show_chart)]
