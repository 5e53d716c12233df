"""A rough check of formatted text, so that the fake API rejects what Telegram rejects.

Telegram answers 400 "can't parse entities" for HTML with unknown or unbalanced tags and for
MarkdownV2 with unescaped reserved characters. Catching that in tests matters: such a message is
simply not delivered in production. This is not a full parser; it only finds the common mistakes
(user input interpolated without escaping).
"""

from __future__ import annotations

import re

HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "code",
        "del",
        "em",
        "i",
        "ins",
        "pre",
        "s",
        "span",
        "strike",
        "strong",
        "tg-emoji",
        "tg-spoiler",
        "u",
    }
)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(?:\s[^<>]*)?>")
# MarkdownV2 characters that are never formatting and must always be escaped.
_MARKDOWN_V2_ALWAYS_ESCAPED = "#+-={}.!"


class ParseError(ValueError):
    """The text cannot be parsed; the message is Telegram's description after the prefix."""


def check(text: str, parse_mode: str | None) -> None:
    """Raise :class:`ParseError` if Telegram would refuse ``text`` with ``parse_mode``."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        _check_html(text)
    elif mode == "markdownv2":
        _check_markdown_v2(text)


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _check_html(text: str) -> None:
    open_tags: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "<":
            index += 1
            continue
        tag = _TAG.match(text, index)
        if tag is None:
            raise ParseError(f"Unexpected '<' at byte offset {_byte_offset(text, index)}")
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        offset = _byte_offset(text, index)
        if name not in HTML_TAGS:
            raise ParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
        if not closing:
            open_tags.append(name)
        elif not open_tags or open_tags.pop() != name:
            raise ParseError(f'Unmatched end tag "</{name}>" at byte offset {offset}')
        index = tag.end()
    if open_tags:
        raise ParseError(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')


def _check_markdown_v2(text: str) -> None:
    """Reserved characters need a backslash, except inside code and link URLs."""
    escaped = in_code = in_url = False
    previous = ""
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_url:
            in_url = char != ")"
        elif char == "`":
            in_code = not in_code
        elif char == "(" and previous == "]" and not in_code:
            in_url = True
        elif char in _MARKDOWN_V2_ALWAYS_ESCAPED and not in_code:
            raise ParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        previous = char
