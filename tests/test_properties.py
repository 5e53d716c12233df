"""Property-based tests of every free-text input check: never a crash, always a clean answer."""

import itertools
import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.validation import person_name, vietnamese_mobile
from storage.invites import clean_code
from storage.models import Role
from storage.text import fold, nfc, search_key

VIETNAMESE = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"
)
TRICKY = (
    "\u200f\u200e\u202e\u2066\u2069"  # right-to-left and isolate marks
    "\x00\x07\x1b\x7f\u0085\u2028\u2029"  # control characters, odd line breaks
    "\u00a0\u3000\t\n\r "  # spaces of all kinds
    "\u0300\u0301\u0303\u0309\u0323\u0306\u0302\u031b"  # combining Vietnamese marks
    "\ufeff\u200b\u200d"  # zero-width
    ".'-+0123456789"
)

vietnamese = st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " ", max_size=80)
decomposed = vietnamese.map(lambda t: unicodedata.normalize("NFD", t))
anything = st.one_of(
    st.text(),
    st.text(alphabet=TRICKY + VIETNAMESE, max_size=200),
    decomposed,
    st.text(min_size=3000, max_size=5000),
    st.from_regex(r"(\+?84|0)[\s.\-()]?[35789]\d{2}[\s.\-()]?\d{3}[\s.\-()]?\d{3}"),
)


def is_nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


@given(anything)
def test_nfc_is_normalised_trimmed_and_stable(text):
    clean = nfc(text)
    assert is_nfc(clean) and nfc(clean) == clean
    assert clean == clean.strip() and not re.search(r"\s\s", clean)


@given(anything)
def test_fold_and_search_key_are_stable(text):
    folded, key = fold(text), search_key(text)
    assert fold(folded) == folded
    assert search_key(key) == key
    assert search_key(folded) == key


@given(st.one_of(anything, decomposed))
def test_person_name_is_none_or_a_clean_name_that_revalidates(text):
    name = person_name(text)
    if name is not None:
        assert is_nfc(name) and person_name(name) == name
        assert 2 <= len(name) <= 60


@given(anything)
def test_vietnamese_mobile_is_none_or_plus84_that_revalidates(text):
    phone = vietnamese_mobile(text)
    if phone is not None:
        assert re.fullmatch(r"\+84[35789]\d{8}", phone)
        assert vietnamese_mobile(phone) == phone


@given(anything)
def test_clean_code_is_stable(text):
    code = clean_code(text)
    assert clean_code(code) == code
    assert " " not in code and "-" not in code


_ids = itertools.count(5000)


@settings(
    deadline=None,
    max_examples=15,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(min_size=1, max_size=300).filter(lambda t: t.strip()))
async def test_the_name_step_answers_whatever_is_typed(bot, api, storage, hamlets, text):
    invite = await storage.invites.create(Role.HAMLET_HEAD, hamlets["Thôn Đông"].id)
    person = api.person(next(_ids))
    await person.send(f"/start {invite.code}")
    await person.press("✅ Đúng, tiếp tục", expect=2)
    replies = await person.send(text)
    assert replies
    assert not any(r.text.startswith("Xin lỗi, hệ thống") for r in replies), text
