"""What the whitelist API and the search page share: filters from plain values, and a search
whose items carry their highlighted name and courses.

No HTTP here: a bad filter is a `BadFilter` naming the field; each adapter answers it its way.
A repeated filter with more values than there are districts or categories is `Refused` (422
naming the parameter, on the API and the page alike): each value costs a condition in the
statement, and SQLite refuses an expression tree past depth 1000.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import astuple
from datetime import date, datetime
from typing import Any

import msgspec

from registry.public.search import Filters, Result, Sort, generation, search
from registry.public.search.cache import AnswerCache
from registry.public.search.tokens import Query, highlight, parse_query
from registry.tables import WhitelistEntry
from workflows.checks import GRADE_BANDS
from workflows.context import Refusal
from workflows.engine import Refused

# More than Tianjin's 16 districts and the 9 categories: any real choice fits.
MAX_FILTER_VALUES = 20
LIST_PARAMETERS = {"district": "所在区", "category": "类别"}


class BadFilter(ValueError):
    """A filter that cannot be applied: an unknown grade band or a reversed fee range."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


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


def bounded(parameter: str, values: list[str] | None) -> list[str]:
    """The non-blank values of a repeatable parameter; Refused past MAX_FILTER_VALUES."""
    given = [v for v in values or [] if v]
    if len(given) > MAX_FILTER_VALUES:
        message = (
            f"筛选条件「{parameter}」（{LIST_PARAMETERS.get(parameter, parameter)}）"
            f"最多可选{MAX_FILTER_VALUES}项，本次请求有{len(given)}项"
        )
        raise Refused("筛选条件过多", [Refusal(parameter, "maxItems", message)])
    return given


def make_filters(
    district: list[str] | None,
    category: list[str] | None,
    grade_band: str | None,
    fee_min: int | None,
    fee_max: int | None,
    grade: str | None,
    rectifying: bool | None,
) -> Filters:
    """Filters from plain values (blanks dropped); BadFilter for an unknown grade band or a
    reversed fee range, Refused for too many districts or categories."""
    districts, categories = bounded("district", district), bounded("category", category)
    if grade_band and grade_band not in GRADE_BANDS:
        raise BadFilter("grade_band")
    if fee_min is not None and fee_max is not None and fee_min > fee_max:
        raise BadFilter("fee_min")
    return Filters(
        districts=districts,
        categories=categories,
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


_answers: AnswerCache[tuple[Result, list[WhitelistItem]]] = AnswerCache()


def _key(q: str, filters: Filters, sort: Sort, page: int, page_size: int) -> Hashable:
    values = tuple(tuple(v) if isinstance(v, list) else v for v in astuple(filters))
    return (q, values, sort, page, page_size)


async def run_search(
    q: str, filters: Filters, sort: Sort, page: int, page_size: int
) -> tuple[Result, list[WhitelistItem]]:
    """The search and its items, shared by the API and the page (callers must not change
    them: the same answer serves identical requests until the whitelist changes)."""
    if WhitelistEntry._meta.db.transaction_exists():  # it may see its own uncommitted writes
        return await _run_search(q, filters, sort, page, page_size)
    # Read before searching: an answer is kept under a generation no newer than the data it
    # was computed from, so a change committed meanwhile can only make it miss, never stale.
    seen = await generation.current()
    if seen is None:
        return await _run_search(q, filters, sort, page, page_size)
    key = _key(q, filters, sort, page, page_size)
    answer = _answers.get(seen, key)
    if answer is None:
        answer = await _run_search(q, filters, sort, page, page_size)
        _answers.put(seen, key, answer)
    return answer


async def _run_search(
    q: str, filters: Filters, sort: Sort, page: int, page_size: int
) -> tuple[Result, list[WhitelistItem]]:
    result = await search(q, filters, sort, page, page_size)
    query = parse_query(q)
    return result, [to_item(row, query) for row in result.items]
