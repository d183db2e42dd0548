"""SQL shared by both engines; the subclasses only say how to match tokens and rank."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from registry.reference import CATEGORIES
from registry.search import Filters, Result, Sort
from registry.search.tokens import Query, parse_query
from registry.tables import WhitelistEntry

COLUMNS = (
    "e.id, e.listing AS listing_id, e.organisation_id, e.organisation_name, e.provider_kind,"
    " e.district_code, e.district_name, e.state, e.rectifying, e.categories, e.courses,"
    " e.grade_bands, e.fee_min, e.fee_max, e.latest_grade, e.listed_at, e.valid_until"
)


class Where:
    """A WHERE clause built with Piccolo's `{}` placeholders and its parameters in order."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, sql: str, *params: Any) -> None:
        """Add one condition (AND)."""
        self.parts.append(sql)
        self.params.extend(params)

    def sql(self) -> str:
        """The clause, or nothing."""
        return f" WHERE {' AND '.join(self.parts)}" if self.parts else ""


def _word_in(column: str, words: list[str]) -> tuple[str, list[str]]:
    # Space-separated code lists: pad with spaces so `art` never matches `arts`.
    sql = " OR ".join(f"(' ' || {column} || ' ') LIKE {{}}" for _ in words)
    return f"({sql})", [f"% {w} %" for w in words]


class SearchBackend:
    """Filters, sorting, paging and facets; subclasses supply the full-text part."""

    source = "whitelist_entry e"
    name_order = "e.name_sort"

    def match(self, query: Query) -> tuple[str, str, list[Any]]:
        """What to join, the matching condition and its parameters."""
        raise NotImplementedError

    def rank(self, query: Query) -> tuple[str, list[Any]]:
        """A rank expression (smaller is better) and its parameters."""
        raise NotImplementedError

    def _where(self, query: Query, filters: Filters, skip: str = "") -> tuple[str, Where]:
        where = Where()
        source = self.source
        if query:
            extra, condition, params = self.match(query)
            source += extra
            where.add(condition, *params)
        if filters.districts and skip != "district":
            marks = ", ".join("{}" for _ in filters.districts)
            where.add(f"e.district_code IN ({marks})", *filters.districts)
        if filters.categories and skip != "category":
            sql, params = _word_in("e.categories", filters.categories)
            where.add(sql, *params)
        if filters.grade_band:
            sql, params = _word_in("e.grade_bands", [filters.grade_band])
            where.add(sql, *params)
        if filters.fee_min is not None:  # the provider's fee range overlaps the asked one
            where.add("e.fee_max >= {}", filters.fee_min)
        if filters.fee_max is not None:
            where.add("e.fee_min <= {}", filters.fee_max)
        if filters.grade:
            where.add("e.latest_grade = {}", filters.grade)
        if filters.rectifying is not None:
            where.add("e.rectifying = {}", filters.rectifying)
        return source, where

    def _order(self, sort: Sort, has_rank: bool) -> str:
        tail = f"{self.name_order}, e.id"
        if sort == Sort.relevance and has_rank:
            return f"rank, {tail}"
        if sort == Sort.grade:
            return f"CASE WHEN e.latest_grade IS NULL THEN 1 ELSE 0 END, e.latest_grade, {tail}"
        if sort == Sort.newest:
            return f"CASE WHEN e.listed_at IS NULL THEN 1 ELSE 0 END, e.listed_at DESC, {tail}"
        return tail

    async def _raw(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        return await WhitelistEntry.raw(sql, *params)

    async def search(
        self, text: str, filters: Filters, sort: Sort, page: int, page_size: int
    ) -> Result:
        """One page of results with the total and the facets."""
        engine = WhitelistEntry._meta.db
        if engine.transaction_exists():
            return await self._search(text, filters, sort, page, page_size)
        # One connection for the three queries: SQLite otherwise opens one per query.
        async with engine.transaction():
            return await self._search(text, filters, sort, page, page_size)

    async def _search(
        self, text: str, filters: Filters, sort: Sort, page: int, page_size: int
    ) -> Result:
        query = parse_query(text)
        source, where = self._where(query, filters)
        rank_sql, rank_params = self.rank(query) if query else ("0", [])
        # The window count sits outside: SQLite refuses bm25() next to a window function.
        inner = f"SELECT {COLUMNS}, e.name_sort, {rank_sql} AS rank FROM {source}{where.sql()}"
        rows = await self._raw(
            f"SELECT e.*, count(*) OVER () AS full_count FROM ({inner}) e"
            f" ORDER BY {self._order(sort, bool(query))} LIMIT {{}} OFFSET {{}}",
            [*rank_params, *where.params, page_size, (page - 1) * page_size],
        )
        if rows:
            total = int(rows[0]["full_count"])
        else:  # past the last page, or nothing found: the window gave no row to read
            counted = await self._raw(
                f"SELECT count(*) AS n FROM {source}{where.sql()}", where.params
            )
            total = int(counted[0]["n"])
        return Result(
            total=total,
            items=[_clean(row) for row in rows],
            facets=await self._facets(query, filters)
            if total or filters.districts or filters.categories
            else {"district": {}, "category": {}},
        )

    async def _facets(self, query: Query, filters: Filters) -> dict[str, dict[str, int]]:
        # Each facet ignores its own filter, so its other choices keep their counts; without
        # either filter one grouped query answers both.
        sums = ", ".join(
            f"SUM(CASE WHEN (' ' || e.categories || ' ') LIKE {{}} THEN 1 ELSE 0 END) AS c{i}"
            for i, _ in enumerate(CATEGORIES)
        )
        like_params = [f"% {code} %" for code, _ in CATEGORIES]
        source, where = self._where(query, filters, skip="district")
        rows = await self._raw(
            f"SELECT e.district_code AS code, count(*) AS n, {sums}"
            f" FROM {source}{where.sql()} GROUP BY e.district_code",
            [*like_params, *where.params],
        )
        districts = {row["code"]: int(row["n"]) for row in rows}
        if filters.districts or filters.categories:
            source, where = self._where(query, filters, skip="category")
            rows = await self._raw(
                f"SELECT {sums} FROM {source}{where.sql()}", [*like_params, *where.params]
            )
        categories = {
            code: total
            for i, (code, _) in enumerate(CATEGORIES)
            if (total := sum(int(row[f"c{i}"] or 0) for row in rows))
        }
        return {"district": districts, "category": categories}


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    # SQLite hands back some values as text or integers; give both engines' answers one shape.
    row = dict(row)
    row["rectifying"] = bool(row["rectifying"])
    for key, kind in (("valid_until", date), ("listed_at", datetime)):
        value = row[key]
        if isinstance(value, str):
            row[key] = kind.fromisoformat(value)
    row.pop("rank", None)
    row.pop("full_count", None)
    row.pop("name_sort", None)
    return row
