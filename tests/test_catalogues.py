"""Catalogue lint: what `pybabel compile` lets through but people would notice."""

import re

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po

from bot.i18n import LOCALES, catalogue_path
from tests.conftest import ROOT

PLACEHOLDER = re.compile(r"{(\w*)[^{}]*}")
EXTRACT_KEYWORDS = ["-k", "_", "-k", "ngettext:1,2", "-k", "lazy_gettext", "-k", "__", "-k", "_l"]


def catalogue(locale):
    with catalogue_path(locale).open("rb") as po:
        return read_po(po, locale=locale)


def ids(cat):
    return {m.id if isinstance(m.id, str) else m.id[0] for m in cat if m.id}


def strings(message):
    return [message.string] if isinstance(message.string, str) else list(message.string)


def test_both_catalogues_have_the_same_msgids():
    assert ids(catalogue("vi")) == ids(catalogue("en"))


@pytest.mark.parametrize("locale", LOCALES)
def test_plural_forms_match_the_language(locale):
    cat = catalogue(locale)
    expected = get_plural(locale)
    assert cat.plural_forms == expected.plural_forms
    for message in cat:
        if message.id and message.pluralizable:
            assert len(strings(message)) == expected.num_plurals, message.id


@pytest.mark.parametrize("locale", LOCALES)
def test_placeholders_survive_translation(locale):
    for message in catalogue(locale):
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        for text in strings(message):
            if text:
                assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(source)), source


def test_every_vietnamese_message_is_translated_and_not_fuzzy():
    for message in catalogue("vi"):
        if message.id:
            assert all(strings(message)), f"untranslated: {message.id!r}"
            assert not message.fuzzy, f"fuzzy: {message.id!r}"


def test_catalogues_hold_every_message_in_the_code(tmp_path):
    pot = tmp_path / "messages.pot"
    babel_cfg = str(ROOT / "babel.cfg")
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", babel_cfg, *EXTRACT_KEYWORDS, "-o", str(pot), str(ROOT)]
    )
    with pot.open("rb") as handle:
        in_code = ids(read_po(handle))
    assert len(in_code) > 10
    missing = in_code - ids(catalogue("vi"))
    assert not missing, f"run the update command in README.md; missing: {sorted(missing)}"
