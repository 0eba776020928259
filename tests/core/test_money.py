from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokui.core.money import (
    MINOR_UNITS,
    MoneyError,
    Rounding,
    check_amount,
    format_money,
    minor_units,
    parse_money,
    quantize,
    tax_by_rate,
)


def test_minor_units_follow_iso_4217():
    assert (minor_units("JPY"), minor_units("USD"), minor_units("KWD")) == (0, 2, 3)


@pytest.mark.parametrize("code", ["XXX", "jpy", "", None])
def test_an_unknown_currency_is_a_clear_value_error(code):
    with pytest.raises(ValueError, match="not a currency Tokui supports"):
        minor_units(code)


@pytest.mark.parametrize(
    ("amount", "currency", "rounding", "expected"),
    [
        (Decimal("1.5"), "JPY", Rounding.HALF_UP, Decimal("2")),
        (Decimal("2.5"), "JPY", Rounding.HALF_EVEN, Decimal("2")),
        (Decimal("1.9"), "JPY", Rounding.FLOOR, Decimal("1")),
        (Decimal("-1.1"), "JPY", Rounding.FLOOR, Decimal("-2")),
        (Decimal("-1.9"), "JPY", Rounding.DOWN, Decimal("-1")),
        (Decimal("1.001"), "USD", Rounding.CEILING, Decimal("1.01")),
        (Decimal("1.005"), "USD", Rounding.HALF_UP, Decimal("1.01")),
        (7, "USD", Rounding.HALF_UP, Decimal("7.00")),
    ],
)
def test_quantize_rounds_to_the_currency_with_the_named_rule(amount, currency, rounding, expected):
    result = quantize(amount, currency, rounding)
    assert result == expected
    assert result.as_tuple().exponent == -MINOR_UNITS[currency]


def test_half_up_is_the_default():
    assert quantize(Decimal("0.5"), "JPY") == Decimal("1")


@pytest.mark.parametrize("bad", [1.5, "1.5", True])
def test_floats_and_text_are_not_money(bad):
    with pytest.raises(TypeError):
        quantize(bad, "JPY")


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_amounts_are_refused(bad):
    with pytest.raises(MoneyError, match="finite"):
        quantize(bad, "JPY")


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("1234", "JPY", Decimal("1234")),
        ("1,234", "JPY", Decimal("1234")),
        ("￥１，２３４", "JPY", Decimal("1234")),
        ("¥1,234", "JPY", Decimal("1234")),
        ("1,234円", "JPY", Decimal("1234")),
        (" 1 234円 ", "JPY", Decimal("1234")),
        ("JPY 1,234", "JPY", Decimal("1234")),
        ("1234.00", "JPY", Decimal("1234")),
        ("$1,234.50", "USD", Decimal("1234.50")),
        ("US$ 0.5", "USD", Decimal("0.50")),
        ("1.234", "KWD", Decimal("1.234")),
        ("€3", "EUR", Decimal("3.00")),
    ],
)
def test_parse_money_accepts_how_people_write_amounts(text, currency, expected):
    result = parse_money(text, currency)
    assert result == expected
    assert result.as_tuple().exponent == -MINOR_UNITS[currency]


@pytest.mark.parametrize("text", ["-500", "−500", "△500", "▲500円", "¥-500", "-¥500"])
def test_negative_amounts_only_where_allowed(text):
    assert parse_money(text, "JPY", allow_negative=True) == Decimal("-500")
    with pytest.raises(MoneyError, match="negative"):
        parse_money(text, "JPY")


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("1234.5", "JPY", "JPY amounts have no decimals"),
        ("1.234", "USD", "at most 2 decimals"),
        ("NaN", "JPY", "not an amount"),
        ("inf", "JPY", "not an amount"),
        ("Infinity", "USD", "not an amount"),
        ("1e3", "JPY", "not an amount"),
        ("1,23", "JPY", "not an amount"),
        ("12,34,567", "JPY", "not an amount"),
        ("$5", "JPY", "not an amount"),
        ("5円", "USD", "not an amount"),
        ("", "JPY", "not an amount"),
        ("--5", "JPY", "not an amount"),
        ("1" + "0" * 15, "JPY", "too large"),
    ],
)
def test_parse_money_refuses_what_it_cannot_read_exactly(text, currency, message):
    with pytest.raises(MoneyError, match=message):
        parse_money(text, currency)


def test_parse_money_takes_text_only():
    with pytest.raises(TypeError):
        parse_money(12.5, "USD")  # type: ignore[arg-type]


def test_check_amount_names_the_field():
    with pytest.raises(MoneyError) as exc:
        check_amount(Decimal("-1"), "JPY", field="list_price")
    assert exc.value.errors == {"list_price": [exc.value.message]}


@given(st.decimals(min_value=0, max_value=10**12, places=2), st.sampled_from(["USD", "EUR"]))
def test_format_then_parse_round_trips(amount, currency):
    assert parse_money(format_money(amount, currency), currency) == amount


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (Decimal("1234"), "JPY", "en", "¥1,234"),
        (Decimal("1234"), "JPY", "ja", "1,234円"),
        (Decimal("1234"), "JPY", "ja-jp", "1,234円"),
        (Decimal("-1234"), "JPY", "ja", "-1,234円"),
        (Decimal("1234.5"), "USD", "en", "$1,234.50"),
        (Decimal("1234.5"), "USD", "ja", "$1,234.50"),
        (Decimal("-5"), "EUR", "en", "-€5.00"),
        (Decimal("1.5"), "KWD", "en", "1.500 KWD"),
        (Decimal("0.5"), "JPY", "en", "¥1"),
    ],
)
def test_format_money(amount, currency, locale, expected):
    assert format_money(amount, currency, locale) == expected


def test_tax_is_computed_once_per_rate_on_the_rate_total():
    # Per line, 3 × floor(105 × 10%) = 30; on the total, floor(315 × 10%) = 31.
    lines = [(Decimal(105), Decimal(10))] * 3 + [(Decimal(1001), Decimal(8))]
    assert tax_by_rate(lines) == {
        Decimal(10): (Decimal(315), Decimal(31)),
        Decimal(8): (Decimal(1001), Decimal(80)),
    }
    assert list(tax_by_rate(lines)) == [Decimal(10), Decimal(8)]


def test_tax_rounding_truncates_by_default_and_can_be_chosen():
    lines = [(Decimal(1009), Decimal(10))]
    assert tax_by_rate(lines)[Decimal(10)][1] == Decimal(100)
    assert tax_by_rate(lines, rounding=Rounding.HALF_UP)[Decimal(10)][1] == Decimal(101)
    assert tax_by_rate(lines, rounding="ceiling")[Decimal(10)][1] == Decimal(101)


def test_a_return_mirrors_the_sale_it_reverses():
    sale = tax_by_rate([(Decimal(1009), Decimal(10))])
    refund = tax_by_rate([(Decimal(-1009), Decimal(10))])
    assert refund[Decimal(10)] == (-sale[Decimal(10)][0], -sale[Decimal(10)][1])


def test_tax_in_usd_keeps_cents():
    assert tax_by_rate([(Decimal("10.05"), Decimal(10))], "USD") == {
        Decimal(10): (Decimal("10.05"), Decimal("1.00"))
    }


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ([(Decimal("10.5"), Decimal(10))], MoneyError),
        ([(Decimal(10), Decimal(101))], MoneyError),
        ([(Decimal(10), Decimal(-1))], MoneyError),
        ([(10.5, Decimal(10))], TypeError),
    ],
)
def test_bad_tax_lines_are_refused(lines, error):
    with pytest.raises(error):
        tax_by_rate(lines)
