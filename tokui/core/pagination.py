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

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.page_size))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

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


def page_slice(qs: QuerySet[Any], *, page: int = 1, page_size: int | None = None) -> PageSlice:
    size = page_size or settings.TOKUI_PAGE_SIZE
    size = min(max(size, 1), settings.TOKUI_MAX_PAGE_SIZE)
    page = min(max(page, 1), MAX_PAGE)
    count = qs.count()
    start = (page - 1) * size
    items = list(qs[start : start + size]) if start < count else []
    return PageSlice(items=items, count=count, page=page, page_size=size)
