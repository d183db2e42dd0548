"""SQL shared by both engines; the subclasses say how to match tokens and how to run SQL.

A search is two statements over one snapshot:

1. the facet pass: matches of the keywords and of the filters that are not facets (grade
   band, fees, grade, rectification), grouped by (district, categories). From those few
   groups Python derives the total and both facets, each facet ignoring its own filter, so
   one pass over the matches replaces the window count and the LIKE scans per category;
2. the page: the same matches with every filter, ordered, LIMIT before any row is read in
   full.

Relevance (issue 13) is a rank tier, then the static order (providers in good standing, then by
grade, then by name). Each query word scores 0 when it matches a whole word of the name or a
course, 1 when it matches inside the name or a course, 2 when it matches elsewhere (outline,
description, district); the tier is the sum. bm25 is not used: documents hold each token once,
so it only measured document length (it favoured short descriptions).

When no entry matches every word, the largest subsets of the words are tried (most matches
first) and the answer says which words were left out; a pinyin word close to a dictionary
word's pinyin is offered as a correction.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from datetime import date, datetime
from itertools import combinations
from math import comb
from typing import Any

from registry.public.search import Filters, Result, Sort, facet_counts, generation
from registry.public.search.cache import AnswerCache
from registry.public.search.tokens import Query, Word, read_query, suggest
from registry.reference import CATEGORIES
from registry.tables import WhitelistEntry
from workflows.scoring import GRADE_ORDER

COLUMNS = (
    "e.id, e.listing AS listing_id, e.organisation_id, e.organisation_name, e.provider_kind,"
    " e.district_code, e.district_name, e.state, e.rectifying, e.categories, e.courses,"
    " e.grade_bands, e.fee_min, e.fee_max, e.latest_grade, e.listed_at, e.valid_until"
)
CATEGORY_CODES = tuple(code for code, _ in CATEGORIES)
# A query whose words match nothing together tries at most this many subsets of one size.
MAX_SUBSETS = 20
# At most this many corrections are tried (each one is counted before it is offered).
MAX_CORRECTIONS = 3


def grade_rank(prefix: str) -> str:
    """Best grade first, ungraded last: the codes do not sort alphabetically (excellent < fail)."""
    # The order indexes are built on this same expression, so it is written in one place.
    cases = " ".join(f"WHEN '{code}' THEN {rank}" for rank, code in enumerate(GRADE_ORDER))
    return f"(CASE {prefix}latest_grade {cases} ELSE {len(GRADE_ORDER)} END)"


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


def facets_from_groups(
    groups: list[dict[str, Any]], filters: Filters
) -> tuple[int, dict[str, dict[str, int]]]:
    """The total and both facets from (district, categories, n) groups.

    The groups already satisfy every filter except district and category. A row passes the
    district filter if its district is listed, the category filter if it has any listed
    category (the SQL filters behave the same way). Each facet ignores its own filter, so its
    other choices keep their counts.
    """
    wanted_districts = set(filters.districts)
    wanted_categories = set(filters.categories)
    total = 0
    districts: dict[str, int] = {}
    categories = dict.fromkeys(CATEGORY_CODES, 0)
    for group in groups:
        code, count = group["code"], int(group["n"])
        codes = set((group["categories"] or "").split())
        in_district = not wanted_districts or code in wanted_districts
        in_category = not wanted_categories or bool(codes & wanted_categories)
        if in_category:
            districts[code] = districts.get(code, 0) + count
        if in_district:
            for category in codes:
                if category in categories:
                    categories[category] += count
        if in_district and in_category:
            total += count
    return total, {
        "district": dict(sorted(districts.items())),
        "category": {code: n for code, n in categories.items() if n},
    }


# Facet groups per query, each a few hundred small rows at most.
_groups: AnswerCache[list[dict[str, Any]]] = AnswerCache(size=1024)


class SearchBackend:
    """Filters, sorting, paging and facets; subclasses supply the full-text part."""

    source = "whitelist_entry e"
    name_order = "e.name_sort"
    _generation: Hashable | None = None

    def match(self, query: Query) -> tuple[str, str, list[Any]]:
        """What to join, the matching condition and its parameters."""
        raise NotImplementedError

    def match_ids(self, query: Query) -> tuple[str, list[Any]]:
        """The matching condition as a test of `e.id` alone (no join), and its parameters."""
        raise NotImplementedError

    def within_ids(self, query: Query, column: str) -> tuple[str, list[Any]]:
        """Whether every clause matches in one rank column ("word": whole words of the name
        and courses, tier 0; "name": the name and courses), as a test of `e.id` alone."""
        raise NotImplementedError

    def tier(self, query: Query) -> tuple[str, list[Any]]:
        """The rank tier of a match (lower is better) as an SQL expression and its parameters."""
        raise NotImplementedError

    def _where(
        self,
        query: Query,
        filters: Filters,
        facets: bool = True,
        by_id: bool = False,
        within: str | None = None,
    ) -> tuple[str, Where]:
        # `facets=False` leaves out the district and category filters: the facet pass
        # applies them in Python. `by_id` matches without a join, for reading an index in
        # order and testing each id against the match set; `within` (also without a join)
        # keeps only the matches in one rank column.
        where = Where()
        source = self.source
        if query and within:
            condition, params = self.within_ids(query, within)
            where.add(condition, *params)
        elif query and by_id:
            condition, params = self.match_ids(query)
            where.add(condition, *params)
        elif query:
            extra, condition, params = self.match(query)
            source += extra
            where.add(condition, *params)
        if filters.districts and facets:
            marks = ", ".join("{}" for _ in filters.districts)
            where.add(f"e.district_code IN ({marks})", *filters.districts)
        if filters.categories and facets:
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

    def _order(self, sort: Sort, has_query: bool, tier: str = "") -> str:
        tail = f"{self.name_order}, e.id"
        grade = f"{grade_rank('e.')}, {tail}"
        if sort == Sort.relevance and has_query:
            # The rank tier, then providers under rectification last, then by grade.
            return f"{tier + ', ' if tier else ''}e.rectifying, {grade}"
        if sort == Sort.grade:
            return grade
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
        # One connection and one snapshot for both statements: the total, the facets and the
        # page agree even while a transition commits between them.
        async with engine.transaction():
            return await self._search(text, filters, sort, page, page_size)

    async def _search(
        self, text: str, filters: Filters, sort: Sort, page: int, page_size: int
    ) -> Result:
        # Read in the search's own snapshot: groups kept under it were counted from that data.
        self._generation = generation.token(await self._raw(generation.CURRENT, []))
        words = read_query(text)
        result = await self._search_words(words, filters, sort, page, page_size)
        if result.total or not words:
            return result
        # Nothing matches every word: the largest subsets that match something, best first.
        best: list[Word] | None = None
        for size in range(len(words) - 1, 0, -1):
            if comb(len(words), size) > MAX_SUBSETS:
                break  # a long query whose words match nothing together: no scan per subset
            counts: list[tuple[int, list[Word]]] = []
            for subset in combinations(words, size):
                chosen = list(subset)
                count = await self._count([w.clause for w in chosen], filters)
                if count:
                    counts.append((count, chosen))
            if counts:
                best = max(counts, key=lambda pair: pair[0])[1]
                break
        suggestion = await self._suggestion(words, filters, best)
        if best is None:
            return Result(
                total=0,
                items=[],
                facets=result.facets,
                words=[w.text for w in words],
                suggestion=suggestion,
            )
        partial = await self._search_words(best, filters, sort, page, page_size)
        partial.words = [w.text for w in words]
        partial.missing = [w.text for w in words if w not in best]
        partial.suggestion = suggestion
        return partial

    async def _suggestion(
        self, words: list[Word], filters: Filters, kept: list[Word] | None
    ) -> str | None:
        # A pinyin typo among the words left out (lanqu → 篮球), if the correction finds
        # something together with the words kept.
        left_out = [w for w in words if kept is None or w not in kept]
        tried = 0
        for word in left_out:
            correction = suggest(word.text)
            if correction is None:
                continue
            tried += 1
            if tried > MAX_CORRECTIONS:  # each costs a count: a long query of typos is cut
                break
            texts = [correction if w is word else w.text for w in words]
            fixed = read_query(" ".join(texts))
            if await self._count([w.clause for w in fixed], filters):
                return " ".join(texts)
        return None

    async def _count(self, query: Query, filters: Filters, within: str | None = None) -> int:
        source, where = self._where(query, filters, within=within)
        rows = await self._raw(f"SELECT count(*) AS n FROM {source}{where.sql()}", where.params)
        return int(rows[0]["n"]) if rows else 0

    async def _search_words(
        self, words: list[Word], filters: Filters, sort: Sort, page: int, page_size: int
    ) -> Result:
        query = [w.clause for w in words]
        total, facets = facets_from_groups(await self._groups(query, filters), filters)
        offset = (page - 1) * page_size
        rows: list[dict[str, Any]] = []
        if offset < total:  # past the last page nothing is read
            rows = await self._page(query, filters, sort, page_size, offset, total)
        return Result(
            total=total,
            items=[_clean(row) for row in rows],
            facets=facets,
            words=[w.text for w in words],
        )

    async def _groups(self, query: Query, filters: Filters) -> list[dict[str, Any]]:
        """(district, categories, n) of the matches, every filter but those two applied.

        The costly part of a search (a pass over every match), and the same for every page,
        sort, district and category of one query: kept per worker until the whitelist changes.
        """
        source, where = self._where(query, filters, facets=False)
        if not (query or where.parts):
            # The whole list: its groups are kept by triggers, no pass over every entry.
            return await self._raw(facet_counts.GROUPS, [])
        key = (repr(query), replace(filters, districts=[], categories=[]).__repr__())
        if self._generation is not None:
            kept = _groups.get(self._generation, key)
            if kept is not None:
                return kept
        groups = await self._raw(
            f"SELECT e.district_code AS code, e.categories AS categories, count(*) AS n"
            f" FROM {source}{where.sql()} GROUP BY e.district_code, e.categories",
            where.params,
        )
        if self._generation is not None:
            _groups.put(self._generation, key, groups)
        return groups

    async def _page(
        self, query: Query, filters: Filters, sort: Sort, limit: int, offset: int, total: int
    ) -> list[dict[str, Any]]:
        if not (query and sort == Sort.relevance):
            return await self._ordered_page(query, filters, sort, limit, offset, total)
        # A large match set usually fills the page from tier 0 (every word a whole word of
        # the name or a course): then the page is those matches in the static order, read
        # as before, without a tier for every match. A one-word query without tier-0 matches
        # (舞 inside 中国舞) does the same with its tier-1 matches (in the name or a course).
        whole = await self._count(query, filters, within="word")
        if whole >= offset + limit:
            return await self._ordered_page(query, filters, sort, limit, offset, whole, "word")
        if whole == 0 and len(query) == 1:
            named = await self._count(query, filters, within="name")
            if named >= offset + limit:
                return await self._ordered_page(query, filters, sort, limit, offset, named, "name")
        source, where = self._where(query, filters)
        tier, tier_params = self.tier(query)
        return await self._raw(
            f"SELECT {COLUMNS} FROM {source}{where.sql()}"
            f" ORDER BY {self._order(sort, True, tier)} LIMIT {{}} OFFSET {{}}",
            [*where.params, *tier_params, limit, offset],
        )

    async def _ordered_page(
        self,
        query: Query,
        filters: Filters,
        sort: Sort,
        limit: int,
        offset: int,
        total: int,
        within: str | None = None,
    ) -> list[dict[str, Any]]:
        """A page in the static order; `within`: of one rank column's matches only (`total`
        of them)."""
        source, where = self._where(query, filters, within=within)
        return await self._raw(
            f"SELECT {COLUMNS} FROM {source}{where.sql()}"
            f" ORDER BY {self._order(sort, bool(query))} LIMIT {{}} OFFSET {{}}",
            [*where.params, limit, offset],
        )


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    # SQLite hands back some values as text or integers; give both engines' answers one shape.
    row = dict(row)
    row["rectifying"] = bool(row["rectifying"])
    for key, kind in (("valid_until", date), ("listed_at", datetime)):
        value = row[key]
        if isinstance(value, str):
            row[key] = kind.fromisoformat(value)
    return row
