"""GET /api/v1/whitelist: search the public whitelist (listed and under rectification)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, QueryParameter

from registry.public.search import Sort
from registry.public.search.service import BadFilter, WhitelistItem, make_filters, run_search
from registry.web.page_cache import PUBLIC_PAGE

MAX_PAGE_SIZE = 100


class WhitelistPage(msgspec.Struct):
    total: int
    page: int
    page_size: int
    items: list[WhitelistItem]
    facets: dict[str, dict[str, int]]
    # Issue 13: the query as the words it was read as; the words left out when the items
    # are a partial match (empty otherwise); a corrected query for a pinyin typo, or null.
    words: list[str] = []
    missing: list[str] = []
    suggestion: str | None = None


def _bad(field: str, message: str) -> ValidationException:
    # The error handler turns `extra` into {field, code, message} entries.
    return ValidationException(detail=message, extra=[{"key": field, "message": message}])


@get(
    "/api/v1/whitelist",
    operation_id="searchWhitelist",
    tags=["whitelist"],
    # The same answer for every client without a session: kept whole, like the search page.
    opt={PUBLIC_PAGE: True},
)
async def search_whitelist(
    q: FromQuery[str] = "",
    district: FromQuery[list[str] | None] = None,
    category: FromQuery[list[str] | None] = None,
    grade_band: FromQuery[str | None] = None,
    fee_min: Annotated[int | None, QueryParameter(ge=0)] = None,
    fee_max: Annotated[int | None, QueryParameter(ge=0)] = None,
    grade: FromQuery[str | None] = None,
    rectifying: FromQuery[bool | None] = None,
    sort: FromQuery[Sort] = Sort.relevance,
    page: Annotated[int, QueryParameter(ge=1)] = 1,
    page_size: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> WhitelistPage:
    """Search listed providers (and those under rectification, flagged) by keyword and filters."""
    try:
        filters = make_filters(district, category, grade_band, fee_min, fee_max, grade, rectifying)
    except BadFilter as error:  # an unknown grade band or a reversed fee range is a 400
        raise _bad(error.field, error.field) from error
    result, items = await run_search(q, filters, sort, page, page_size)
    return WhitelistPage(
        total=result.total,
        page=page,
        page_size=page_size,
        items=items,
        facets=result.facets,
        words=result.words,
        missing=result.missing,
        suggestion=result.suggestion,
    )


ROUTES: list[Any] = [search_whitelist]
