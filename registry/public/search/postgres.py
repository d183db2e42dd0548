"""PostgreSQL: a GIN index over a generated `simple` tsvector of search_tokens."""

from __future__ import annotations

from typing import Any

from registry.public.search.common import SearchBackend, grade_rank
from registry.public.search.tokens import Query

# A stored generated column: ranking and the bitmap recheck read the vector instead of
# re-running to_tsvector over every matching row (the expression-index version did that).
CREATE = (
    "ALTER TABLE whitelist_entry ADD COLUMN IF NOT EXISTS search_vector tsvector"
    " GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_tokens)) STORED",
    "CREATE INDEX IF NOT EXISTS whitelist_entry_search"
    " ON whitelist_entry USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS whitelist_entry_name_sort"
    ' ON whitelist_entry (name_sort COLLATE "C")',
)
DROP = (
    "DROP INDEX IF EXISTS whitelist_entry_search",
    "DROP INDEX IF EXISTS whitelist_entry_name_sort",
    "ALTER TABLE whitelist_entry DROP COLUMN IF EXISTS search_vector",
)
# Issue 13: the rank tiers test the name and course names, and their whole words: one
# generated tsvector per rank column, each with a GIN index (a page of tier-0 or tier-1
# matches and their counts are read from it; detoasting every match's vector cost more).
CREATE_RANK = tuple(
    statement
    for column in ("name", "word")
    for statement in (
        f"ALTER TABLE whitelist_entry ADD COLUMN IF NOT EXISTS {column}_vector tsvector"
        f" GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, {column}_tokens)) STORED",
        f"CREATE INDEX IF NOT EXISTS whitelist_entry_{column}_search"
        f" ON whitelist_entry USING gin ({column}_vector)",
    )
)
DROP_RANK = (
    "DROP INDEX IF EXISTS whitelist_entry_name_search",
    "DROP INDEX IF EXISTS whitelist_entry_word_search",
    "ALTER TABLE whitelist_entry DROP COLUMN IF EXISTS name_vector",
    "ALTER TABLE whitelist_entry DROP COLUMN IF EXISTS word_vector",
)
# The static relevance order as an index: a page of a large match set is read in order. The
# facet index lets a search without keywords group the whole list by an index-only scan.
CREATE_ORDER_INDEXES = (
    "CREATE INDEX IF NOT EXISTS whitelist_entry_relevance ON whitelist_entry"
    f" (rectifying, {grade_rank('')},"
    ' name_sort COLLATE "C", id)',
    "CREATE INDEX IF NOT EXISTS whitelist_entry_facets"
    " ON whitelist_entry (district_code, categories)",
)
DROP_ORDER_INDEXES = (
    "DROP INDEX IF EXISTS whitelist_entry_relevance",
    "DROP INDEX IF EXISTS whitelist_entry_facets",
)


def tsquery(query: Query) -> str:
    """A to_tsquery string; tokens are CJK characters or [a-z0-9], so none is an operator."""
    return " & ".join(
        "(" + " | ".join("(" + " & ".join(alt) + ")" for alt in clause) + ")" for clause in query
    )


class PostgresSearch(SearchBackend):
    """tsvector @@ tsquery over the GIN index; the shared SQL does the rest."""

    # The "C" collation compares pinyin keys byte by byte, as SQLite does: same order on both.
    name_order = 'e.name_sort COLLATE "C"'

    def within_ids(self, query: Query, column: str) -> tuple[str, list[Any]]:
        """Every clause matches in one rank column (its own GIN index)."""
        assert column in ("word", "name")
        return f"e.{column}_vector @@ to_tsquery('simple', {{}})", [tsquery(query)]

    def tier(self, query: Query) -> tuple[str, list[Any]]:
        """Per word: 0 if a whole word of the name or a course matches, 1 if the name or a
        course matches, else 2 (read from the matched rows' generated vectors)."""
        cases, params = [], []
        for clause in query:
            cases.append(
                "CASE WHEN e.word_vector @@ to_tsquery('simple', {}) THEN 0"
                " WHEN e.name_vector @@ to_tsquery('simple', {}) THEN 1 ELSE 2 END"
            )
            params += [tsquery([clause])] * 2
        return "(" + " + ".join(cases) + ")", params

    def match(self, query: Query) -> tuple[str, str, list[Any]]:
        """The expression the GIN index covers, matched against the query."""
        return (
            "",
            "e.search_vector @@ to_tsquery('simple', {})",
            [tsquery(query)],
        )
