"""What the report commands share: the area they report on, long texts, the moment figures were
taken."""

from datetime import datetime

from telegram import InlineKeyboardMarkup, Update

from bot.access import allowed, refuse
from bot.context import BotContext
from bot.i18n import _
from bot.labels import area_title as area_title  # re-exported
from storage.models import Area

TELEGRAM_LIMIT = 4096


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """`text` cut into pieces of at most `limit` characters, between lines, never inside one.

    Every line is kept, in order; joining the pieces with newlines gives `text` back. Only a
    single line longer than `limit` (which no report writes) is cut, at the limit. A heading
    (a line after a blank line) that would end a piece goes to the next one, above its rows.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append("\n".join(current))
                current, size = [], 0
            pieces.append(line[:limit])
            line = line[limit:]
        extra = len(line) + (1 if current else 0)
        if current and size + extra > limit:
            heading = (
                current[-2:-1] == [""]
                and any(current[:-2])
                and len(current[-1]) + len(line) < limit
            )
            carried = [current.pop()] if heading else []
            pieces.append("\n".join(current))
            current, size = carried, len("\n".join(carried))
            extra = len(line) + (1 if current else 0)
        current.append(line)
        size += extra
    if current:
        pieces.append("\n".join(current))
    return pieces


async def send_long(
    update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """Send a text in as many messages as it needs; the keyboard goes on the last."""
    pieces = split_message(text)
    for index, piece in enumerate(pieces):
        markup = keyboard if index == len(pieces) - 1 else None
        await update.effective_message.reply_text(piece, reply_markup=markup)


def taken_at(moment: datetime) -> str:
    """Local time as dd/mm/yyyy HH:mm (`moment` is already in the programme's time zone)."""
    return f"{moment:%d/%m/%Y %H:%M}"


async def area_in_reach(
    update: Update, context: BotContext, spec: str | None, action: str
) -> tuple[bool, Area | None]:
    """The area a report command names (`01`, `00070`, `00070/Thôn Đông`), or the person's own
    area without one (None for admins: the whole country).

    (False, None) when the area is unknown (the person is told) or out of reach (refused and
    audited); (True, area) otherwise.
    """
    if not spec:
        return True, context.area
    area = await context.storage.areas.resolve(spec, context.area)
    if area is None:
        await update.effective_message.reply_text(
            _(
                "I do not know the area {spec}. Write a province code (01), a commune code "
                "(00070) or a commune code and hamlet (00070/Thôn Đông)."
            ).format(spec=spec)
        )
        return False, None
    if not allowed(context, area):
        await refuse(update, context, action, {"area": spec})
        return False, None
    return True, area


async def area_of_button(
    update: Update, context: BotContext, area_id: int, action: str
) -> tuple[bool, Area | None]:
    """The area a button names, loaded and checked again; area id 0 is the whole country."""
    area = None if area_id == 0 else await context.storage.areas.get(area_id)
    if (area_id != 0 and area is None) or not allowed(context, area):
        await refuse(update, context, action, {"area_id": area_id})
        return False, None
    return True, area


def area_button_id(area: Area | None) -> int:
    return 0 if area is None else area.id
