"""Japanese text and identifiers: folding for search, 法人番号, phone numbers, postal codes."""

import re
import unicodedata

import jaconv
import phonenumbers
from django.utils.translation import gettext as _

from tokui.core.exceptions import ApplicationError

_SPACES_AND_PUNCTUATION = re.compile(
    r"[\s\u3000・･.,，、。\-‐ー―−~〜/／()（）「」『』\[\]【】'\"]+"
)


def to_halfwidth_digits(text: str) -> str:
    """Full-width digits (and other compatibility forms) to their ASCII form."""
    return unicodedata.normalize("NFKC", text)


def fold(text: str) -> str:
    """A search key: NFKC, lower case, katakana as hiragana, no spaces.

    ``ｶﾌﾞｼｷｶﾞｲｼｬ`` and ``かぶしきがいしゃ`` fold alike, so do ``ＡＢＣ`` and ``abc``.
    The prolonged sound mark is kept: it is part of a reading.
    """
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = jaconv.kata2hira(text)
    return re.sub(r"\s+", "", text)


def corporate_number_check_digit(body: str) -> int:
    """The check digit of a 法人番号 from its other 12 digits.

    9 − (Σ digitᵢ × weightᵢ mod 9), weights 1, 2, 1, 2, … counted from the rightmost digit.
    """
    total = sum(int(d) * (1 if i % 2 == 0 else 2) for i, d in enumerate(reversed(body)))
    return 9 - total % 9


def normalize_corporate_number(value: str) -> str:
    """Validate a 法人番号 and return it as 13 half-width digits.

    Raises ApplicationError with a message a person can act on.
    """
    digits = re.sub(r"[\s\-‐]", "", to_halfwidth_digits(value or ""))
    if digits and (not digits.isascii() or not digits.isdigit()):
        raise ApplicationError(_("A corporate number has digits only."), field="corporate_number")
    if len(digits) != 13:
        raise ApplicationError(
            _("A corporate number has 13 digits; this one has %(n)d.") % {"n": len(digits)},
            field="corporate_number",
        )
    if int(digits[0]) != corporate_number_check_digit(digits[1:]):
        raise ApplicationError(
            _("This corporate number's check digit is wrong: please check it for a typo."),
            field="corporate_number",
        )
    return digits


def normalize_phone(value: str, *, field: str = "phone", region: str = "JP") -> str:
    """Parse a phone number in any common format and return it as E.164 (``+81312345678``)."""
    text = to_halfwidth_digits(value or "").strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ApplicationError(
            _("“%(value)s” is not a valid phone number.") % {"value": value[:40]}, field=field
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """A stored E.164 number as people write it: national format at home, international abroad."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 81:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalize_postal_code(value: str) -> str:
    """A Japanese postal code as 7 digits (``1000001``); accepts ``〒100-0001`` and full width."""
    text = to_halfwidth_digits(value or "").replace("〒", "").strip()
    if not text:
        return ""
    digits = re.sub(r"[\s\-‐−]", "", text)
    if not re.fullmatch(r"\d{7}", digits):
        raise ApplicationError(_("A postal code has 7 digits, like 100-0001."), field="postal_code")
    return digits


def format_postal_code(digits: str) -> str:
    return f"〒{digits[:3]}-{digits[3:]}" if len(digits) == 7 else digits


def is_kana_reading(value: str) -> bool:
    """True when a reading holds only kana (either script, any width), spaces and marks."""
    text = unicodedata.normalize("NFKC", value)
    return all(
        ch.isspace()
        or "\u3040" <= ch <= "\u30ff"  # hiragana, katakana, ー, ・
        or ch in "（）()・"
        for ch in text
    )


def normalize_kana_reading(value: str, *, field: str) -> str:
    """A reading in full-width katakana (``ﾔﾏﾀﾞ`` and ``やまだ`` become ``ヤマダ``)."""
    text = unicodedata.normalize("NFKC", value or "").strip()
    text = re.sub(r"\s+", " ", text)
    if not text:
        return ""
    if not is_kana_reading(text):
        raise ApplicationError(_("Write the reading in kana (katakana or hiragana)."), field=field)
    return jaconv.hira2kata(text)
