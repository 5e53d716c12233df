"""Buttons declared once (bot/actions.py): every handler's pattern comes from a declaration, no
dialog writes or reads callback data by hand, and a forged press of any declared action, or
of none, is refused politely and audited before a handler runs."""

import ast
import logging
import re
from enum import StrEnum
from pathlib import Path

import pytest
from telegram.ext import CallbackQueryHandler, ConversationHandler

from bot.actions import MAX_DATA_BYTES, Action, ActionHandler, action_of, declared, digits, word
from bot.app import STALE_GROUP, build_application
from bot.commands import command, command_of_button
from storage.models import Role
from tests.conftest import ROOT, settings_for

DENIED = "Bạn không có quyền truy cập nội dung này."
STALE = "Nút này không còn hiệu lực. Xin vui lòng bắt đầu lại bằng lệnh."


# --- (d) one declaration: data, pattern and parse agree ----------------------------------


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


# Declared once, like a dialog's (the registry refuses a second declaration).
TEST_ACTION = Action(
    "duyet", "tt:ok:{item_id}:{colour}:{key}", item_id=int, colour=Colour, key=word()
)
LONG = Action("duyet", "tt:long:{key}", key=word(80))
YEAR = Action("namhoc", "tt:year:{code}:{year}", code=digits(2), year=int)


def test_data_pattern_and_parse_round_trip():
    action = TEST_ACTION
    data = action.data(item_id=5, colour=Colour.BLUE, key="members")
    assert data == "tt:ok:5:blue:members"
    assert re.fullmatch(action.pattern, data)
    assert action.pattern.startswith("^") and action.pattern.endswith("$")
    pressed = action.parse(data)
    assert pressed == (5, Colour.BLUE, "members")
    assert pressed.item_id == 5 and pressed.colour is Colour.BLUE and pressed.key == "members"
    assert action_of(data) is action
    assert command_of_button(data) is command("duyet")


@pytest.mark.parametrize(
    "data",
    [
        "tt:ok:abc:red:members",
        "tt:ok:-1:red:members",
        "tt:ok:" + "9" * 30 + ":red:members",
        "tt:ok:5:green:members",
        "tt:ok:5:red:a b",
        "tt:ok:5:red:",
        "tt:ok:5:red",
        "tt:ok:5:red:members:1",
        " tt:ok:5:red:members",
        "tt:ok:5:red:members\n",
        "",
        None,
    ],
)
def test_malformed_data_parses_to_nothing(data):
    assert TEST_ACTION.parse(data) is None
    assert action_of(data) is None


def test_callback_data_over_64_bytes_is_refused_when_built():
    assert len(LONG.data(key="k" * (MAX_DATA_BYTES - 8)).encode()) == MAX_DATA_BYTES
    with pytest.raises(ValueError, match="64 bytes"):
        LONG.data(key="k" * (MAX_DATA_BYTES - 7))
    assert LONG.parse("tt:long:" + "k" * (MAX_DATA_BYTES - 7)) is None  # Telegram sends none


def test_a_value_that_does_not_fit_its_field_is_refused_when_built():
    action = YEAR
    assert action.data(code="01", year=2026) == "tt:year:01:2026"
    for bad in ({"code": "1", "year": 2026}, {"code": "01", "year": -5}):
        with pytest.raises(ValueError):
            action.data(**bad)
    with pytest.raises(TypeError):
        action.data(code="01")
    with pytest.raises(ValueError):
        Action("namhoc", "tt:{a}", b=int)  # the fields must be the template's
    with pytest.raises(ValueError, match="twice"):
        Action("namhoc", "tt:year:{code}:{year}", code=digits(2), year=int)


def test_every_declared_action_belongs_to_a_command_and_fits_64_bytes():
    import bot.app  # noqa: F401  (the dialogs declare their buttons when imported)

    actions = [a for a in declared() if not a.prefix.startswith("tt")]
    assert len(actions) > 50
    for action in actions:
        assert command(action.command) is not None, action
        assert len(action.template.encode()) < MAX_DATA_BYTES - 20, action
        for data in (well_formed(action), action.template.format(**sample_values(action))):
            assert action_of(data) is action, (data, action_of(data))  # no two read the same


