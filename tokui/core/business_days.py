"""Japanese business days (営業日) for money: when a bank transfer can actually happen.

A business day is Monday to Friday that is neither a Japanese public holiday (祝日・振替休日・国民の
休日, from the ``holidays`` package) nor one of the banks' year-end holidays, 12月31日 to 1月3日:
Japanese banks are closed then (銀行法施行令 第5条), so a payment due on 1月2日 moves like one due
on a Sunday. (Sales working days, e.g. for daily reports, are counted by
``tokui.activities.daily_reports.working_days``, which knows nothing of the banks.)
"""

import datetime
from functools import lru_cache

import holidays

_ONE_DAY = datetime.timedelta(days=1)
# Far enough for any payment date; the loops below never run longer than a bank holiday.
_SEARCH_LIMIT = 31


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("JP", years=[year]))


def is_bank_year_end(day: datetime.date) -> bool:
    """12月31日 to 1月3日: Japanese banks are closed."""
    return (day.month == 12 and day.day == 31) or (day.month == 1 and day.day <= 3)


def is_business_day(day: datetime.date) -> bool:
    """Monday to Friday, not a public holiday of Japan and not a bank year-end holiday."""
    return day.weekday() < 5 and not is_bank_year_end(day) and day not in _public_holidays(day.year)


def next_business_day(day: datetime.date) -> datetime.date:
    """``day`` itself if it is a business day, else the first business day after it."""
    for _ in range(_SEARCH_LIMIT):
        if is_business_day(day):
            return day
        day += _ONE_DAY
    raise ValueError("no business day within a month")  # pragma: no cover


def previous_business_day(day: datetime.date) -> datetime.date:
    """``day`` itself if it is a business day, else the last business day before it."""
    for _ in range(_SEARCH_LIMIT):
        if is_business_day(day):
            return day
        day -= _ONE_DAY
    raise ValueError("no business day within a month")  # pragma: no cover
