"""The import-speed fast path of ``normalize_phone`` gives exactly what ``phonenumbers`` gives.

``tokui.core.japanese._jp_e164`` handles the usual Japanese shapes without ``phonenumbers``
and gives up (None) on anything else. Whenever it answers, ``phonenumbers`` must give the same
E.164 number; whenever ``phonenumbers`` refuses a number, the fast path must not accept it.
"""

import unicodedata

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tokui.core.exceptions import ApplicationError
from tokui.core.japanese import _jp_e164, normalize_phone


def reference(value: str) -> str | None:
    """What ``normalize_phone`` returned before the fast path: phonenumbers only."""
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def stored(value: str) -> str | None:
    try:
        return normalize_phone(value)
    except ApplicationError:
        return None


def agrees(value: str) -> None:
    expected = reference(value)
    assert stored(value) == expected
    fast = _jp_e164(unicodedata.normalize("NFKC", value).strip())
    assert fast is None or fast == expected


TRICKY = [
    "03-1234-5678",
    "0312345678",
    "(03)1234-5678",
    "03(1234)5678",
    "０３－１２３４－５６７８",
    "０３（１２３４）５６７８",
    "06-6123-4567",
    "011-123-4567",
    "0123-45-6789",
    "01267-2-3456",
    "0120-123-456",
    "0120123456",
    "0800-123-4567",
    "0570-123-456",
    "0990-123-456",
    "050-1234-5678",
    "070-1234-5678",
    "080-1234-5678",
    "090-1234-5678",
    "090 1234 5678",
    "020-1234-5678",
    "060-123-4567",
    "+81 3 1234 5678",
    "+81-90-1234-5678",
    "+81 (0)3 1234 5678",
    "+810312345678",
    "＋８１ ３ １２３４ ５６７８",
    "81312345678",
    "0081312345678",
    "010-81-3-1234-5678",
    "010-44-20-7946-0958",
    "+44 20 7946 0958",
    "+1 212 555 0100",
    "03-1234-5678 ext. 12",
    "03-1234-5678 内線 12",
    "03-1234-5678#12",
    "03-1234-5678 x12",
    "03-1234-567",
    "03-1234-56789",
    "03-1234-567890123",
    "0000000000",
    "0012345678",
    "123",
    "phone me",
    "03-CALL-NOW",
    "03-1234-5678/03-1234-5679",
    "( 03 ) 1234 - 5678",
    "-03-1234-5678-",
    "03‐1234‐5678",
    "03ー1234ー5678",
    "٠٣١٢٣٤٥٦٧٨",
    "0３-1234-5678",
    "+8１ 90 1234 5678",
    "03" + " " * 250 + "1234-5678",
    "0" + "-" * 30 + "3-1234-5678",
]


@pytest.mark.parametrize("value", TRICKY)
def test_tricky_numbers_agree_with_phonenumbers(value):
    agrees(value)


def test_the_usual_shapes_take_the_fast_path():
    for value in ["03-1234-5678", "090 1234 5678", "+81 3 1234 5678", "0120-123-456"]:
        assert _jp_e164(unicodedata.normalize("NFKC", value)) is not None


PREFIXES = ["0", "00", "010", "+81", "+81 0", "+8", "+1", "+44", "81", ""]
SEPARATORS = ["", "", "-", " ", "(", ")", "－", "　", "‐", ".", "/", "x", "#"]


@st.composite
def phone_texts(draw):
    """Mostly Japanese-looking numbers: a prefix, then digit groups with separators between."""
    prefix = draw(st.sampled_from(PREFIXES))
    groups = draw(st.lists(st.text("0123456789", min_size=1, max_size=5), min_size=1, max_size=5))
    text = prefix
    for group in groups:
        text += draw(st.sampled_from(SEPARATORS)) + group
    if draw(st.booleans()):  # full-width digits, as some spreadsheets hold them
        text = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return text


STARTS = ["03", "06", "011", "045", "0166", "01267", "0120", "0800", "0570", "0990", "050", "070",
          "080", "090", "020", "060", "0", "00", "010"]  # fmt: skip


@st.composite
def japanese_numbers(draw):
    """Numbers shaped like Japanese ones (most valid), written the ways people write them."""
    start = draw(st.sampled_from(STARTS))
    length = draw(st.integers(min_value=8, max_value=12))
    digits = start + draw(st.text("0123456789", min_size=length - len(start), max_size=12))
    if draw(st.booleans()):
        digits = "+81" + draw(st.sampled_from(["", " ", "-"])) + digits.removeprefix("0")
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=3)))
    pieces = [digits[i:j] for i, j in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    text = pieces[0]
    for piece in pieces[1:]:
        text += draw(st.sampled_from(["-", " ", "(", ")", "－", "　", ")", ""])) + piece
    if draw(st.booleans()):
        text = text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return text


@settings(max_examples=3000, deadline=None)
@given(japanese_numbers())
def test_generated_japanese_numbers_agree_with_phonenumbers(value):
    agrees(value)


@settings(max_examples=2000, deadline=None)
@given(phone_texts())
@example("03-1234-5678")
def test_generated_numbers_agree_with_phonenumbers(value):
    agrees(value)


@settings(max_examples=2000, deadline=None)
@given(st.from_regex(r"\A0[1-9]0?[0-9]{7,9}\Z"))
def test_generated_digit_strings_agree_with_phonenumbers(value):
    agrees(value)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789+-() x#", max_size=20))
def test_arbitrary_short_texts_agree_with_phonenumbers(value):
    agrees(value)
