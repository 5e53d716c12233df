"""One message per screen: edit a dialog's screen in place, or shorten it once it is answered."""

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest
from telegram.ext import ExtBot


def harmless(error: BadRequest) -> bool:
    """Telegram's answer to an edit that changes nothing, or of a message no longer there."""
    text = str(error).lower()
    return "not modified" in text or "not found" in text or "can't be edited" in text


async def edit_screen(message: Message, text: str, keyboard: InlineKeyboardMarkup | None) -> None:
    """Show `text` and `keyboard` on the screen `message` (the same again is no error)."""
    try:
        await message.edit_text(text, reply_markup=keyboard)
    except BadRequest as error:
        if not harmless(error):
            raise


async def close_screen(bot: ExtBot, chat_id: int, message_id: int, done: str | None) -> None:
    """An answered screen: shortened to the one line `done`, or only its buttons taken away."""
    try:
        if done:
            await bot.edit_message_text(done, chat_id=chat_id, message_id=message_id)
        else:
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id)
    except BadRequest as error:
        if not harmless(error):
            raise
