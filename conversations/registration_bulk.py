"""Registering many at once: a list of families or of clans pasted or sent as a file, or last
year's families and clans carried over. Opened by the "bulk:list" and "bulk:carry" buttons of
/dangky, or by /nhapds.

One screen, edited in place as the person taps; after a typed list or a file, the screen is
sent anew below it and the one above is shortened to a one-line record. What the person has
entered is kept in SQLite (`bulk_drafts`), so an interruption loses nothing. Buttons carry the
draft's id (`bulk:<draft>:<action>[:<value>]`): a press on an older screen changes nothing, and
every press is checked against the person's hamlet again.
"""

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import allowed, refuse
from bot.actions import Action
from bot.context import BotContext
from bot.i18n import _, ngettext
from bot.i18n import __ as _l
from bot.years import RegistrationYear, closed_for, registration_year
from conversations import family_list
from conversations.actions import BULK_MODE
from conversations.common import buttons
from conversations.family_list import FileProblem, ListCheck, Row, Source
from conversations.kit import cancel_handler, dialog
from conversations.screen import close_screen
from conversations.states import RegistrationBulkStep as State
from storage.criteria import ModelKind
from storage.models import Area, AreaLevel, Role
from storage.registrations import (
    BulkDraft,
    BulkMode,
    NewRegistration,
    Registration,
    display_name,
    identity_name,
)
from storage.text import search_key
from storage.usecases.drafts import LIST_DISCARDED
from storage.usecases.registrations import register_list

COMMAND = "nhapds"
CARRY_PAGE = 10  # last year's families per page
HAMLET_PAGE = 8
MAX_TEXT = 3800  # a screen stays under Telegram's 4096 characters
STALE = _l("This button is no longer valid. Please start again from the command.")
# The buttons of a draft, which they name: a press on another's or an older draft finds nothing.
DRAFT_PRESS = Action(
    "nhapds", "bulk:{draft_id}:{verb}", draft_id=int, verb=("tpl", "dup", "clear", "ok", "x")
)
DRAFT_PICK = Action(
    "nhapds", "bulk:{draft_id}:{verb}:{value}", draft_id=int, verb=("h", "hp", "t", "p"), value=int
)
# A list of families or of clans: the list's lines are read again as the kind tapped.
DRAFT_KIND = Action(
    "nhapds", "bulk:{draft_id}:{verb}:{kind}", draft_id=int, verb=("k",), kind=ModelKind
)


def render_menu() -> tuple[str, InlineKeyboardMarkup]:
    text = _("Register many families or clans at once:")
    return text, buttons(
        [
            [BULK_MODE.button(_("📋 Enter a list"), mode=BulkMode.LIST)],
            [BULK_MODE.button(_("🔁 Register again from last year"), mode=BulkMode.CARRY)],
        ]
    )


def render_hamlet_choice(
    draft: BulkDraft, hamlets: Sequence[Area], page: int
) -> tuple[str, InlineKeyboardMarkup]:
    text = _("For which hamlet? Pick one, or type it as commune code/hamlet, e.g. 00070/Thôn Đông.")
    shown = hamlets[page * HAMLET_PAGE : (page + 1) * HAMLET_PAGE]
    rows = [[DRAFT_PICK.button(h.name, draft_id=draft.id, verb="h", value=h.id)] for h in shown]
    rows.append(pager(draft, "hp", page, pages_of(len(hamlets), HAMLET_PAGE)))
    rows.append([DRAFT_PRESS.button(_("✖️ Cancel"), draft_id=draft.id, verb="x")])
    return text, buttons([row for row in rows if row])


