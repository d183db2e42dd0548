"""Links between the pages of a long list, with the list's other filters kept.

Every long list pages the same way: `?page=N` (the first page has no parameter), the total
shown, and the shared macro `_pager.html` under it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from registry.paging import Page, clamp, page_number

Row = TypeVar("Row")


@dataclass(frozen=True)
class Pager:
    """One page of a long list, with the links to its neighbours (the other filters kept)."""

    page: int
    pages: int
    total: int
    prev_link: str | None
    next_link: str | None


def pager(
    page: Page, base: str, params: Mapping[str, str] | None = None, anchor: str = ""
) -> Pager:
    """The pager under a page fetched in SQL."""
    return _links(page.number, page.pages, page.total, base, params, anchor)


def paged(
    rows: Sequence[Row],
    page: str | int,
    base: str,
    params: Mapping[str, str] | None = None,
    anchor: str = "",
    size: int = 50,
) -> tuple[Sequence[Row], Pager]:
    """The asked page of a list already in memory (out-of-range asks get the nearest page)."""
    number = clamp(page_number(page), len(rows), size)
    start = (number - 1) * size
    pages = max(1, -(-len(rows) // size))
    return rows[start : start + size], _links(number, pages, len(rows), base, params, anchor)


def _links(
    number: int,
    pages: int,
    total: int,
    base: str,
    params: Mapping[str, str] | None,
    anchor: str,
) -> Pager:
    kept = {k: v for k, v in (params or {}).items() if v}

    def link(n: int) -> str:
        query = urlencode({**kept, **({"page": str(n)} if n > 1 else {})})
        return f"{base}{'?' + query if query else ''}{'#' + anchor if anchor else ''}"

    return Pager(
        page=number,
        pages=pages,
        total=total,
        prev_link=link(number - 1) if number > 1 else None,
        next_link=link(number + 1) if number < pages else None,
    )
