"""Money as ``Decimal``: minor units per currency, rounding, parsing, display and tax by rate.

Amounts are never floats: a float cannot hold ¥0.1 or $0.10 exactly, so every helper here
refuses one (``TypeError``). Each currency keeps its ISO 4217 minor units — JPY has none, USD
two, KWD three — and an amount is rounded to them once, where a price is decided, with
``ROUND_HALF_UP`` unless the caller names another rule. Japanese consumption tax is usually
truncated (切り捨て), so ``tax_by_rate`` truncates by default.

Errors a person can act on are ``MoneyError``: an ``ApplicationError`` (so views and the API
show it) that is also a ``ValueError`` (so plain Python callers can catch it as one).
"""

import re
import unicodedata
from collections.abc import Iterable
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Decimal,
)
from enum import StrEnum

from django.utils.translation import gettext as _

from tokui.core.exceptions import ApplicationError


class MoneyError(ApplicationError, ValueError):
    """A bad amount or currency, with a message for the person who typed or sent it."""


# ISO 4217 codes Tokui supports, with their minor units (digits after the decimal point).
MINOR_UNITS: dict[str, int] = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CHF": 2,
    "CNY": 2,
    "HKD": 2,
    "TWD": 2,
    "SGD": 2,
    "THB": 2,
    "MYR": 2,
    "IDR": 2,
    "PHP": 2,
    "INR": 2,
    "AUD": 2,
    "NZD": 2,
    "CAD": 2,
    "KWD": 3,
}

# Symbols, the first one for display; ``parse_money`` accepts any of them and the code itself.
SYMBOLS: dict[str, tuple[str, ...]] = {
    "JPY": ("¥", "円"),
    "USD": ("$", "US$"),
    "EUR": ("€",),
    "GBP": ("£",),
    "CNY": ("CN¥", "元"),
    "KRW": ("₩",),
    "HKD": ("HK$",),
    "TWD": ("NT$",),
    "SGD": ("S$",),
    "AUD": ("A$",),
    "NZD": ("NZ$",),
    "CAD": ("CA$",),
    "INR": ("₹",),
    "THB": ("฿",),
}

# Larger amounts are typing mistakes, not prices: a quadrillion yen is beyond any deal.
MAX_AMOUNT = Decimal(10) ** 15


class Rounding(StrEnum):
    HALF_UP = "half_up"  # the default for prices: ¥0.5 rounds up
    HALF_EVEN = "half_even"  # banker's rounding
    FLOOR = "floor"  # towards −∞
    CEILING = "ceiling"  # towards +∞ (a floor price that must never be undercut)
    DOWN = "down"  # towards zero: 切り捨て, same as FLOOR for amounts ≥ 0


_DECIMAL_ROUNDING = {
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
    Rounding.FLOOR: ROUND_FLOOR,
    Rounding.CEILING: ROUND_CEILING,
    Rounding.DOWN: ROUND_DOWN,
}


def minor_units(currency: str) -> int:
    """Digits after the decimal point for an ISO 4217 code; an unknown code is a MoneyError."""
    try:
        return MINOR_UNITS[currency]
    except (KeyError, TypeError):
        raise MoneyError(
            _("“%(code)s” is not a currency Tokui supports.") % {"code": currency},
            field="currency",
            code="unknown_currency",
        ) from None


def _exponent(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def _as_decimal(amount: Decimal | int) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"money must be a Decimal or an int, not {type(amount).__name__}")
    value = Decimal(amount)
    if not value.is_finite():
        raise MoneyError(_("An amount must be a finite number."), code="not_a_number")
    return value


def quantize(
    amount: Decimal | int, currency: str, rounding: Rounding | str = Rounding.HALF_UP
) -> Decimal:
    """``amount`` with exactly the currency's minor units: ``quantize(Decimal("1.5"), "JPY")``
    is ``Decimal("2")``, ``quantize(1, "USD")`` is ``Decimal("1.00")``."""
    value = _as_decimal(amount)
    return value.quantize(_exponent(currency), rounding=_DECIMAL_ROUNDING[Rounding(rounding)])


