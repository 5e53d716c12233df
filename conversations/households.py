"""/soho <hamlet> [count] (households): show or set a hamlet's number of households, the
denominator of the rate of households recognised as learning families.

`/soho 00070/Thôn Đông 120` sets it, `/soho 00070/Thôn Đông` shows it, and the word `chưa rõ`
(or `unknown`) instead of a number makes it unknown again. Staff in their area, admins
everywhere; the change and its audit entry are one transaction.
"""

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotContext
from bot.hamlet_import import households_of
from bot.i18n import _
from conversations.report_common import area_in_reach
from storage.models import Area, AreaLevel
from storage.text import nfc, search_key

UNKNOWN_WORDS = frozenset({"chua ro", "unknown"})


def parse(text: str) -> tuple[str, str | None]:
    """(hamlet spec, count word or None) from what follows /soho."""
    key = search_key(text)
    for word in UNKNOWN_WORDS:
        if key.endswith(" " + word):
            return text[: len(text) - len(word)].strip(), "unknown"
    spec, _, last = text.rpartition(" ")
    if spec and last.strip().lstrip("-").isdigit():
        return spec.strip(), last.strip()
    return text.strip(), None


def render_households(hamlet: Area, count: int | None) -> str:
    if count is None:
        return _("{hamlet}: the number of households is not known yet.").format(hamlet=hamlet.name)
    return _("{hamlet}: {count} households.").format(hamlet=hamlet.name, count=count)


async def households(update: Update, context: BotContext) -> None:
    text = nfc(" ".join(context.args or []))
    spec, word = parse(text)
    if word not in (None, "unknown") and await context.storage.areas.resolve(text, context.area):
        spec, word = text, None  # a hamlet named with a number, "00070/Thôn 5": shown
    usage = _(
        "Send /soho with a hamlet and its number of households, e.g. "
        "/soho 00070/Thôn Đông 120 (or chưa rõ to clear it)."
    )
    if not spec:
        await update.message.reply_text(usage)
        return
    ok, hamlet = await area_in_reach(update, context, spec, "households")
    if not ok:
        return
    if hamlet is None or hamlet.level is not AreaLevel.HAMLET:
        await update.message.reply_text(usage)
        return
    if word is not None:
        try:
            count = None if word == "unknown" else households_of(word)
        except ValueError:
            await update.message.reply_text(usage)
            return
        await context.storage.households.change(hamlet, count, context.person)
    current = await context.storage.households.of(hamlet)
    await update.message.reply_text(render_households(hamlet, current))


def handlers() -> list:
    return [CommandHandler("soho", households)]
