"""One page of a long list, counted and fetched in SQL (complaints, incidents, the inbox...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from piccolo.query import Count, Select

# Long enough to scan on a desk, short enough to load quickly on a phone.
PAGE_SIZE = 30


@dataclass(frozen=True)
class Page:
    """The rows of one page, the list's total and where the page sits in it."""

    rows: list[dict[str, Any]]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def page_number(raw: object) -> int:
    """A page asked for in a query string: anything but a positive number is the first page."""
    text = str(raw or "")
    return int(text) if text.isdigit() and int(text) > 0 else 1


def clamp(number: int, total: int, size: int) -> int:
    """A page past the end is the last page (a list that shrank keeps showing something)."""
    return min(max(number, 1), max(1, -(-total // size)))


async def fetch_page(select: Select, count: Count, number: int, size: int) -> Page:
    """Count first, so a page past the end is the last page, then fetch only that page."""
    total = await count
    number = clamp(number, total, size)
    rows = await select.limit(size).offset((number - 1) * size)
    return Page(rows=list(rows), total=total, number=number, size=size)