# --- (a) the handlers' patterns are the declarations' -----------------------------------


def callback_handlers(handlers):
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            yield from callback_handlers(handler.entry_points)
            for state in handler.states.values():
                yield from callback_handlers(state)
            yield from callback_handlers(handler.fallbacks)
        elif isinstance(handler, CallbackQueryHandler):
            yield handler


async def test_every_button_handler_pattern_is_a_declared_actions(storage, api, tmp_path):
    app = build_application(settings_for(api, tmp_path), storage)
    patterns = {a.pattern: a for a in declared()}
    answered = set()
    for group, handlers in app.handlers.items():
        for handler in callback_handlers(handlers):
            if group == STALE_GROUP:  # the one stale-button handler: every press left over
                assert handler.pattern is None
                continue
            assert isinstance(handler, ActionHandler), handler.callback
            assert handler.pattern.pattern in patterns, handler.pattern.pattern
            assert patterns[handler.pattern.pattern] is handler.action
            answered.add(handler.action)
    unanswered = [a for a in declared() if a not in answered and not a.prefix.startswith("tt")]
    assert unanswered == []
    assert max(g for g in app.handlers if g != STALE_GROUP) < STALE_GROUP


# --- (b) no dialog writes or reads callback data by hand ----------------------------------


def dialog_sources() -> list[Path]:
    return sorted((ROOT / "conversations").glob("*.py"))


HAND_MADE = ("CallbackQueryHandler", "InlineKeyboardButton")


def by_hand(path: Path, node: ast.AST, prefixes: set[str], templates: set[int]) -> str | None:
    """What is wrong with `node` of a dialog's source, if it writes or reads callback data."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        args = [a.value for a in node.args if isinstance(a, ast.Constant)]
        splits = node.func.attr in ("split", "rsplit", "partition", "startswith")
        if splits and any(isinstance(a, str) and ":" in a for a in args):
            return f"{node.func.attr} on ':'"
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") in HAND_MADE:
        links = any(k.arg in ("web_app", "url") for k in node.keywords)
        if path.name != "common.py" and not links:
            return f"{node.func.id} built by hand"
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant):
            match = re.match(r"^(\w+)!?:", str(first.value))
            if match and match[1] in prefixes:
                return "f-string callback data"
        elif getattr(first.value, "id", "") == "PREFIX":
            return "f-string callback data"
    literal = isinstance(node, ast.Constant) and isinstance(node.value, str)
    if literal and id(node) not in templates and action_of(node.value) is not None:
        return f"callback data literal {node.value!r}"
    return None


def test_no_dialog_splits_or_formats_callback_data():
    import bot.app  # noqa: F401

    prefixes = {a.prefix for a in declared()}
    found = []
    for path in dialog_sources():
        source = path.read_text()
        tree = ast.parse(source, str(path))
        templates = {  # a declaration's template without fields is its data: allowed there
            id(arg)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Action"
            for arg in node.args
        }
        for node in ast.walk(tree):
            problem = by_hand(path, node, prefixes, templates)
            if problem:
                found.append(f"{path.name}:{node.lineno} {problem}")
        if re.search(r"^PREFIX\s*=", source, re.M):
            found.append(f"{path.name}: a PREFIX of its own")
        if re.search(r"\.data\.(r?split|startswith)\b|callback_query\.data\s*==", source):
            found.append(f"{path.name}: callback data read by hand")
    assert found == []


# --- (c) forged presses end to end ----------------------------------------------------------


def sample(pattern: str) -> str:
    """A value that fits a field's regex: its first choice, or digits, or a letter."""
    if pattern.startswith("(?:"):
        return re.sub(r"\\(.)", r"\1", pattern[3:-1].split("|")[0])
    for candidate in ("1", "01", "2026", "a"):
        if re.fullmatch(pattern, candidate):
            return candidate
    raise AssertionError(pattern)


