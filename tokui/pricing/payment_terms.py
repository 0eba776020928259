"""Payment terms of an agreement (支払条件): when an invoice closes and when it is paid.

Pure (no database). Japanese customers agree terms as 締め日 and 支払日, e.g. 月末締め翌月末払い:
invoices are collected up to the closing day, and the month's total is paid on the payment day
``payment_month_offset`` months after the closing month. Days are 1–28, or 0 for the month
end (``MONTH_END``).

- ``closing_date(invoice_date)``: the first closing on or after the invoice date.
- ``payment_date(invoice_date)``: the payment day of the month ``offset`` months after the
  closing month, moved off days that are not business days (weekends, Japanese public holidays,
  the banks' 12月31日–1月3日; see ``tokui.core.business_days``) by the business-day rule.

Two invariants the pages and the API rely on: the payment date is never before the closing date
(a payment day that would fall before it, e.g. 20日締め当月10日払い, means the same day of the
following month; a "previous business day" that would fall before it moves forward instead),
and it is a business day unless the rule is "no adjustment".
"""

import calendar
import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.utils.translation import gettext, pgettext

from tokui.core.business_days import next_business_day, previous_business_day
from tokui.pricing.models import MONTH_END, BusinessDayRule


class _HasTerms(Protocol):
    closing_day: int
    payment_month_offset: int
    payment_day: int
    business_day_rule: str


def _month_day(year: int, month: int, day: int) -> datetime.date:
    """``day`` of the month, or its last day for ``MONTH_END`` (and past the month's end)."""
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, last if day == MONTH_END or day > last else day)


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class PaymentTerms:
    closing_day: int = MONTH_END
    payment_month_offset: int = 1
    payment_day: int = MONTH_END
    business_day_rule: str = BusinessDayRule.NEXT

    @classmethod
    def of(cls, agreement: _HasTerms) -> "PaymentTerms":
        return cls(
            closing_day=agreement.closing_day,
            payment_month_offset=agreement.payment_month_offset,
            payment_day=agreement.payment_day,
            business_day_rule=str(agreement.business_day_rule),
        )

    def closing_date(self, invoice_date: datetime.date) -> datetime.date:
        """The first closing on or after ``invoice_date``."""
        closing = _month_day(invoice_date.year, invoice_date.month, self.closing_day)
        if closing >= invoice_date:
            return closing
        year, month = _add_months(invoice_date.year, invoice_date.month, 1)
        return _month_day(year, month, self.closing_day)

    def due_date(self, invoice_date: datetime.date) -> datetime.date:
        """The agreed payment day, before any business-day adjustment."""
        closing = self.closing_date(invoice_date)
        year, month = _add_months(closing.year, closing.month, self.payment_month_offset)
        due = _month_day(year, month, self.payment_day)
        if due < closing:  # e.g. 20日締め当月10日払い: the 10th after the closing
            year, month = _add_months(year, month, 1)
            due = _month_day(year, month, self.payment_day)
        return due

    def payment_date(self, invoice_date: datetime.date) -> datetime.date:
        """When an invoice dated ``invoice_date`` is paid."""
        due = self.due_date(invoice_date)
        if self.business_day_rule == BusinessDayRule.NEXT:
            return next_business_day(due)
        if self.business_day_rule == BusinessDayRule.PREVIOUS:
            earlier = previous_business_day(due)
            # Never before the closing: then the next business day instead.
            return earlier if earlier >= self.closing_date(invoice_date) else next_business_day(due)
        return due

    def examples(
        self, start: datetime.date, count: int = 3
    ) -> list[tuple[datetime.date, datetime.date, datetime.date]]:
        """``count`` consecutive billing periods from ``start``: (invoice, closing, payment).

        The first invoice is ``start``; each next one is the day after the previous closing.
        """
        rows = []
        invoice = start
        for _ in range(count):
            closing = self.closing_date(invoice)
            rows.append((invoice, closing, self.payment_date(invoice)))
            invoice = closing + datetime.timedelta(days=1)
        return rows

    def label(self, gettext: Callable[..., str], pgettext: Callable[..., str]) -> str:
        """「月末締め翌月末払い」 / "closing at month end, paid at the end of the next month".

        Built from translatable parts, in the active language of the ``gettext`` given.
        """

        def ordinal(n: int) -> str:
            # English needs the suffix; other languages translate each form (e.g. "%(n)d日").
            if n % 10 == 1 and n != 11:
                form = pgettext("day of the month", "%(n)dst")
            elif n % 10 == 2 and n != 12:
                form = pgettext("day of the month", "%(n)dnd")
            elif n % 10 == 3 and n != 13:
                form = pgettext("day of the month", "%(n)drd")
            else:
                form = pgettext("day of the month", "%(n)dth")
            return form % {"n": n}

        if self.closing_day == MONTH_END:
            closing = gettext("closing at month end")
        else:
            closing = gettext("closing on the %(day)s") % {"day": ordinal(self.closing_day)}
        months = self.payment_month_offset
        if months == 0:
            month = gettext("this month")
        elif months == 1:
            month = gettext("the next month")
        elif months == 2:
            month = gettext("the month after next")
        else:
            month = gettext("%(n)d months later") % {"n": months}
        if self.payment_day == MONTH_END:
            payment = gettext("paid at the end of %(month)s") % {"month": month}
        else:
            payment = gettext("paid on the %(day)s of %(month)s") % {
                "day": ordinal(self.payment_day),
                "month": month,
            }
        return gettext("%(closing)s, %(payment)s") % {"closing": closing, "payment": payment}


def payment_terms_label(agreement: _HasTerms) -> str:
    """The agreement's payment terms in the active language."""
    return PaymentTerms.of(agreement).label(gettext, pgettext)


def payment_date(agreement: _HasTerms, invoice_date: datetime.date) -> datetime.date:
    return PaymentTerms.of(agreement).payment_date(invoice_date)


def closing_date(agreement: _HasTerms, invoice_date: datetime.date) -> datetime.date:
    return PaymentTerms.of(agreement).closing_date(invoice_date)
