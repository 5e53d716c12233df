"""/thieu [area] (missing): the registered families and clans whose evidence-required indicators
still lack a photo, grouped by hamlet, with the missing indicators by name, 10 a page.

Page buttons carry the area id and the offset (`mis:page:<area id>:<offset>`, 0 for the whole
country); the area is loaded and checked again on every press.
"""

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.actions import Action
from bot.context import BotContext
from bot.i18n import _
from bot.years import years_label
from conversations.common import buttons, page_rows
from conversations.indicators import short_name
from conversations.report_common import (
    area_button_id,
    area_in_reach,
    area_of_button,
    area_title,
)
from storage.models import Area
from storage.summary import Missing

PAGE = Action("thieu", "mis:page:{area_id}:{offset}", area_id=int, offset=int)
PAGE_SIZE = 10


def render_missing(
    area: Area | None,
    year: int | str,
    found: list[Missing],
    offset: int,
    total: int,
    names: dict[str, str] | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """`names`: indicator short names by '<criteria set id> <code>', shown instead of codes."""
    names = names or {}
    title = area_title(area)
    if total == 0:
        text = _(
            "{year}, {area}: every registered family and clan has evidence for all "
            "required indicators."
        ).format(year=year, area=title)
        return text, buttons([])
    lines = [
        _(
            "{year}, {area}: registrations missing required evidence, {first}–{last} of {total}:"
        ).format(year=year, area=title, first=offset + 1, last=offset + len(found), total=total)
    ]
    hamlet = None
    for item in found:
        if item.registration.hamlet_id != hamlet:
            hamlet = item.registration.hamlet_id
            lines += ["", f"🏠 {item.hamlet_name}"]
        lines.append(
            _("{number} · {name}: missing {codes}").format(
                number=item.registration.number,
                name=item.registration.name,
                codes="; ".join(
                    names.get(f"{item.registration.criteria_set_id} {code}", code)
                    for code in item.codes
                ),
            )
        )
    area_id = area_button_id(area)
    navigation = page_rows(
        offset, total, PAGE_SIZE, lambda at: PAGE.data(area_id=area_id, offset=at)
    )
    return "\n".join(lines), buttons(navigation)


async def page(context: BotContext, area: Area | None, offset: int):
    years = await context.open_years(area)
    found, total = await context.storage.summary.missing(area, years, offset, PAGE_SIZE)
    names = {}
    for item in found:
        set_id = item.registration.criteria_set_id
        stored = await context.storage.criteria.get(set_id)
        for indicator in stored.criteria_set.all_indicators() if stored else []:
            names[f"{set_id} {indicator.code}"] = short_name(indicator)
    return render_missing(area, years_label(years), found, offset, total, names)


async def show_missing(update: Update, context: BotContext) -> None:
    spec = " ".join(context.args or []) or None
    ok, area = await area_in_reach(update, context, spec, "missing")
    if not ok:
        return
    text, keyboard = await page(context, area, 0)
    await update.message.reply_text(text, reply_markup=keyboard)


async def page_pressed(update: Update, context: BotContext) -> None:
    area_id, offset = context.pressed
    ok, area = await area_of_button(update, context, area_id, "missing")
    if not ok:
        return
    await update.callback_query.answer()
    text, keyboard = await page(context, area, offset)
    await update.callback_query.edit_message_text(text, reply_markup=keyboard)


def handlers() -> list:
    return [
        CommandHandler("thieu", show_missing),
        PAGE.handler(page_pressed),
    ]
