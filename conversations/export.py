"""/xuat [area] [year] [csv] (export): the area's year as an XLSX workbook, or with `csv` as a
zip of one CSV per sheet, sent as a document. `python -m bot export` makes the same file.

The arguments may come in any order around the area: a 4-digit year and the word `csv` (or
`xlsx`) are recognised at either end, and what remains is the area (`01`, `00070`,
`00070/Thôn Đông`). Without an area, the person's own (the whole country for admins).
"""

import re

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotContext
from bot.export import Format, export_off_loop
from bot.i18n import _
from conversations.report_common import area_in_reach, area_title, taken_at

YEAR = re.compile(r"^(19|20|21)\d\d$")
MAX_DOCUMENT = 50 * 1024 * 1024  # what the Bot API accepts from a bot


def parse_arguments(args: list[str], default_year: int) -> tuple[str | None, int, Format]:
    """(area spec or None, year, format) from the words after /xuat."""
    words = list(args)
    year, fmt = default_year, Format.XLSX
    changed = True
    while words and changed:
        changed = False
        for index in (-1, 0):
            if not words:
                break
            word = words[index].lower()
            if word in (Format.CSV, Format.XLSX):
                fmt = Format(word)
            elif YEAR.match(word):
                year = int(word)
            else:
                continue
            words.pop(index)
            changed = True
    return (" ".join(words) or None), year, fmt


async def export_area(update: Update, context: BotContext) -> None:
    now = context.application.now()
    spec, year, fmt = parse_arguments(context.args or [], now.year)
    ok, area = await area_in_reach(update, context, spec, "export")
    if not ok:
        return
    data, name = await export_off_loop(
        context.settings.db_path, area, year, fmt, now, context.person.locale
    )
    if len(data) > MAX_DOCUMENT:
        await update.message.reply_text(
            _(
                "The file is larger than Telegram allows (50 MB). Please export a smaller area, "
                "or ask an administrator to run: python -m bot export"
            )
        )
        return
    caption = _("{area}, {year}. Figures as of {moment}.").format(
        area=area_title(area), year=year, moment=taken_at(now)
    )
    await update.message.reply_document(document=data, filename=name, caption=caption)


def handlers() -> list:
    return [CommandHandler("xuat", export_area)]