def malformed(action: Action) -> list[str]:
    """Forged data for `action`: each argument in turn out of shape (letters where digits
    belong, a 30-digit number, a space, an unknown choice), and one argument too many."""
    good = {name: sample(field.regex) for name, field in action.fields.items()}
    forged = []
    for name, field in action.fields.items():
        bad = "9" * 30 if field.regex.startswith(r"\d") else "zz z"
        forged.append(action.template.format(**(good | {name: bad})))
        if field.regex.startswith(r"\d"):
            forged.append(action.template.format(**(good | {name: "abc"})))
    forged.append(action.template.format(**good) + ":x y")
    return forged


UNKNOWN = ["x" * 64, "nothing:here", "reg", "rv:ok", ":", "", "rgl:ls:all:all", "lang:fr"]


async def test_a_forged_press_of_every_action_and_of_none_is_refused_politely_and_audited(
    bot, api, storage, enrol, hamlets, caplog
):
    caplog.set_level(logging.INFO)
    forged = [data for action in declared() for data in malformed(action)] + UNKNOWN
    for data in forged:
        assert action_of(data) is None, data
    people, per_person = [], 40  # under the press flood limit (bot/flood.py)
    for n in range(0, len(forged), per_person):
        telegram_id = 7600 + n // per_person
        await enrol(telegram_id, Role.ADMIN)  # every command's role: only the data is wrong
        person = api.person(telegram_id)
        (screen,) = await person.send("/toi")
        people.append((person, screen, forged[n : n + per_person]))
    for person, screen, batch in people:
        for data in batch:
            assert await person.press_data(screen, data, expect=0) == [], data
            answer = person.last_callback_answer
            assert answer is not None and answer.get("text") == DENIED, (data, answer)
            assert answer.get("show_alert") is True, data
    audited = [entry.after.get("data") for entry in await storage.audit.entries("access.denied")]
    assert sorted(audited) == sorted(forged)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "failed" not in caplog.text
    for person, _screen, _batch in people:
        assert not [m for m in person.messages if m.text.startswith("Xin lỗi, hệ thống")]


async def test_a_button_of_a_finished_dialog_gets_one_alert_and_loses_its_buttons(
    bot, api, enrol, storage
):
    await enrol(7700, Role.STAFF, "00070")
    person = api.person(7700)
    (roles,) = await person.send("/moi")
    assert roles.button_data  # the role buttons of /moi
    await person.send("/huy")  # the dialog ends; its buttons stay on the message
    data = next(iter(roles.button_data.values()))
    (edited,) = await person.press_data(roles, data)  # the same message, its buttons gone
    assert person.last_callback_answer.get("text") == STALE
    assert person.last_callback_answer.get("show_alert") is True
    assert edited.message_id == roles.message_id and edited.text == roles.text
    assert edited.inline_keyboard == []
    assert await storage.audit.entries("access.denied") == []
    (again,) = await person.send("/moi")  # the command works as before
    assert again.button_data


def sample_values(action: Action) -> dict[str, str]:
    return {name: sample(field.regex) for name, field in action.fields.items()}


def well_formed(action: Action) -> str:
    """Data `action` could have written, naming nothing that exists (ids 999999)."""
    values = {}
    for name, field in action.fields.items():
        fits = [c for c in ("999999", "01", "2026", "a") if re.fullmatch(field.regex, c)]
        values[name] = fits[0] if fits else sample(field.regex)
    return action.template.format(**values)


async def test_a_well_formed_press_naming_nothing_never_raises(bot, api, enrol, caplog):
    """Data of the right shape that names no registration, draft or photo, or a step not
    shown, pressed outside any dialog: each dialog answers it, none fails."""
    caplog.set_level(logging.INFO)
    pressed = [well_formed(action) for action in declared() if not action.prefix.startswith("tt")]
    for n in range(0, len(pressed), 40):
        await enrol(7800 + n, Role.ADMIN)
        person = api.person(7800 + n)
        (screen,) = await person.send("/toi")
        for data in pressed[n : n + 40]:
            assert action_of(data) is not None, data
            await person.press_data(screen, data, expect=0, quiet=0.3)
        await person.wait(expect=0, quiet=1.0)
        assert not [m for m in person.messages if (m.text or "").startswith("Xin lỗi, hệ thống")]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text[-3000:]
