"""Payment terms (締め日・支払日) and Japanese business days: pure, no database."""

import datetime

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from tokui.core.business_days import is_business_day, next_business_day, previous_business_day
from tokui.pricing.models import MONTH_END, BusinessDayRule
from tokui.pricing.payment_terms import PaymentTerms, payment_terms_label

D = datetime.date
NEXT, PREVIOUS, NONE = BusinessDayRule.NEXT, BusinessDayRule.PREVIOUS, BusinessDayRule.NONE

# 月末締め翌月末払い
MONTH_END_NEXT_MONTH_END = PaymentTerms(MONTH_END, 1, MONTH_END, NEXT)
# 20日締め翌月10日払い
TWENTIETH_NEXT_TENTH = PaymentTerms(20, 1, 10, NEXT)


@pytest.mark.parametrize(
    ("invoice", "closing", "due", "paid"),
    [
        (D(2027, 1, 15), D(2027, 1, 31), D(2027, 2, 28), D(2027, 3, 1)),  # 28 days, a Sunday
        (D(2028, 1, 10), D(2028, 1, 31), D(2028, 2, 29), D(2028, 2, 29)),  # leap year
        (D(2026, 3, 31), D(2026, 3, 31), D(2026, 4, 30), D(2026, 4, 30)),  # 30 days; on closing
        (D(2026, 4, 1), D(2026, 4, 30), D(2026, 5, 31), D(2026, 6, 1)),  # 31 days, a Sunday
        (D(2026, 7, 2), D(2026, 7, 31), D(2026, 8, 31), D(2026, 8, 31)),  # 31 days, a Monday
        (D(2026, 12, 5), D(2026, 12, 31), D(2027, 1, 31), D(2027, 2, 1)),  # across the year
    ],
)
def test_month_end_closing_paid_at_the_end_of_the_next_month(invoice, closing, due, paid):
    terms = MONTH_END_NEXT_MONTH_END
    assert terms.closing_date(invoice) == closing
    assert terms.due_date(invoice) == due
    assert terms.payment_date(invoice) == paid


def test_month_end_due_dates_follow_the_length_of_the_month():
    terms = PaymentTerms(MONTH_END, 1, MONTH_END, NONE)
    assert terms.due_date(D(2027, 1, 20)) == D(2027, 2, 28)
    assert terms.due_date(D(2028, 1, 20)) == D(2028, 2, 29)
    assert terms.due_date(D(2026, 3, 20)) == D(2026, 4, 30)
    assert terms.due_date(D(2026, 6, 20)) == D(2026, 7, 31)
    # Feb 28 2027 is a Sunday: the next business day is Monday Mar 1.
    assert MONTH_END_NEXT_MONTH_END.payment_date(D(2027, 1, 20)) == D(2027, 3, 1)


def test_twentieth_closing_paid_on_the_tenth_of_the_next_month():
    terms = TWENTIETH_NEXT_TENTH
    # Up to the 20th closes on the 20th; from the 21st on the next month's 20th.
    assert terms.closing_date(D(2026, 6, 20)) == D(2026, 6, 20)
    assert terms.payment_date(D(2026, 6, 20)) == D(2026, 7, 10)  # Friday
    assert terms.closing_date(D(2026, 6, 21)) == D(2026, 7, 20)
    assert terms.payment_date(D(2026, 6, 21)) == D(2026, 8, 10)  # Monday
    # Oct 10 2026 is a Saturday → Monday Oct 12 is スポーツの日 → Tuesday Oct 13.
    assert terms.payment_date(D(2026, 9, 1)) == D(2026, 10, 13)
    # Dec 21 closes on Jan 20, paid Feb 10 (Wednesday).
    assert terms.closing_date(D(2026, 12, 21)) == D(2027, 1, 20)
    assert terms.payment_date(D(2026, 12, 21)) == D(2027, 2, 10)


def test_fifteenth_closing_paid_at_the_end_of_this_month():
    terms = PaymentTerms(15, 0, MONTH_END, NEXT)  # 15日締め当月末払い
    assert terms.closing_date(D(2026, 6, 3)) == D(2026, 6, 15)
    assert terms.payment_date(D(2026, 6, 3)) == D(2026, 6, 30)


def test_a_payment_day_before_the_closing_in_the_same_month_means_the_next_month():
    terms = PaymentTerms(20, 0, 10, NONE)  # "20日締め当月10日払い" cannot pay before closing
    assert terms.payment_date(D(2026, 6, 1)) == D(2026, 7, 10)


