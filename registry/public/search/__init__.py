"""The one search interface over the public whitelist, with an implementation per engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from registry.tables import WhitelistEntry


class Sort(StrEnum):
    """Result orders."""

    relevance = "relevance"
    grade = "grade"
    name = "name"
    newest = "newest"


@dataclass
class Filters:
    """What narrows a search besides the keywords."""

    districts: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    grade_band: str | None = None
    fee_min: int | None = None
    fee_max: int | None = None
    grade: str | None = None
    rectifying: bool | None = None


@dataclass
class Result:
    """One page of matches, the total, and counts per district and per category.

    `words` is the query as the words it was read as (after normalisation); `missing` the
    words left out when no entry matched them all and the results match the others (empty
    otherwise); `suggestion` a corrected query for a pinyin typo, or None.
    """

    total: int
    items: list[dict[str, Any]]
    facets: dict[str, dict[str, int]]
    words: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    suggestion: str | None = None


async def search(
    query: str,
    filters: Filters | None = None,
    sort: Sort = Sort.relevance,
    page: int = 1,
    page_size: int = 20,
) -> Result:
    """Search the whitelist projection with the engine the tables are bound to."""
    from registry.public.search.postgres import PostgresSearch
    from registry.public.search.sqlite import SQLiteSearch

    engine = WhitelistEntry._meta.db
    backend = PostgresSearch() if engine.engine_type == "postgres" else SQLiteSearch()
    return await backend.search(query, filters or Filters(), sort, page, page_size)
