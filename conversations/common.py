"""Small pieces every dialog uses: progress, button rows, closing a question once answered."""

from collections.abc import Callable, Sequence

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import _
from storage.models import Area


def step(k: int, n: int, question: str) -> str:
    """A question headed by its place in the dialog: 'Bước 2/4'."""
    return _("Step {k}/{n}").format(k=k, n=n) + "\n" + question


def buttons(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def page_rows(offset: int, total: int, size: int, data: Callable[[int], str]) -> list[list]:
    """The Previous/Next row of a list shown `size` at a time from `offset` (no row when it all
    fits); `data(offset)` is the callback data that shows the page starting there."""
    row = []
    if offset > 0:
        row.append((_("⬅️ Previous"), data(max(offset - size, 0))))
    if offset + size < total:
        row.append((_("Next ➡️"), data(offset + size)))
    return [row] if row else []


async def close_question(query: CallbackQuery, chosen: str | None = None) -> None:
    """Answer a button press and take the buttons away, noting the choice under the question."""
    await query.answer()
    text = query.message.text or ""
    if chosen:
        await query.edit_message_text(f"{text}\n➡️ {chosen}")
    else:
        await query.edit_message_reply_markup(None)


def area_path(lineage: Sequence[Area]) -> str:
    """'Thôn Đông, Phường Hoàn Kiếm, Thành phố Hà Nội'."""
    return ", ".join(area.name for area in lineage)


async def still_allowed(update, context, command_name: str, key: str) -> dict | int | None:
    """What a dialog stored under `key` while it waits for typed text, if the person may
    still use `command_name`; otherwise the question is closed, they are told, and None.

    The gate checks roles on commands and buttons; an answer typed into an open dialog is
    neither, so a person whose role changed meanwhile must be stopped here.
    """
    from bot.commands import command

    current = context.user_data.get(key)
    if current is not None and context.person.role in command(command_name).roles:
        return current
    context.user_data.pop(key, None)
    await update.message.reply_text(
        _("This question is closed (your role may have changed). Nothing was saved.")
    )
    return None