def pages_of(count: int, size: int) -> int:
    return max(1, -(-count // size))


def pager(draft: BulkDraft, action: str, page: int, pages: int) -> list[tuple[str, str]]:
    if pages == 1:
        return []
    row = []
    if page > 0:
        row.append(DRAFT_PICK.button("◀️", draft_id=draft.id, verb=action, value=page - 1))
    row.append(DRAFT_PICK.button(f"{page + 1}/{pages}", draft_id=draft.id, verb=action, value=page))
    if page < pages - 1:
        row.append(DRAFT_PICK.button("▶️", draft_id=draft.id, verb=action, value=page + 1))
    return row


def list_kind(draft: BulkDraft) -> ModelKind:
    """What the list is of: families unless the person tapped Clans."""
    return ModelKind(draft.body.get("kind", ModelKind.FAMILY.value))


def list_title(hamlet: Area, year: int, kind: ModelKind) -> str:
    if kind is ModelKind.CLAN:
        return _("📋 List of clans, {hamlet}, {year}").format(hamlet=hamlet.name, year=year)
    return _("📋 List of families, {hamlet}, {year}").format(hamlet=hamlet.name, year=year)


def kind_row(draft: BulkDraft) -> list[tuple[str, str]]:
    """Families or clans, the one the list is read as marked."""
    chosen = list_kind(draft)
    return [
        DRAFT_KIND.button(
            ("🔘 " if kind is chosen else "⚪ ") + label, draft_id=draft.id, verb="k", kind=kind
        )
        for kind, label in ((ModelKind.FAMILY, _("Families")), (ModelKind.CLAN, _("Clans")))
    ]


def render_list_prompt(draft: BulkDraft, hamlet: Area) -> tuple[str, InlineKeyboardMarkup]:
    kind = list_kind(draft)
    if kind is ModelKind.CLAN:
        how = _(
            "Paste the list here, one clan a line: the clan's name, the full name of the clan "
            "head, then if you know them the number of households and the branch. For "
            "example:\nHọ Nguyễn, Nguyễn Văn An, 12\nHọ Lê, Lê Văn Bình"
        )
    else:
        how = _(
            "Paste the list here, one family a line: the full name of the head of "
            "household, then if you know them the number of people and of children of "
            "school age. For example:\nTrần Văn Bình, 5, 2\nLê Thị Hoa"
        )
    text = "\n".join(
        (
            list_title(hamlet, draft.year, kind),
            how,
            _(
                "Separate the parts with , or ; or a tab or -. A long list may come in several "
                "messages."
            ),
            _("Or tap “Excel template”, fill it in and send the file back here (.xlsx or .csv)."),
            _("A list of families or of clans? Tap one below."),
        )
    )
    return text, buttons(
        [
            kind_row(draft),
            [DRAFT_PRESS.button(_("📥 Excel template"), draft_id=draft.id, verb="tpl")],
            [DRAFT_PRESS.button(_("✖️ Cancel"), draft_id=draft.id, verb="x")],
        ]
    )


def row_label(row: Row) -> str:
    if row.source is Source.FILE:
        return _("row {n}").format(n=row.number)
    return _("line {n}").format(n=row.number)


def short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(lines: list[str], budget: int) -> list[str]:
    """As many of `lines` as fit in `budget` characters, then a line saying how many more."""
    kept, used = [], 0
    for index, line in enumerate(lines):
        if used + len(line) + 1 > budget:
            more = len(lines) - index
            kept.append(_("… and {n} more").format(n=more))
            break
        kept.append(line)
        used += len(line) + 1
    return kept


def render_check(
    draft: BulkDraft, hamlet: Area, check: ListCheck
) -> tuple[str, InlineKeyboardMarkup]:
    """What a list would register, and what it would not and why: one screen."""
    with_duplicates, kind = draft.body.get("with_duplicates", False), list_kind(draft)
    clans = kind is ModelKind.CLAN
    lines = [
        list_title(hamlet, draft.year, kind),
        _("Lines read: {n}").format(n=check.read),
        (_("✅ Clans ready to register: {n}") if clans else _("✅ Ready to register: {n}")).format(
            n=len(check.ready)
        ),
    ]
    if check.duplicates:
        same = (
            _(
                "⚠️ Same name as a clan already registered this year: {n}. Not registered "
                "unless you tap “Also register these”:"
            )
            if clans
            else _(
                "⚠️ Same name as a family already registered this year: {n}. Not registered "
                "unless you tap “Also register these”:"
            )
        )
        lines.append(same.format(n=len(check.duplicates)))
        lines += fit([duplicate_line(*item) for item in check.duplicates], MAX_TEXT // 3)
    if check.bad:
        lines.append(_("❌ Cannot be used: {n}").format(n=len(check.bad)))
        lines += fit(
            [
                f"• {row_label(row)}: «{short(row.text)}»: {family_list.problem_text(problem)}"
                for row, problem in check.bad
            ],
            MAX_TEXT // 3,
        )
    lines.append(
        _("Send more lines if the list goes on, or a corrected file (it replaces the list).")
    )
    count = len(check.ready) + (len(check.duplicates) if with_duplicates else 0)
    rows = []
    if count:
        if clans:
            label = ngettext("✅ Register {n} clan", "✅ Register {n} clans", count)
        else:
            label = ngettext("✅ Register {n} family", "✅ Register {n} families", count)
        rows.append([DRAFT_PRESS.button(label.format(n=count), draft_id=draft.id, verb="ok")])
    if check.duplicates:
        tick = "☑️" if with_duplicates else "⬜"
        rows.append(
            [
                DRAFT_PRESS.button(
                    f"{tick} " + _("Also register these"), draft_id=draft.id, verb="dup"
                )
            ]
        )
    rows.append(kind_row(draft))
    rows.append([DRAFT_PRESS.button(_("🗑 Start the list again"), draft_id=draft.id, verb="clear")])
    rows.append([DRAFT_PRESS.button(_("✖️ Cancel"), draft_id=draft.id, verb="x")])
    return "\n".join(lines), buttons(rows)


def duplicate_line(row: Row, found: NewRegistration, earlier: Registration | Row) -> str:
    if isinstance(earlier, Row):
        same = _("same as {label}").format(label=row_label(earlier))
    else:
        same = _("already registered as {number}").format(number=earlier.number)
    return f"• {row_label(row)}: {display_name(found.kind, found.model_dump())}, {same}"


def carry_title(hamlet: Area, year: int) -> str:
    return _("🔁 Register again from {year}, {hamlet}").format(year=year - 1, hamlet=hamlet.name)


def render_carry(
    draft: BulkDraft,
    hamlet: Area,
    candidates: list[Registration],
    taken: set[int],
) -> tuple[str, InlineKeyboardMarkup]:
    """Last year's families and clans, ticked unless unticked, one page at a time.

    `taken`: those whose name is already registered this year, marked ⚠️.
    """
    unticked = set(draft.body.get("unticked", []))
    pages = pages_of(len(candidates), CARRY_PAGE)
    page = min(draft.body.get("page", 0), pages - 1)
    ticked = sum(1 for c in candidates if c.id not in unticked)
    text = "\n".join(
        (
            carry_title(hamlet, draft.year),
            _(
                "{total} families and clans were registered in {year}; {ticked} are ticked. "
                "Untick those who moved away or stopped, then confirm. Their details are "
                "carried over; each gets a number of {this_year}."
            ).format(
                total=len(candidates), year=draft.year - 1, ticked=ticked, this_year=draft.year
            ),
            *([_("⚠️ already registered this year under the same name")] if taken else []),
            _("Page {k}/{n}").format(k=page + 1, n=pages),
        )
    )
    rows = []
    for candidate in candidates[page * CARRY_PAGE : (page + 1) * CARRY_PAGE]:
        tick = "⬜" if candidate.id in unticked else "✅"
        warning = " ⚠️" if candidate.id in taken else ""
        label = f"{tick} {candidate.name}{warning}"
        if candidate.kind is ModelKind.CLAN:
            label += " · " + _("clan")
        rows.append([DRAFT_PICK.button(label, draft_id=draft.id, verb="t", value=candidate.id)])
    rows.append(pager(draft, "p", page, pages))
    if ticked:
        label = _("✅ Register {n} again").format(n=ticked)
        rows.append([DRAFT_PRESS.button(label, draft_id=draft.id, verb="ok")])
    rows.append([DRAFT_PRESS.button(_("✖️ Cancel"), draft_id=draft.id, verb="x")])
    return text, buttons([row for row in rows if row])


def render_done(
    hamlet: Area, year: int, made: list[Registration], previous: dict[int, str]
) -> list[str]:
    """The registrations made, as messages of at most MAX_TEXT characters each."""
    head = ngettext(
        "✅ Registered {n} in {hamlet}, {year}. Their numbers:",
        "✅ Registered {n} in {hamlet}, {year}. Their numbers:",
        len(made),
    ).format(n=len(made), hamlet=hamlet.name, year=year)
    lines = [head]
    for registration in made:
        line = f"{registration.number} {registration.name}"
        if registration.previous_id in previous:
            line += " " + _("(was {number})").format(number=previous[registration.previous_id])
        lines.append(line)
    lines.append(_("Evidence can now be sent with /minhchung."))
    messages, current = [], ""
    for line in lines:
        if current and len(current) + len(line) + 1 > MAX_TEXT:
            messages.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    return [*messages, current]


def render_expired(days: int, discarded_on: datetime) -> str:
    return _(
        "This list is no longer open: it was left untouched for {days} days and was discarded "
        "on {date:%d/%m/%Y}. Nothing from it was registered. Please send the list again with "
        "/nhapds."
    ).format(days=days, date=discarded_on)


# --- showing a screen --------------------------------------------------------------------


async def show(
    update: Update,
    context: BotContext,
    draft: BulkDraft,
    screen: tuple[str, InlineKeyboardMarkup | None],
    answered: str | None = None,
) -> BulkDraft:
    """Edit the screen in place after a press; after a message, send it anew below and
    shorten the screen above to its first line and `answered`."""
    text, keyboard = screen
    query = update.callback_query
    if query is not None:
        await query.answer()
        await edit(query.edit_message_text(text, reply_markup=keyboard))
        message_id = query.message.message_id
    else:
        old = draft.body.get("screen")
        if old:  # a record only: if Telegram refuses (too old, deleted), it stays as it was
            record = draft.body.get("title", "") + (f"\n➡️ {answered}" if answered else "")
            await edit(context.bot.edit_message_text(record, update.effective_chat.id, old), True)
        message_id = (await update.effective_message.reply_text(text, reply_markup=keyboard)).id
    body = draft.body | {"screen": message_id, "title": text.split("\n", 1)[0]}
    draft = draft.model_copy(update={"body": body})
    await context.storage.registrations.save_bulk_draft(draft)
    return draft


async def edit(call, cosmetic: bool = False) -> None:
    """An edit; one that changes nothing is no failure, nor any refused `cosmetic` one."""
    try:
        await call
    except BadRequest as error:
        if not cosmetic and "not modified" not in str(error).lower():
            raise


async def end_with(update: Update, context: BotContext, draft: BulkDraft, text: str) -> int:
    await show(update, context, draft, (text, None))
    await context.storage.registrations.discard_bulk_draft(draft.person_id, draft.mode)
    return ConversationHandler.END


# --- opening ------------------------------------------------------------------------------


async def menu(update: Update, context: BotContext) -> int:
    text, keyboard = render_menu()
    await update.message.reply_text(text, reply_markup=keyboard)
    return ConversationHandler.END


async def mode_chosen(update: Update, context: BotContext) -> str | int:
    """bulk:list or bulk:carry: the hamlet (a hamlet head's own, or staff choose), then on.
    The draft's year is settled by `with_hamlet`, once the hamlet (and its province) is known."""
    mode = context.pressed.mode
    person, year, repo = context.person, context.today().year, context.storage.registrations
    if mode is BulkMode.LIST:
        kept = await repo.bulk_draft_of(person.id, mode)
        if kept and kept.hamlet_id and kept.body.get("rows"):
            hamlet = await context.storage.areas.get(kept.hamlet_id)
            if allowed(context, hamlet) and (await year_for(context, hamlet)).year == kept.year:
                return await with_hamlet(update, context, kept)  # the list entered so far
    if person.role is Role.HAMLET_HEAD:
        if context.area is None or context.area.level is not AreaLevel.HAMLET:
            await update.callback_query.answer(
                _("Your account has no hamlet. Please ask the staff of your commune."),
                show_alert=True,
            )
            return ConversationHandler.END
        draft = await repo.start_bulk_draft(person.id, mode, context.area.id, year)
        return await with_hamlet(update, context, draft)
    other_mode = BulkMode.CARRY if mode is BulkMode.LIST else BulkMode.LIST
    other = await repo.bulk_draft_of(person.id, other_mode)
    if other is not None and other.hamlet_id is None:  # only a hamlet question: nothing lost
        await repo.discard_bulk_draft(person.id, other.mode)  # so a typed hamlet names one
    draft = await repo.start_bulk_draft(person.id, mode, None, year)
    await show(update, context, draft, render_hamlet_choice(draft, await hamlets_of(context), 0))
    return State.HAMLET


async def hamlets_of(context: BotContext) -> list[Area]:
    """The hamlets a staff member may pick by button: those of their commune."""
    area = context.area
    if area is not None and area.level is AreaLevel.COMMUNE:
        return await context.storage.areas.children(area)
    return []


async def with_hamlet(update: Update, context: BotContext, draft: BulkDraft) -> str | int:
    """The draft's first screen, once its hamlet is known, if registration is still open."""
    hamlet = await context.storage.areas.get(draft.hamlet_id)
    choice = await year_for(context, hamlet)
    if choice.year is None:
        return await end_with(update, context, draft, choice.closed_text())
    if choice.year != draft.year:  # staff pick the hamlet after the draft began
        draft = draft.model_copy(update={"year": choice.year})
        await context.storage.registrations.save_bulk_draft(draft)
    if draft.mode is BulkMode.LIST:
        await show_list(update, context, draft, hamlet)
        return State.LIST
    return await show_carry(update, context, draft, hamlet, first=True)


async def year_for(context: BotContext, hamlet: Area) -> RegistrationYear:
    return await registration_year(
        context.storage, context.settings, hamlet.province_code, context.today()
    )


async def closed_text(context: BotContext, hamlet: Area, year: int) -> str | None:
    """Why the hamlet's province takes no more registrations for `year`, if it does not."""
    return await closed_for(
        context.storage, context.settings, hamlet.province_code, year, context.today()
    )


async def taken_names(
    context: BotContext, hamlet: Area, year: int, candidates: list[Registration]
) -> set[int]:
    """Last year's registrations whose name is already registered this year."""
    repo, taken = context.storage.registrations, set()
    for kind in (ModelKind.FAMILY, ModelKind.CLAN):
        names = await repo.registered_names(hamlet.id, year, kind)
        taken |= {
            c.id
            for c in candidates
            if c.kind is kind and search_key(identity_name(kind, c.model_dump())) in names
        }
    return taken


async def hamlet_typed(update: Update, context: BotContext) -> str | int | None:
    draft = await open_draft(update, context, BulkMode, hamlet_needed=False)
    if draft is None:
        return ConversationHandler.END
    hamlet = await context.storage.areas.resolve(update.message.text, context.area)
    if hamlet is None or hamlet.level is not AreaLevel.HAMLET:
        await update.message.reply_text(_("I do not know that hamlet. Please check and retype."))
        return None
    if not allowed(context, hamlet):
        await refuse(update, context, "registration_bulk.hamlet", {"area_id": hamlet.id})
        return None
    draft = draft.model_copy(update={"hamlet_id": hamlet.id})
    await context.storage.registrations.save_bulk_draft(draft)
    return await with_hamlet(update, context, draft)


async def open_draft(
    update: Update, context: BotContext, modes=(BulkMode.LIST,), hamlet_needed: bool = True
) -> BulkDraft | None:
    """The person's draft the state stands for: a typed message has no draft id to name it."""
    repo = context.storage.registrations
    for mode in modes:
        draft = await repo.bulk_draft_of(context.person.id, mode)
        if draft is not None and (draft.hamlet_id is not None) == hamlet_needed:
            return draft
    await update.effective_message.reply_text(
        _("This list is no longer open. Send /{command} to start again.").format(command=COMMAND)
    )
    return None


# --- a list -------------------------------------------------------------------------------


def stored_rows(draft: BulkDraft) -> list[Row]:
    return [Row.from_json(value) for value in draft.body.get("rows", [])]


async def check_rows(context: BotContext, draft: BulkDraft, rows: list[Row]) -> ListCheck:
    names = await context.storage.registrations.registered_names(
        draft.hamlet_id, draft.year, list_kind(draft)
    )
    return family_list.check_list(rows, names, list_kind(draft))


async def show_list(
    update: Update,
    context: BotContext,
    draft: BulkDraft,
    hamlet: Area,
    answered: str | None = None,
) -> BulkDraft:
    rows = stored_rows(draft)
    if not rows:
        return await show(update, context, draft, render_list_prompt(draft, hamlet), answered)
    check = await check_rows(context, draft, rows)
    return await show(update, context, draft, render_check(draft, hamlet, check), answered)


async def list_typed(update: Update, context: BotContext) -> str | int | None:
    """Lines of a list; a long paste arrives as several messages, each adds its lines."""
    draft = await open_draft(update, context)
    if draft is None:
        return ConversationHandler.END
    rows = stored_rows(draft)
    last = max((row.number for row in rows if row.source is Source.TEXT), default=0)
    new = family_list.rows_from_text(update.message.text, last + 1)
    return await list_received(update, context, draft, [*rows, *new], len(new))


async def list_file(update: Update, context: BotContext) -> str | int | None:
    """A filled template or a CSV: it replaces the list entered so far."""
    draft = await open_draft(update, context)
    if draft is None:
        return ConversationHandler.END
    document = update.message.document
    try:
        if (document.file_size or 0) > family_list.MAX_FILE_BYTES:
            raise FileProblem(_("The file is too large; a list of families fits in 2 MB."))
        data = bytes(await (await document.get_file()).download_as_bytearray())
        table = family_list.read_table(data, document.file_name or "")
        rows = family_list.rows_from_table(table)
    except FileProblem as problem:
        await update.message.reply_text(str(problem))
        return None
    return await list_received(update, context, draft, rows, len(rows))


async def list_received(
    update: Update, context: BotContext, draft: BulkDraft, rows: list[Row], new: int
) -> str | None:
    if len(rows) > family_list.MAX_ROWS:
        await update.message.reply_text(
            _("A list can have at most {limit} lines. Please confirm this part first.").format(
                limit=family_list.MAX_ROWS
            )
        )
        return None
    body = draft.body | {"rows": [row.to_json() for row in rows]}
    draft = draft.model_copy(update={"body": body})
    hamlet = await context.storage.areas.get(draft.hamlet_id)
    answered = ngettext("{n} line received", "{n} lines received", new).format(n=new)
    await show_list(update, context, draft, hamlet, answered)
    return State.LIST


async def list_other(update: Update, context: BotContext) -> None:
    await update.message.reply_text(
        _("Please paste the list as text, or send the filled Excel template as a file.")
    )


# --- buttons within a draft ----------------------------------------------------------------


async def pressed(update: Update, context: BotContext) -> str | int | None:
    query = update.callback_query
    draft_id, action, *value = context.pressed
    draft = await draft_named(context, draft_id)
    if draft is None:
        await gone(update, context, draft_id)
        return None
    if not fits(draft, action):
        await query.answer(str(STALE))
        return None
    hamlet = None
    if draft.hamlet_id is not None:
        hamlet = await context.storage.areas.get(draft.hamlet_id)
        if not allowed(context, hamlet):
            await refuse(update, context, "registration_bulk", {"area_id": draft.hamlet_id})
            return None
    handler = ACTIONS[draft.mode][action]
    return await handler(update, context, draft, hamlet, value[0] if value else None)


async def gone(update: Update, context: BotContext, draft_id: int) -> None:
    """A press on a draft that is no more: on a list the daily job discarded, its screen says
    so; on any other (an older one, one registered, another person's) the button is stale."""
    query = update.callback_query
    entry = await context.storage.audit.last(LIST_DISCARDED, "bulk_draft", draft_id)
    if entry is None or entry.before.get("person_id") != context.person.id:
        await query.answer(str(STALE))
        return
    text = render_expired(entry.after["days"], entry.at.astimezone(context.settings.tzinfo))
    await query.answer()
    try:
        await query.edit_message_text(text)
    except BadRequest:  # the screen cannot be edited (deleted): said below it instead
        await update.effective_message.reply_text(text)


def fits(draft: BulkDraft, action: str) -> bool:
    """Whether the action belongs to the draft's mode and stage (choosing the hamlet or not)."""
    if action not in ACTIONS[draft.mode]:
        return False
    return action == "x" or (action in HAMLET_ACTIONS) == (draft.hamlet_id is None)


async def draft_named(context: BotContext, draft_id: int) -> BulkDraft | None:
    """The person's own draft with this id; another's id finds nothing."""
    for mode in BulkMode:
        draft = await context.storage.registrations.bulk_draft_of(context.person.id, mode)
        if draft is not None and draft.id == draft_id:
            return draft
    return None


async def on_hamlet(update, context, draft: BulkDraft, _hamlet, hamlet_id: int) -> str | None:
    hamlet = await context.storage.areas.get(hamlet_id)
    if hamlet is None or hamlet.level is not AreaLevel.HAMLET or not allowed(context, hamlet):
        await refuse(update, context, "registration_bulk.hamlet", {"area_id": hamlet_id})
        return None
    draft = draft.model_copy(update={"hamlet_id": hamlet.id})
    await context.storage.registrations.save_bulk_draft(draft)
    return await with_hamlet(update, context, draft)


async def on_hamlet_page(update, context, draft: BulkDraft, _hamlet, page: int) -> str:
    hamlets = await hamlets_of(context)
    page = min(max(page, 0), pages_of(len(hamlets), HAMLET_PAGE) - 1)
    await show(update, context, draft, render_hamlet_choice(draft, hamlets, page))
    return State.HAMLET


async def on_template(update, context, draft: BulkDraft, hamlet: Area, _value) -> str:
    kind, name = list_kind(draft), hamlet.name.replace(" ", "-")
    if kind is ModelKind.CLAN:
        filename = _("clans-{hamlet}.xlsx").format(hamlet=name)
        caption = _("Fill in one clan a row, then send the file back here.")
    else:
        filename = _("families-{hamlet}.xlsx").format(hamlet=name)
        caption = _("Fill in one family a row, then send the file back here.")
    await update.callback_query.answer()
    await update.effective_message.reply_document(
        document=family_list.template(kind), filename=filename, caption=caption
    )
    return State.LIST


async def on_kind(update, context, draft: BulkDraft, hamlet: Area, kind: ModelKind) -> str:
    """Families or clans: the lines entered so far are read again as the kind tapped."""
    body = {k: v for k, v in draft.body.items() if k != "with_duplicates"} | {"kind": kind.value}
    await show_list(update, context, draft.model_copy(update={"body": body}), hamlet)
    return State.LIST


async def on_duplicates(update, context, draft: BulkDraft, hamlet: Area, _value) -> str:
    body = draft.body | {"with_duplicates": not draft.body.get("with_duplicates", False)}
    await show_list(update, context, draft.model_copy(update={"body": body}), hamlet)
    return State.LIST


async def on_clear(update, context, draft: BulkDraft, hamlet: Area, _value) -> str:
    body = {k: v for k, v in draft.body.items() if k not in ("rows", "with_duplicates")}
    await show_list(update, context, draft.model_copy(update={"body": body}), hamlet)
    return State.LIST


async def on_list_confirm(update, context, draft: BulkDraft, hamlet: Area, _value) -> str | int:
    """Register the list's ready families (and the same-name ones if asked) in one go."""
    closed = await closed_text(context, hamlet, draft.year)
    if closed:
        return await end_with(update, context, draft, closed)
    check = await check_rows(context, draft, stored_rows(draft))
    entries = [found for _row, found in check.ready]
    if draft.body.get("with_duplicates"):
        entries += [found for _row, found, _earlier in check.duplicates]
    if not entries:
        await show_list(update, context, draft, hamlet)
        return State.LIST
    return await register(update, context, draft, hamlet, entries, {})


async def register(
    update: Update,
    context: BotContext,
    draft: BulkDraft,
    hamlet: Area,
    entries: list[NewRegistration],
    previous: dict[int, str],
) -> int:
    made = await register_list(context.storage, context.person, draft, hamlet, entries)
    query = update.callback_query
    if made is None:  # a second press of the same Confirm
        await query.answer(_("This list is already registered."))
        return ConversationHandler.END
    first, *more = render_done(hamlet, draft.year, made, previous)
    await query.answer()
    await edit(query.edit_message_text(first))
    for text in more:
        await update.effective_message.reply_text(text)
    return ConversationHandler.END


async def on_cancel(update, context, draft: BulkDraft, _hamlet, _value) -> int:
    return await end_with(update, context, draft, _("Cancelled. Nothing was registered."))


# --- last year's --------------------------------------------------------------------------


async def show_carry(
    update: Update, context: BotContext, draft: BulkDraft, hamlet: Area, first: bool = False
) -> str | int:
    """Last year's still to carry over; at first all ticked but those already registered."""
    candidates = await context.storage.registrations.to_carry_over(hamlet.id, draft.year)
    if not candidates:
        text = _(
            "No family or clan of {hamlet} registered in {year} is left to register again."
        ).format(hamlet=hamlet.name, year=draft.year - 1)
        return await end_with(update, context, draft, text)
    taken = await taken_names(context, hamlet, draft.year, candidates)
    if first:
        body = draft.body | {"unticked": sorted(taken), "page": 0}
        draft = draft.model_copy(update={"body": body})
    await show(update, context, draft, render_carry(draft, hamlet, candidates, taken))
    return State.CARRY


async def on_toggle(update, context, draft: BulkDraft, hamlet: Area, registration_id: int):
    candidates = await context.storage.registrations.to_carry_over(hamlet.id, draft.year)
    if registration_id not in {c.id for c in candidates}:
        await refuse(
            update, context, "registration_bulk.carry", {"registration_id": registration_id}
        )
        return State.CARRY
    unticked = set(draft.body.get("unticked", [])) ^ {registration_id}
    body = draft.body | {"unticked": sorted(unticked)}
    return await show_carry(update, context, draft.model_copy(update={"body": body}), hamlet)


async def on_page(update, context, draft: BulkDraft, hamlet: Area, page: int):
    body = draft.body | {"page": max(page, 0)}
    return await show_carry(update, context, draft.model_copy(update={"body": body}), hamlet)


async def on_carry_confirm(update, context, draft: BulkDraft, hamlet: Area, _value):
    """Register the ticked ones again: their details, this year's numbers and criteria."""
    closed = await closed_text(context, hamlet, draft.year)
    if closed:
        return await end_with(update, context, draft, closed)
    unticked = set(draft.body.get("unticked", []))
    candidates = await context.storage.registrations.to_carry_over(hamlet.id, draft.year)
    chosen = [c for c in candidates if c.id not in unticked]
    if not chosen:
        return await show_carry(update, context, draft, hamlet)
    entries = [
        NewRegistration(
            **c.model_dump(include=set(NewRegistration.model_fields)) | {"previous_id": c.id}
        )
        for c in chosen
    ]
    try:
        return await register(
            update, context, draft, hamlet, entries, {c.id: c.number for c in chosen}
        )
    except sqlite3.IntegrityError:  # someone else carried one of them over meanwhile
        return await show_carry(update, context, draft, hamlet)


HAMLET_ACTIONS = frozenset({"h", "hp"})  # only while the hamlet is being chosen
ACTIONS = {
    BulkMode.LIST: {
        "h": on_hamlet,
        "hp": on_hamlet_page,
        "tpl": on_template,
        "k": on_kind,
        "dup": on_duplicates,
        "clear": on_clear,
        "ok": on_list_confirm,
        "x": on_cancel,
    },
    BulkMode.CARRY: {
        "h": on_hamlet,
        "hp": on_hamlet_page,
        "t": on_toggle,
        "p": on_page,
        "ok": on_carry_confirm,
        "x": on_cancel,
    },
}


async def discard_drafts(update: Update, context: BotContext) -> None:
    """Before /huy ends the dialog: both kinds of list draft are dropped, and their screens'
    buttons taken away."""
    repo = context.storage.registrations
    for mode in BulkMode:
        draft = await repo.bulk_draft_of(context.person.id, mode)
        if draft is not None and draft.body.get("screen"):
            await close_screen(context.bot, update.effective_chat.id, draft.body["screen"], None)
        await repo.discard_bulk_draft(context.person.id, mode)


# --- wiring -------------------------------------------------------------------------------


def handlers() -> list:
    typed = filters.TEXT & ~filters.COMMAND
    return [
        dialog(
            "registration_bulk",
            entry_points=[
                CommandHandler(COMMAND, menu),
                BULK_MODE.handler(mode_chosen),
                # A draft's buttons, in every state (the kit's dialogs check their entry points
                # first): a screen left for another command still works, or says why not.
                *(action.handler(pressed) for action in (DRAFT_PRESS, DRAFT_PICK, DRAFT_KIND)),
            ],
            states={
                State.HAMLET: [MessageHandler(typed, hamlet_typed)],
                State.LIST: [
                    MessageHandler(typed, list_typed),
                    MessageHandler(filters.Document.ALL, list_file),
                    MessageHandler(~filters.COMMAND, list_other),
                ],
                State.CARRY: [],  # only the draft's buttons
            },
            cancel=cancel_handler(_l("Cancelled. Nothing was registered."), before=discard_drafts),
        )
    ]
