"""Paging for lists on pages and in the API."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

MAX_PAGE = 1_000_000


@dataclass
class PageSlice:
    items: list[Any]
    count: int
    page: int
    page_size: int
    # False when counting stopped at a limit: ``count`` is then "at least this many".
    count_exact: bool = True

    @property
    def num_pages(self) -> int:
        pages = max(1, -(-self.count // self.page_size))
        return pages if self.count_exact else max(pages, self.page + int(self.has_next))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        if not self.count_exact:
            return len(self.items) == self.page_size
        return self.page * self.page_size < self.count

    @property
    def start_index(self) -> int:
        return 0 if not self.items else (self.page - 1) * self.page_size + 1

    @property
    def end_index(self) -> int:
        return (self.page - 1) * self.page_size + len(self.items)


def parse_positive_int(value: Any, default: int, maximum: int) -> int:
    """A page number or size from a query string: junk falls back to the default."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return default
    return min(max(number, 1), maximum)


def page_slice(
    qs: QuerySet[Any],
    *,
    page: int = 1,
    page_size: int | None = None,
    count_qs: QuerySet[Any] | None = None,
    count_limit: int | None = None,
    count: int | None = None,
) -> PageSlice:
    """One page of ``qs`` and how many rows there are.

    ``count_qs`` counts the same rows as ``qs`` in a shape the database counts faster (see
    the selectors' ``for_count``). With ``count_limit`` counting stops after that many rows and
    the page says "more than N": an exact count of a hundred thousand visible rows costs more
    than the page itself, and nobody pages that far. ``count``: the number of rows when the
    caller has it already (e.g. from the counts it shows above the list): nothing is counted.
    """
    size = page_size or settings.TOKUI_PAGE_SIZE
    size = min(max(size, 1), settings.TOKUI_MAX_PAGE_SIZE)
    page = min(max(page, 1), MAX_PAGE)
    counted = (qs if count_qs is None else count_qs).order_by()
    start = (page - 1) * size
    if count is not None:
        exact = True
    elif count_limit is None:
        count = counted.count()
        exact = True
    else:
        count = counted[: count_limit + 1].count()
        exact = count <= count_limit
        count = min(count, count_limit)
    items = list(qs[start : start + size]) if start < count or not exact else []
    return PageSlice(items=items, count=count, page=page, page_size=size, count_exact=exact)
