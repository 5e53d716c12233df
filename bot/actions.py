"""Buttons declared once: each kind of button is an `Action` that builds its callback data,
gives its handler's pattern and reads a press back into typed arguments.

    ACCEPT = Action("duyet", "rv:ok:{evidence_id}", evidence_id=int)
    ACCEPT.data(evidence_id=5)            # "rv:ok:5"
    ACCEPT.button(_("Accept"), evidence_id=5)   # ("Accept", "rv:ok:5") for a keyboard row
    ACCEPT.handler(accept_pressed)        # its CallbackQueryHandler; the callback reads
                                          # context.pressed.evidence_id

Every declaration goes into one registry, which the gate reads: a press whose data no declared
action reads is refused before any handler runs, and the action names the command whose roles
apply. Callback data is nothing but what `data()` wrote, so it is never split by hand.
"""

import enum
import re
from collections import namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler

MAX_DATA_BYTES = 64  # Telegram's limit on callback data
_FIELD = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Field:
    """One argument in callback data: the regex it is written with and how it is read."""

    regex: str
    read: Callable[[str], Any] = str
    write: Callable[[Any], str] = str
    compiled: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re.compile(self.regex))  # once, not per button

    def check(self, value: Any) -> str:
        text = self.write(value)
        if not self.compiled.fullmatch(text):
            raise ValueError(f"{value!r} does not fit {self.regex}")
        return text


def number(digits: int = 12) -> Field:
    """A non-negative integer (ids, offsets, steps) of at most `digits` digits."""
    return Field(rf"\d{{1,{digits}}}", int)


def digits(count: int) -> Field:
    """Exactly `count` digits, kept as text (a province code such as '01')."""
    return Field(rf"\d{{{count}}}")


def word(max_length: int = 32, chars: str = r"\w") -> Field:
    """A short token: a field key (`members`), an indicator code (`GD.1.2`)."""
    return Field(rf"{chars}{{1,{max_length}}}")


def choice(values: Iterable[str] | type[enum.Enum]) -> Field:
    """One of a few words; given an Enum class, read back as its member."""
    if isinstance(values, type) and issubclass(values, enum.Enum):
        members = list(values)
        return Field(
            "(?:" + "|".join(re.escape(str(m.value)) for m in members) + ")",
            values,
            lambda m: str(values(m).value),
        )
    words = tuple(values)
    return Field("(?:" + "|".join(re.escape(w) for w in words) + ")")


def _field(spec: Any) -> Field:
    if isinstance(spec, Field):
        return spec
    if spec is int:
        return number()
    if isinstance(spec, type) and issubclass(spec, enum.Enum):
        return choice(spec)
    if isinstance(spec, tuple | list | frozenset | set):
        return choice(spec)
    raise TypeError(f"not a field: {spec!r}")


