"""/namhoc (programme year): a province's dates for this year, and changing them (admins only).

`/namhoc 01` shows the dates of province 01; `/namhoc` alone asks for the province code. Each
date has a button; the admin then types the new date as dd/mm/yyyy. `/namhoc 01 2027`, or a
button from 1 December (`HOCTAP_NEXT_YEAR_FROM`), shows next year's, whose registration then opens.
"""

import re
from datetime import date

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import allowed, refuse
from bot.actions import Action, digits
from bot.context import BotContext
from bot.i18n import _
from bot.i18n import __ as _l
from conversations.common import buttons
from conversations.kit import cancel_handler, dialog
from conversations.states import ProgrammeYearStep
from storage.models import Area, AreaLevel
from storage.registrations import ProgrammeYear
from storage.text import nfc
from storage.usecases.programme_year import set_date

DRAFT = "programme_year"  # user_data: {"province": code, "year": year, "date": which}
# Which date a button changes: its short name in callback data, and the ProgrammeYear field.
DATES = {"close": "registration_close", "lock": "evaluation_lock", "recog": "recognition"}
ANSWER = filters.UpdateType.MESSAGE & ~filters.COMMAND  # text, or a photo sent instead: asked again
CHANGE = Action(
    "namhoc", "pyr:set:{code}:{year}:{which}", code=digits(2), year=digits(4), which=tuple(DATES)
)
YEAR = Action("namhoc", "pyr:year:{code}:{year}", code=digits(2), year=digits(4))
_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def parse_local_date(text: str) -> date | None:
    """A date typed as dd/mm/yyyy (also with . or -), or None."""
    match = _DATE.match(nfc(text).replace(" ", ""))
    if not match:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def date_name(which: str) -> str:
    return {
        "close": _("registration close"),
        "lock": _("evaluation lock"),
        "recog": _("recognition"),
    }[which]


