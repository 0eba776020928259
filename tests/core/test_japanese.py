import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokui.core.exceptions import ApplicationError
from tokui.core.japanese import (
    corporate_number_check_digit,
    fold,
    format_phone,
    format_postal_code,
    normalize_corporate_number,
    normalize_kana_reading,
    normalize_phone,
    normalize_postal_code,
)


def test_a_published_corporate_number_is_valid():
    # 国税庁 (National Tax Agency) publishes its own corporate number: 7000012050002.
    assert normalize_corporate_number("7000012050002") == "7000012050002"


def test_full_width_digits_and_hyphens_are_accepted_and_stored_half_width():
    assert normalize_corporate_number("７０００-０１２０-５０００２") == "7000012050002"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("8000012050002", "check digit"),
        ("700001205000", "13 digits"),
        ("70000120500021", "13 digits"),
        ("7OOOO12O5OOO2", "digits only"),
        ("", "13 digits"),
    ],
)
def test_wrong_corporate_numbers_are_refused_with_a_reason(value, message):
    with pytest.raises(ApplicationError) as exc:
        normalize_corporate_number(value)
    assert message in exc.value.message
    assert exc.value.field == "corporate_number"


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_exactly_one_check_digit_makes_a_number_valid(body):
    valid = [d for d in range(10) if _is_valid(f"{d}{body}")]
    assert valid == [corporate_number_check_digit(body)]


def _is_valid(number: str) -> bool:
    try:
        normalize_corporate_number(number)
    except ApplicationError:
        return False
    return True


def test_fold_unifies_width_and_kana():
    assert fold("ｶﾌﾞｼｷｶﾞｲｼｬ ﾔﾏﾀﾞ") == fold("かぶしきがいしゃやまだ") == fold("カブシキガイシャ ヤマダ")
    assert fold("ＡＢＣ Trading") == "abctrading"


def test_phone_numbers_are_stored_as_e164_and_shown_nationally():
    assert normalize_phone("03-1234-5678") == "+81312345678"
    assert normalize_phone("０３（１２３４）５６７８") == "+81312345678"
    assert normalize_phone("+81 90 1234 5678") == "+819012345678"
    assert format_phone("+81312345678") == "03-1234-5678"
    assert format_phone("+442079460958").startswith("+44 20")


@pytest.mark.parametrize("value", ["123", "03-1234-567890123", "phone me", "0000000000"])
def test_invalid_phone_numbers_are_refused(value):
    with pytest.raises(ApplicationError, match="not a valid phone number"):
        normalize_phone(value)


def test_postal_codes():
    assert normalize_postal_code("〒100-0005") == "1000005"
    assert normalize_postal_code("１００００００") == "1000000"
    assert format_postal_code("1000005") == "〒100-0005"
    with pytest.raises(ApplicationError, match="7 digits"):
        normalize_postal_code("100-05")


def test_kana_readings_become_full_width_katakana():
    assert normalize_kana_reading("ﾔﾏﾀﾞ ｼｮｳｼﾞ", field="name_kana") == "ヤマダ ショウジ"
    assert normalize_kana_reading("やまだしょうじ", field="name_kana") == "ヤマダショウジ"
    with pytest.raises(ApplicationError, match="kana"):
        normalize_kana_reading("山田商事", field="name_kana")