def check_amount(
    amount: Decimal | int,
    currency: str,
    *,
    allow_negative: bool = False,
    field: str | None = None,
) -> Decimal:
    """A stored or sent amount, validated and returned with the currency's minor units.

    Refuses, with a MoneyError naming ``field``: non-finite values, negative ones unless
    allowed, amounts of a quadrillion or more, and digits the currency cannot hold
    (``¥1,234.5``). Trailing zeros are fine: ``Decimal("1234.00")`` is ¥1,234.
    """
    value = _as_decimal(amount)
    if value < 0 and not allow_negative:
        raise MoneyError(
            _("An amount may not be negative here."), field=field, code="negative_amount"
        )
    if abs(value) >= MAX_AMOUNT:
        raise MoneyError(
            _("%(amount)s is too large to be a price.") % {"amount": value},
            field=field,
            code="absurd_amount",
        )
    exact = quantize(value, currency)
    if exact != value:
        places = minor_units(currency)
        message = (
            _("%(code)s amounts have no decimals.") % {"code": currency}
            if places == 0
            else _("%(code)s amounts have at most %(places)d decimals.")
            % {"code": currency, "places": places}
        )
        raise MoneyError(message, field=field, code="too_many_decimals")
    return exact


_NUMBER = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")
_MINUS_SIGNS = str.maketrans({"−": "-", "‐": "-", "▲": "-", "△": "-"})


def parse_money(
    text: str, currency: str, *, allow_negative: bool = False, field: str | None = None
) -> Decimal:
    """An amount a person typed: ``"￥１，２３４"``, ``"1,234円"``, ``"$1,234.50"``, ``"△500"``.

    Full-width forms are folded (NFKC), commas must group thousands, the currency's own
    symbols or code may lead or trail, and ``-``, ``−``, ``▲`` or ``△`` marks a negative.
    Returns a Decimal with the currency's minor units; everything else is a MoneyError.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_money takes text, not {type(text).__name__}")
    minor_units(currency)  # an unknown code fails before the text is looked at
    cleaned = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).translate(_MINUS_SIGNS))
    negative = False
    for marker in sorted((*SYMBOLS.get(currency, ()), currency), key=len, reverse=True):
        if cleaned.startswith("-") and not negative:
            negative, cleaned = True, cleaned[1:]
        cleaned = cleaned.removeprefix(marker).removesuffix(marker)
    if cleaned.startswith("-") and not negative:  # "¥-500": the sign after the symbol
        negative, cleaned = True, cleaned[1:]
    match = _NUMBER.fullmatch(cleaned)
    if not match:
        raise MoneyError(
            _("“%(text)s” is not an amount in %(code)s: write digits, like 1,234.")
            % {"text": text.strip(), "code": currency},
            field=field,
            code="not_an_amount",
        )
    value = Decimal(match.group(1).replace(",", "") + "." + (match.group(2) or "0"))
    return check_amount(
        -value if negative else value, currency, allow_negative=allow_negative, field=field
    )


def format_money(amount: Decimal | int, currency: str, locale: str = "en") -> str:
    """An amount for people: ``¥1,234`` (en), ``1,234円`` (ja), ``$1,234.50``, ``-€5.00``.

    Rounds half up to the currency's minor units; a currency without a symbol shows its code
    after the number (``1,234.500 KWD``).
    """
    value = quantize(amount, currency)
    places = minor_units(currency)
    digits = f"{abs(value):,.{places}f}"
    sign = "-" if value < 0 else ""
    if currency == "JPY" and locale.lower().replace("_", "-").split("-")[0] == "ja":
        return f"{sign}{digits}円"
    symbols = SYMBOLS.get(currency)
    if symbols:
        return f"{sign}{symbols[0]}{digits}"
    return f"{sign}{digits} {currency}"


def tax_by_rate(
    lines: Iterable[tuple[Decimal, Decimal]],
    currency: str = "JPY",
    *,
    rounding: Rounding | str = Rounding.DOWN,
) -> dict[Decimal, tuple[Decimal, Decimal]]:
    """Consumption tax the 適格請求書 (qualified invoice) way: ``{rate: (net, tax)}``.

    ``lines`` are ``(net amount, rate in percent)`` pairs, e.g. ``(Decimal("1200"),
    Decimal("10"))``. The nets of each rate are added first and tax is computed once per rate
    on that total and rounded once — rounding per line is what the invoice rules forbid.
    The default rounding truncates (切り捨て): for sales it is the floor; for returns
    (negative nets) it truncates towards zero so a refund mirrors the sale it reverses.
    Rates come out highest first (10% before 8%), as invoices list them.
    """
    totals: dict[Decimal, Decimal] = {}
    for net, rate in lines:
        net = check_amount(net, currency, allow_negative=True, field="net")
        rate = _as_decimal(rate)
        if not 0 <= rate <= 100:
            raise MoneyError(
                _("A tax rate is a percentage between 0 and 100."), field="rate", code="bad_rate"
            )
        totals[rate] = totals.get(rate, Decimal(0)) + net
    return {
        rate: (quantize(net, currency), quantize(net * rate / 100, currency, rounding))
        for rate, net in sorted(totals.items(), reverse=True)
    }