def test_a_payment_due_on_a_holiday_moves_to_the_next_business_day():
    # 5日払い in May 2026: こどもの日 (Tue) → 振替休日 May 6 (Wed) → Thursday May 7.
    terms = PaymentTerms(MONTH_END, 1, 5, NEXT)
    assert terms.due_date(D(2026, 4, 10)) == D(2026, 5, 5)
    assert terms.payment_date(D(2026, 4, 10)) == D(2026, 5, 7)
    # ... or back to Friday May 1 with "previous" (May 2–6 are all off).
    previous = PaymentTerms(MONTH_END, 1, 5, PREVIOUS)
    assert previous.payment_date(D(2026, 4, 10)) == D(2026, 5, 1)
    # ... or stays with "no adjustment".
    assert PaymentTerms(MONTH_END, 1, 5, NONE).payment_date(D(2026, 4, 10)) == D(2026, 5, 5)


def test_the_banks_year_end_holidays_are_not_business_days():
    # 1日払い on 2027-01-01 (元日, Friday): Jan 2–3 are bank holidays and a weekend → Jan 4.
    terms = PaymentTerms(MONTH_END, 1, 1, NEXT)
    assert terms.due_date(D(2026, 12, 10)) == D(2027, 1, 1)
    assert terms.payment_date(D(2026, 12, 10)) == D(2027, 1, 4)
    # Dec 31 2026 (Thursday) is no public holiday, but the banks are closed: back to Dec 30.
    month_end = PaymentTerms(MONTH_END, 1, MONTH_END, PREVIOUS)
    assert month_end.due_date(D(2026, 11, 2)) == D(2026, 12, 31)
    assert month_end.payment_date(D(2026, 11, 2)) == D(2026, 12, 30)
    assert not is_business_day(D(2027, 1, 2)) and not is_business_day(D(2026, 12, 31))
    assert is_business_day(D(2027, 1, 4))


def test_a_month_end_payment_on_a_saturday_moves_back_with_previous():
    # Jan 31 2026 is a Saturday: "previous" pays on Friday Jan 30, "next" on Monday Feb 2.
    terms = PaymentTerms(MONTH_END, 1, MONTH_END, PREVIOUS)
    assert terms.due_date(D(2025, 12, 15)) == D(2026, 1, 31)
    assert terms.payment_date(D(2025, 12, 15)) == D(2026, 1, 30)
    assert MONTH_END_NEXT_MONTH_END.payment_date(D(2025, 12, 15)) == D(2026, 2, 2)


def test_previous_never_moves_the_payment_before_the_closing():
    # Closing and paying on May 31 2026 (a Sunday): backwards would be before the closing.
    terms = PaymentTerms(MONTH_END, 0, MONTH_END, PREVIOUS)
    assert terms.payment_date(D(2026, 5, 10)) == D(2026, 6, 1)


def test_business_day_helpers():
    assert next_business_day(D(2026, 5, 2)) == D(2026, 5, 7)
    assert previous_business_day(D(2026, 5, 6)) == D(2026, 5, 1)
    assert next_business_day(D(2026, 5, 7)) == D(2026, 5, 7)


def test_labels_are_built_from_parts():
    with translation.override("en"):
        assert payment_terms_label(MONTH_END_NEXT_MONTH_END) == (
            "closing at month end, paid at the end of the next month"
        )
        assert payment_terms_label(TWENTIETH_NEXT_TENTH) == (
            "closing on the 20th, paid on the 10th of the next month"
        )
        assert payment_terms_label(PaymentTerms(15, 0, MONTH_END, NEXT)) == (
            "closing on the 15th, paid at the end of this month"
        )
        assert payment_terms_label(PaymentTerms(1, 2, 22, NEXT)) == (
            "closing on the 1st, paid on the 22nd of the month after next"
        )
        assert payment_terms_label(PaymentTerms(3, 3, 11, NEXT)) == (
            "closing on the 3rd, paid on the 11th of 3 months later"
        )


def test_examples_are_consecutive_billing_periods():
    rows = TWENTIETH_NEXT_TENTH.examples(D(2026, 6, 25))
    assert [r[1] for r in rows] == [D(2026, 7, 20), D(2026, 8, 20), D(2026, 9, 20)]
    assert rows[1][0] == D(2026, 7, 21)


days = st.integers(min_value=0, max_value=28)
terms_strategy = st.builds(
    PaymentTerms,
    closing_day=days,
    payment_month_offset=st.integers(min_value=0, max_value=12),
    payment_day=days,
    business_day_rule=st.sampled_from([NEXT, PREVIOUS, NONE]),
)


@given(terms=terms_strategy, invoice=st.dates(D(2020, 1, 1), D(2040, 12, 31)))
def test_the_payment_is_never_before_the_closing_and_on_a_business_day(terms, invoice):
    closing = terms.closing_date(invoice)
    paid = terms.payment_date(invoice)
    assert invoice <= closing < invoice + datetime.timedelta(days=32)
    assert paid >= closing
    if terms.business_day_rule != NONE:
        assert is_business_day(paid)
    else:
        assert paid == terms.due_date(invoice)
