"""GET /api/v1/whitelist: search the public whitelist (listed and under rectification)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import get
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, QueryParameter

from registry.public.search import Filters, Result, Sort, search
from registry.public.search.tokens import Query, highlight, parse_query

GRADE_BANDS = {"lower_primary": "小学低年级", "upper_primary": "小学高年级", "middle": "初中"}
MAX_PAGE_SIZE = 100


class Highlight(msgspec.Struct):
    name: str
    courses: list[str]


class WhitelistItem(msgspec.Struct):
    id: int
    organisation_id: int
    name: str
    provider_kind: str
    district: str
    district_name: str
    categories: list[str]
    state: str
    rectifying: bool
    courses: list[str]
    grade_bands: list[str]
    fee_min: int | None
    fee_max: int | None
    latest_grade: str | None
    listed_at: datetime | None
    valid_until: date | None
    highlight: Highlight


class WhitelistPage(msgspec.Struct):
    total: int
    page: int
    page_size: int
    items: list[WhitelistItem]
    facets: dict[str, dict[str, int]]


def _bad(field: str, message: str) -> ValidationException:
    # The error handler turns `extra` into {field, code, message} entries.
    return ValidationException(detail=message, extra=[{"key": field, "message": message}])


def make_filters(
    district: list[str] | None,
    category: list[str] | None,
    grade_band: str | None,
    fee_min: int | None,
    fee_max: int | None,
    grade: str | None,
    rectifying: bool | None,
) -> Filters:
    """Filters from query parameters; an unknown grade band or a reversed fee range is a 400."""
    if grade_band and grade_band not in GRADE_BANDS:
        raise _bad("grade_band", "grade_band")
    if fee_min is not None and fee_max is not None and fee_min > fee_max:
        raise _bad("fee_min", "fee_min")
    return Filters(
        districts=[d for d in district or [] if d],
        categories=[c for c in category or [] if c],
        grade_band=grade_band or None,
        fee_min=fee_min,
        fee_max=fee_max,
        grade=grade or None,
        rectifying=rectifying,
    )


def to_item(row: dict[str, Any], query: Query) -> WhitelistItem:
    """One result for the API and the page."""
    courses = [c for c in (row["courses"] or "").split("\n") if c]
    return WhitelistItem(
        id=row["listing_id"],
        organisation_id=row["organisation_id"],
        name=row["organisation_name"],
        provider_kind=row["provider_kind"],
        district=row["district_code"],
        district_name=row["district_name"],
        categories=(row["categories"] or "").split(),
        state=row["state"],
        rectifying=row["rectifying"],
        courses=courses,
        grade_bands=(row["grade_bands"] or "").split(),
        fee_min=row["fee_min"],
        fee_max=row["fee_max"],
        latest_grade=row["latest_grade"],
        listed_at=row["listed_at"],
        valid_until=row["valid_until"],
        highlight=Highlight(
            name=str(highlight(row["organisation_name"], query)),
            courses=[str(highlight(c, query)) for c in courses],
        ),
    )


async def run_search(
    q: str, filters: Filters, sort: Sort, page: int, page_size: int
) -> tuple[Result, list[WhitelistItem]]:
    """The search and its items, shared by the API and the page."""
    result = await search(q, filters, sort, page, page_size)
    query = parse_query(q)
    return result, [to_item(row, query) for row in result.items]


@get("/api/v1/whitelist", operation_id="searchWhitelist", tags=["whitelist"])
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
    filters = make_filters(district, category, grade_band, fee_min, fee_max, grade, rectifying)
    result, items = await run_search(q, filters, sort, page, page_size)
    return WhitelistPage(
        total=result.total, page=page, page_size=page_size, items=items, facets=result.facets
    )


ROUTES: list[Any] = [search_whitelist]