class Action:
    """A kind of button of `command`'s dialog: callback data written from `template`, whose
    `{names}` are typed by `fields` (int, an Enum class, a tuple of words, or a Field)."""

    def __init__(self, command: str, template: str, **fields: Any) -> None:
        names = _FIELD.findall(template)
        if sorted(names) != sorted(fields) or len(set(names)) != len(names):
            raise ValueError(f"{template}: fields {sorted(fields)} do not match the template")
        self.command = command
        self.template = template
        self.prefix = template.split(":", 1)[0]
        self.fields = {name: _field(fields[name]) for name in names}
        self.args = namedtuple("Pressed", names)
        parts, at = [], 0
        for match in _FIELD.finditer(template):
            parts.append(re.escape(template[at : match.start()]))
            parts.append(f"(?P<{match[1]}>{self.fields[match[1]].regex})")
            at = match.end()
        parts.append(re.escape(template[at:]))
        self.pattern = "^" + "".join(parts) + "$"
        self.regex = re.compile(self.pattern)
        self._written: dict[tuple, str] = {}
        _register(self)

    def __repr__(self) -> str:
        return f"Action({self.command!r}, {self.template!r})"

    def data(self, **values: Any) -> str:
        """The callback data of a button with these arguments (remembered: the same buttons
        are drawn on every screen, and data depends on nothing else)."""
        key = tuple((name, type(value), value) for name, value in values.items())
        try:
            text = self._written.get(key)
        except TypeError:  # an unhashable value: no memo, the same checks
            return self._write(values)
        if text is None:
            if len(self._written) > 1024:
                self._written.clear()
            text = self._written[key] = self._write(values)
        return text

    def _write(self, values: dict[str, Any]) -> str:
        if set(values) != set(self.fields):
            raise TypeError(f"{self.template} takes {list(self.fields)}, not {list(values)}")
        text = self.template.format(
            **{name: field.check(values[name]) for name, field in self.fields.items()}
        )
        if len(text.encode()) > MAX_DATA_BYTES:
            raise ValueError(f"callback data over {MAX_DATA_BYTES} bytes: {text!r}")
        return text

    def button(self, label: str, **values: Any) -> tuple[str, str]:
        """(label, callback data): one button of a keyboard row."""
        return (label, self.data(**values))

    def parse(self, data: str | None) -> tuple | None:
        """The typed arguments of a press, or None when this action did not write `data`."""
        match = self.regex.fullmatch(data or "")
        if match is None or len(match.string.encode()) > MAX_DATA_BYTES:
            return None
        try:
            return self.args(**{n: f.read(match[n]) for n, f in self.fields.items()})
        except ValueError:
            return None

    def handler(self, callback: Callable) -> "ActionHandler":
        """The CallbackQueryHandler of this action; `callback` finds the arguments in
        `context.pressed` (and the action in `context.action`)."""
        return ActionHandler(self, callback)


class ActionHandler(CallbackQueryHandler):
    """A CallbackQueryHandler whose pattern is its action's and which puts the parsed
    arguments on the context before the callback runs."""

    def __init__(self, action: Action, callback: Callable) -> None:
        super().__init__(callback, pattern=action.pattern)
        self.action = action

    def check_update(self, update: object) -> bool | object | None:
        """PTB's check, with the compiled pattern used directly in the common case (PTB's
        `re.match(pattern, data)` looks it up again for every handler and every press)."""
        query = update.callback_query if isinstance(update, Update) else None
        data = query.data if query is not None else None
        if data and isinstance(data, str):
            return self.pattern.match(data) or False
        return super().check_update(update)

    def collect_additional_context(self, context, update, application, check_result) -> None:
        super().collect_additional_context(context, update, application, check_result)
        context.action = self.action
        context.pressed = self.action.parse(update.callback_query.data)


_REGISTRY: dict[str, list[Action]] = {}


def _register(action: Action) -> None:
    same_prefix = _REGISTRY.setdefault(action.prefix, [])
    if any(a.template == action.template for a in same_prefix):
        raise ValueError(f"{action.template} is declared twice")
    same_prefix.append(action)
    action_of.cache_clear()


def declared() -> list[Action]:
    """Every action declared so far (the dialogs declare theirs when imported)."""
    return [action for actions in _REGISTRY.values() for action in actions]


@lru_cache(maxsize=4096)
def action_of(data: str | None) -> Action | None:
    """The declared action that wrote `data`, None for data no declared action reads (forged,
    garbled, or a button kind that no longer exists). Remembered per data (a pure lookup:
    the registry only grows, and each declaration forgets what was remembered)."""
    data = data or ""
    for action in _REGISTRY.get(data.split(":", 1)[0], ()):
        if action.parse(data) is not None:
            return action
    return None


def yes_no(
    yes: tuple[str, str], no: tuple[str, str], *, stacked: bool = False
) -> list[list[tuple[str, str]]]:
    """The standard confirmation: Yes then No, one row (or one button a row, for long
    labels). Each is a (label, data) pair from `Action.button`."""
    return [[yes], [no]] if stacked else [[yes, no]]
