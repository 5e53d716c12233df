"""/tongket [area] (summary): per child area and model kind, how many are registered, have
complete evidence, are assessed, recognised and not recognised, with shares of the registered.

`/tongket` reports on the person's own area (the provinces for an administrator), `/tongket
00070` on a sub-area in reach, and a 4-digit year before or after the area (`/tongket 2027`, as
in /xuat) on that year instead of the current one; the buttons under the table open a child area
(`sum:area:<area id>`, with `:<year>` for another year), which is loaded and checked again.
The figures' definitions are in `storage.summary`.
"""

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update, WebAppInfo
from telegram.ext import CommandHandler

from bot.actions import Action, digits
from bot.context import BotContext
from bot.i18n import _, format_number, format_share
from bot.menus import set_dashboard_button
from conversations.common import buttons
from conversations.registration_form import kind_label
from conversations.report_common import (
    area_button_id,
    area_in_reach,
    area_of_button,
    area_title,
    send_long,
    taken_at,
)
from storage.models import Area, AreaLevel
from storage.summary import KINDS, Counts, Summary

AREA = Action("tongket", "sum:area:{area_id}", area_id=int)
AREA_IN_YEAR = Action("tongket", "sum:area:{area_id}:{year}", area_id=int, year=digits(4))
MAX_BUTTONS = 60
YEAR = re.compile(r"^\d{4}$")


def render_counts(name: str, counts: Counts) -> str:
    whole = counts.registered
    return _(
        "{area}: {registered} registered · {complete} evidence complete ({complete_share}) · "
        "{assessed} assessed ({assessed_share}) · {recognised} recognised ({recognised_share}) · "
        "{not_recognised} not recognised ({not_recognised_share})"
    ).format(
        area=name,
        registered=format_number(whole),
        complete=format_number(counts.evidence_complete),
        complete_share=format_share(counts.evidence_complete, whole),
        assessed=format_number(counts.assessed),
        assessed_share=format_share(counts.assessed, whole),
        recognised=format_number(counts.recognised),
        recognised_share=format_share(counts.recognised, whole),
        not_recognised=format_number(counts.not_recognised),
        not_recognised_share=format_share(counts.not_recognised, whole),
    )


def dashboard_url(base_url: str, area: Area | None) -> str:
    """The Mini App opening on `area` (0: the whole country)."""
    return f"{base_url}?area={area_button_id(area)}"


def render_summary(
    summary: Summary, web_base_url: str | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The table, buttons to open child areas, and with the dashboard configured (a base
    URL), a button opening it on the same area."""
    lines = [
        _("Summary of {year}: {area}").format(year=summary.year, area=area_title(summary.area)),
        _("Figures as of {moment}").format(moment=taken_at(summary.taken_at)),
    ]
    for kind in KINDS:
        lines += ["", kind_label(kind)]
        lines += [render_counts(row.area.name, row.of(kind)) for row in summary.rows]
        lines.append(render_counts(_("Total"), summary.total(kind)))
    rows = []
    if summary.area is None or summary.area.level is AreaLevel.PROVINCE:
        busy = [row.area for row in summary.rows if row.both.registered][:MAX_BUTTONS]
        choices = [
            AREA_IN_YEAR.button(area.name, area_id=area.id, year=summary.year)
            if summary.year != summary.taken_at.year
            else AREA.button(area.name, area_id=area.id)
            for area in busy
        ]
        rows = [choices[i : i + 2] for i in range(0, len(choices), 2)]
    keyboard = buttons(rows)
    if web_base_url:
        url = dashboard_url(web_base_url, summary.area)
        opener = InlineKeyboardButton(_("📊 Open the dashboard"), web_app=WebAppInfo(url))
        keyboard = InlineKeyboardMarkup([[opener], *keyboard.inline_keyboard])
    return "\n".join(lines), keyboard


async def summary_of(context: BotContext, area: Area | None, year: int | None = None) -> Summary:
    now = context.application.now()
    return await context.storage.summary.summary(area, year or now.year, now)


def year_and_area(args: list[str]) -> tuple[int | None, str | None]:
    """A 4-digit year first or last among the words after /tongket, and the area spec."""
    words, year = list(args), None
    for index in (-1, 0):
        if words and YEAR.match(words[index]):
            year = int(words.pop(index))
            break
    return year, " ".join(words) or None


async def show_summary(update: Update, context: BotContext) -> None:
    year, spec = year_and_area(context.args or [])
    ok, area = await area_in_reach(update, context, spec, "summary")
    if not ok:
        return
    web_base_url = context.settings.web_base_url
    text, keyboard = render_summary(await summary_of(context, area, year), web_base_url)
    await send_long(update, text, keyboard)
    await set_dashboard_button(context.bot, context.person, web_base_url)


async def area_pressed(update: Update, context: BotContext) -> None:
    area_id, year = context.pressed.area_id, getattr(context.pressed, "year", None)
    ok, area = await area_of_button(update, context, area_id, "summary")
    if not ok:
        return
    await update.callback_query.answer()
    summary = await summary_of(context, area, int(year) if year else None)
    text, keyboard = render_summary(summary, context.settings.web_base_url)
    await send_long(update, text, keyboard)


def handlers() -> list:
    return [
        CommandHandler("tongket", show_summary),
        AREA.handler(area_pressed),
        AREA_IN_YEAR.handler(area_pressed),
    ]