def render_dates(
    province: Area, dates: ProgrammeYear, other_year: int | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The dates with a button to change each, and one to the dates of `other_year`."""
    text = _(
        "Programme year {year} in {province} ({code}):\n"
        "Registration closes: {close:%d/%m/%Y}\n"
        "Evaluation lock (registrations can be changed until this day): {lock:%d/%m/%Y}\n"
        "Recognition: {recognition:%d/%m/%Y}"
    ).format(
        year=dates.year,
        province=province.name,
        code=province.code,
        close=dates.registration_close,
        lock=dates.evaluation_lock,
        recognition=dates.recognition,
    )
    rows = [
        [
            CHANGE.button(
                _("Change: {date}").format(date=date_name(which)),
                code=province.code,
                year=dates.year,
                which=which,
            )
        ]
        for which in DATES
    ]
    if other_year is not None:
        label = _("📅 Programme year {year}").format(year=other_year)
        rows.append([YEAR.button(label, code=province.code, year=other_year)])
    return text, buttons(rows)


def render_problem(problem: str, dates: ProgrammeYear) -> str:
    if problem == "year":
        return _("Please type a date in {year}, as dd/mm/yyyy.").format(year=dates.year)
    return _(
        "The dates must stay in order: registration closes on or before the evaluation lock, "
        "and the evaluation lock is on or before recognition. With that date they would be "
        "{close:%d/%m/%Y}, {lock:%d/%m/%Y}, {recognition:%d/%m/%Y}. Please type another date."
    ).format(
        close=dates.registration_close, lock=dates.evaluation_lock, recognition=dates.recognition
    )


async def province_of(update: Update, context: BotContext, code: str) -> Area | None:
    """The province with this code, if it exists and is in reach; says why not otherwise."""
    province = await context.storage.areas.by_code(nfc(code))
    if province is None or province.level is not AreaLevel.PROVINCE:
        await update.effective_message.reply_text(
            _("I do not know that province code. Please type its two digits, for example 01.")
        )
        return None
    if not allowed(context, province):
        await refuse(update, context, "programme_year", {"province_code": province.code})
        return None
    return province


def other_year(context: BotContext, year: int) -> int | None:
    """From the next-year date, the current and the next year lead to each other."""
    today = context.application.today()
    if today < context.settings.next_year_opens(today.year):
        return None
    return today.year + 1 if year == today.year else today.year


async def show_dates(
    update: Update, context: BotContext, province: Area, year: int | None = None
) -> None:
    year = year or context.application.today().year
    dates = await context.storage.registrations.programme_year(province.code, year)
    text, keyboard = render_dates(province, dates, other_year(context, year))
    await update.effective_message.reply_text(text, reply_markup=keyboard)


def year_asked(context: BotContext, text: str) -> int | None:
    """The year typed after the province: this year or the next, else None."""
    this = context.application.today().year
    return int(text) if text in (str(this), str(this + 1)) else None


async def begin(update: Update, context: BotContext) -> str | int:
    context.user_data.pop(DRAFT, None)
    if context.args:
        province = await province_of(update, context, context.args[0])
        if province is None:
            return ProgrammeYearStep.PROVINCE
        year = year_asked(context, context.args[1]) if len(context.args) > 1 else None
        if len(context.args) > 1 and year is None:
            this = context.application.today().year
            await update.message.reply_text(
                _(
                    "Dates can be shown for {this} or {next}, for example /namhoc {code} {next}."
                ).format(this=this, next=this + 1, code=province.code)
            )
            return ConversationHandler.END
        await show_dates(update, context, province, year)
        return ConversationHandler.END
    await update.message.reply_text(
        _("Which province? Please type its code, for example 01 for Hà Nội.")
    )
    return ProgrammeYearStep.PROVINCE


async def province_typed(update: Update, context: BotContext) -> int | None:
    province = await province_of(update, context, update.message.text or "")  # a photo: none
    if province is None:
        return None
    await show_dates(update, context, province)
    return ConversationHandler.END


async def change_pressed(update: Update, context: BotContext) -> str | None:
    query = update.callback_query
    code, year, which = context.pressed
    province = await context.storage.areas.by_code(code)
    if province is None or province.level is not AreaLevel.PROVINCE:
        await refuse(update, context, "programme_year", {"province_code": code})
        return None
    if not allowed(context, province):
        await refuse(update, context, "programme_year", {"province_code": code})
        return None
    await query.answer()
    context.user_data[DRAFT] = {"province": code, "year": int(year), "date": which}
    await update.effective_message.reply_text(
        _(
            "New date for “{what}” in {year}? Please type it as dd/mm/yyyy, for example "
            "15/11/{year}. Send /huy to cancel."
        ).format(what=date_name(which), year=year)
    )
    return ProgrammeYearStep.DATE


async def date_typed(update: Update, context: BotContext) -> int | None:
    draft = context.user_data.get(DRAFT)
    if not draft:
        return ConversationHandler.END
    province = await province_of(update, context, draft["province"])
    if province is None:
        context.user_data.pop(DRAFT, None)
        return ConversationHandler.END
    year = draft["year"]
    typed = parse_local_date(update.message.text or "")  # a photo or sticker: no date
    if typed is None:
        await update.message.reply_text(
            _(
                "Sorry, that is not a date I can read. Please type it as dd/mm/yyyy, for example "
                "15/11/{year}."
            ).format(year=year)
        )
        return None
    field = DATES[draft["date"]]
    changed = await set_date(context.storage, context.person, province, year, field, typed)
    if changed.problem:
        await update.message.reply_text(render_problem(changed.problem, changed.dates))
        return None
    context.user_data.pop(DRAFT, None)
    await update.message.reply_text(_("Saved."))
    text, keyboard = render_dates(province, changed.dates)
    await update.message.reply_text(text, reply_markup=keyboard)
    return ConversationHandler.END


async def year_pressed(update: Update, context: BotContext) -> None:
    code, year = context.pressed
    province = await context.storage.areas.by_code(code)
    if province is None or province.level is not AreaLevel.PROVINCE:
        await refuse(update, context, "programme_year", {"province_code": code})
        return
    if not allowed(context, province) or year_asked(context, year) is None:
        await refuse(update, context, "programme_year", {"province_code": code})
        return
    await update.callback_query.answer()
    await show_dates(update, context, province, int(year))


def handlers() -> list:
    return [
        dialog(
            "programme_year",
            entry_points=[
                CommandHandler("namhoc", begin),
                CHANGE.handler(change_pressed),
            ],
            states={
                ProgrammeYearStep.PROVINCE: [MessageHandler(ANSWER, province_typed)],
                ProgrammeYearStep.DATE: [MessageHandler(ANSWER, date_typed)],
            },
            cancel=cancel_handler(_l("Cancelled. Nothing was changed."), [DRAFT]),
        ),
        YEAR.handler(year_pressed),
    ]
