"""SQLite: an FTS5 `unicode61` index over the token string (table whitelist_fts)."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine

from registry.public.search import Filters, Result, Sort
from registry.public.search.common import COLUMNS, SearchBackend, grade_rank
from registry.public.search.tokens import Query

# External-content FTS5 table kept in step with whitelist_entry by triggers, so every writer
# (the projection, the demo seeder, the benchmark's bulk insert) updates the index.
CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS whitelist_fts USING fts5("
    "search_tokens, content='whitelist_entry', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER IF NOT EXISTS whitelist_fts_ai AFTER INSERT ON whitelist_entry BEGIN"
    " INSERT INTO whitelist_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
    "CREATE TRIGGER IF NOT EXISTS whitelist_fts_ad AFTER DELETE ON whitelist_entry BEGIN"
    " INSERT INTO whitelist_fts(whitelist_fts, rowid, search_tokens)"
    " VALUES ('delete', old.id, old.search_tokens); END",
    "CREATE TRIGGER IF NOT EXISTS whitelist_fts_au AFTER UPDATE OF search_tokens"
    " ON whitelist_entry BEGIN"
    " INSERT INTO whitelist_fts(whitelist_fts, rowid, search_tokens)"
    " VALUES ('delete', old.id, old.search_tokens);"
    " INSERT INTO whitelist_fts(rowid, search_tokens) VALUES (new.id, new.search_tokens); END",
    "INSERT INTO whitelist_fts(whitelist_fts) VALUES ('rebuild')",
)
DROP = (
    "DROP TRIGGER IF EXISTS whitelist_fts_ai",
    "DROP TRIGGER IF EXISTS whitelist_fts_ad",
    "DROP TRIGGER IF EXISTS whitelist_fts_au",
    "DROP TABLE IF EXISTS whitelist_fts",
)
# Issue 13: the index gains the rank columns (name and course names; their whole words) so a
# MATCH with an FTS5 column filter tells which tier a match is in. The triggers are replaced.
_COLUMNS = "search_tokens, name_tokens, word_tokens"
_NEW = "new.search_tokens, new.name_tokens, new.word_tokens"
_OLD = "old.search_tokens, old.name_tokens, old.word_tokens"
CREATE_RANK = (
    *DROP,
    "CREATE VIRTUAL TABLE whitelist_fts USING fts5("
    f"{_COLUMNS}, content='whitelist_entry', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER whitelist_fts_ai AFTER INSERT ON whitelist_entry BEGIN"
    f" INSERT INTO whitelist_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END",
    "CREATE TRIGGER whitelist_fts_ad AFTER DELETE ON whitelist_entry BEGIN"
    f" INSERT INTO whitelist_fts(whitelist_fts, rowid, {_COLUMNS})"
    f" VALUES ('delete', old.id, {_OLD}); END",
    f"CREATE TRIGGER whitelist_fts_au AFTER UPDATE OF {_COLUMNS} ON whitelist_entry BEGIN"
    f" INSERT INTO whitelist_fts(whitelist_fts, rowid, {_COLUMNS})"
    f" VALUES ('delete', old.id, {_OLD});"
    f" INSERT INTO whitelist_fts(rowid, {_COLUMNS}) VALUES (new.id, {_NEW}); END",
    "INSERT INTO whitelist_fts(whitelist_fts) VALUES ('rebuild')",
)
DROP_RANK = (*DROP, *CREATE)
# The result orders as indexes, so a page of a large match set is read in order instead of
# sorting every match; district and categories ride along so those filters need no row.
# The facet index lets a search without keywords group the whole list from the index alone.
CREATE_ORDER_INDEXES = (
    "CREATE INDEX IF NOT EXISTS whitelist_entry_relevance ON whitelist_entry"
    f" (rectifying, {grade_rank('')},"
    " name_sort, id, district_code, categories)",
    "CREATE INDEX IF NOT EXISTS whitelist_entry_name_sort ON whitelist_entry"
    " (name_sort, id, district_code, categories)",
    "CREATE INDEX IF NOT EXISTS whitelist_entry_facets ON whitelist_entry"
    " (district_code, categories)",
    "ANALYZE whitelist_entry",
)
# The facet pass looks up each match's district and categories (and the other filters) by id:
# in this narrow index the lookups stay in a few megabytes instead of seeking rows all over
# the table (a quarter to a third less time for 篮球 or 舞 at 100,000 entries).
CREATE_FACET_LOOKUP = (
    "CREATE INDEX IF NOT EXISTS whitelist_entry_facet_lookup ON whitelist_entry"
    " (id, district_code, categories, grade_bands, latest_grade, rectifying, fee_min, fee_max)",
    "ANALYZE whitelist_entry",
)
DROP_FACET_LOOKUP = ("DROP INDEX IF EXISTS whitelist_entry_facet_lookup",)
DROP_ORDER_INDEXES = (
    "DROP INDEX IF EXISTS whitelist_entry_relevance",
    "DROP INDEX IF EXISTS whitelist_entry_name_sort",
    "DROP INDEX IF EXISTS whitelist_entry_facets",
)
# Reading an order index costs about a tenth of what joining and sorting a match costs:
# read in index order unless that means scanning over ten entries per match.
INDEX_SCAN_FACTOR = 10

# Idle read connections kept per process (one per concurrent search, 32 in the benchmark).
# Search runs its statements on plain sqlite3 connections of its own, in one thread hop each.
POOL_SIZE = 32
# No memory map: a mapped database file counts in every worker's memory (PSS) as far as it is
# read, 460 MB of a 100,000-provider file in one worker; the facet pass it sped up (about 1.5x)
# now runs once per query and generation (common.SearchBackend._groups).
MMAP_BYTES = 0


def match_expression(query: Query) -> str:
    """An FTS5 MATCH string: every token quoted, so no input is read as an operator."""
    clauses = [
        "(" + " OR ".join("(" + " AND ".join(f'"{t}"' for t in alt) + ")" for alt in clause) + ")"
        for clause in query
    ]
    return " AND ".join(clauses)


def _within(query: Query, column: str) -> str:
    """A MATCH string for every clause in one rank column (an FTS5 column filter each)."""
    return " AND ".join(f"{{{column}_tokens}} : {match_expression([c])}" for c in query)


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


class _ReadPool:
    """Read-only connections to one database file, reused across requests.

    Each statement sees the last committed state (WAL, autocommit between searches), so a
    provider suspended a moment ago is already gone: nothing about results is cached.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.idle: list[sqlite3.Connection] = []

    def acquire(self) -> sqlite3.Connection:
        if self.idle:
            return self.idle.pop()
        connection = sqlite3.connect(
            self.path,
            # Same converters as Piccolo's engine, so rows look the same on both paths.
            detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES,
            isolation_level=None,
            check_same_thread=False,  # used by one worker thread at a time
            timeout=30,
        )
        connection.row_factory = _dict_row
        connection.execute("PRAGMA query_only = 1")
        connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        return connection

    def release(self, connection: sqlite3.Connection) -> None:
        if _pools.get(self.path) is self and len(self.idle) < POOL_SIZE:
            self.idle.append(connection)
        else:
            connection.close()


_pools: dict[str, _ReadPool] = {}


def _pool(path: str) -> _ReadPool:
    pool = _pools.get(path)
    if pool is None:
        # Tests point the tables at a new file per test: let go of the previous files.
        for old in _pools.values():
            for connection in old.idle:
                connection.close()
        _pools.clear()
        pool = _pools[path] = _ReadPool(path)
    return pool


def _run(connection: sqlite3.Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    if not connection.in_transaction:
        # One read transaction per search, begun with its first statement (no extra hop):
        # the facet pass and the page see the same snapshot.
        connection.execute("BEGIN")
    return connection.execute(sql.replace("{}", "?"), params).fetchall()


# Relevance with keywords orders by rank tier first: no index holds it, matches are sorted.
_ORDER_INDEXES = {
    (Sort.name, True): "whitelist_entry_name_sort",
    (Sort.name, False): "whitelist_entry_name_sort",
    (Sort.relevance, False): "whitelist_entry_name_sort",  # without keywords: by name
}


def _page_sync(
    connection: sqlite3.Connection,
    joined: tuple[str, list[Any]],
    indexed: tuple[str, list[Any]],
    wanted: tuple[int, int],
) -> list[dict[str, Any]]:
    # One thread hop: the table size (max(id) is a single index probe) picks the plan. In
    # index order, reaching the page's end scans about end * size / total entries; joining
    # and sorting touches every match.
    end, total = wanted
    size = connection.execute("SELECT max(id) FROM whitelist_entry").fetchone()
    scanned = end * int(next(iter(size.values())) or 0) / max(total, 1)
    if scanned <= INDEX_SCAN_FACTOR * total:
        try:
            return _run(connection, *indexed)
        except sqlite3.OperationalError as error:  # a database not yet migrated: still answer
            if "no such index" not in str(error):
                raise
    return _run(connection, *joined)


class SQLiteSearch(SearchBackend):
    """FTS5 MATCH joined to the projection; statements run on a pooled read connection."""

    def __init__(self) -> None:
        self._connection: sqlite3.Connection | None = None

    def match(self, query: Query) -> tuple[str, str, list[Any]]:
        """Join the FTS table on rowid and MATCH the token expression."""
        return (
            " JOIN whitelist_fts ON whitelist_fts.rowid = e.id",
            "whitelist_fts MATCH {}",
            [match_expression(query)],
        )

    def tier(self, query: Query) -> tuple[str, list[Any]]:
        """Per word: 0 if a whole word of the name or a course matches, 1 if the name or a
        course matches, else 2 (FTS5 column filters; each id set is built once)."""
        cases, params = [], []
        for clause in query:
            expression = match_expression([clause])
            cases.append(
                "CASE WHEN e.id IN (SELECT rowid FROM whitelist_fts WHERE whitelist_fts MATCH {})"
                " THEN 0 WHEN e.id IN (SELECT rowid FROM whitelist_fts WHERE whitelist_fts"
                " MATCH {}) THEN 1 ELSE 2 END"
            )
            params += [f"{{word_tokens}} : {expression}", f"{{name_tokens}} : {expression}"]
        return "(" + " + ".join(cases) + ")", params

    def within_ids(self, query: Query, column: str) -> tuple[str, list[Any]]:
        """The ids matching every clause in one rank column (a column-filtered MATCH)."""
        return (
            "e.id IN (SELECT rowid FROM whitelist_fts WHERE whitelist_fts MATCH {})",
            [_within(query, column)],
        )

    async def _count(self, query: Query, filters: Filters, within: str | None = None) -> int:
        """Without filters the index alone counts (no row of whitelist_entry is read)."""
        if not query or filters != Filters():
            return await super()._count(query, filters, within)
        expression = _within(query, within) if within else match_expression(query)
        rows = await self._raw(
            "SELECT count(*) AS n FROM whitelist_fts WHERE whitelist_fts MATCH {}", [expression]
        )
        return int(rows[0]["n"]) if rows else 0

    def match_ids(self, query: Query) -> tuple[str, list[Any]]:
        """The ids the FTS index matches, as a set SQLite builds once per statement."""
        return (
            "e.id IN (SELECT rowid FROM whitelist_fts WHERE whitelist_fts MATCH {})",
            [match_expression(query)],
        )

    async def search(
        self, text: str, filters: Filters, sort: Sort, page: int, page_size: int
    ) -> Result:
        """Inside a caller's transaction use its connection (it may see its own writes)."""
        engine = self._engine()
        if engine is None or engine.transaction_exists():
            return await super().search(text, filters, sort, page, page_size)
        pool = _pool(engine.path)
        connection = pool.acquire()
        self._connection = connection
        try:
            result = await self._search(text, filters, sort, page, page_size)
        finally:
            self._connection = None
        # Ending a read transaction does no I/O: no thread hop for it.
        if connection.in_transaction:
            connection.execute("COMMIT")
        # Reached only on success: after an error or a cancellation the connection is dropped,
        # not closed, since its worker thread may still be using it; it closes, rolling back,
        # once that thread lets go of it.
        pool.release(connection)
        return result

    def _engine(self) -> SQLiteEngine | None:
        from registry.tables import WhitelistEntry

        engine = WhitelistEntry._meta.db
        return engine if isinstance(engine, SQLiteEngine) else None

    async def _raw(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        if self._connection is None:
            return await super()._raw(sql, params)
        return await asyncio.to_thread(_run, self._connection, sql, params)

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
        index = _ORDER_INDEXES.get((sort, bool(query)))
        if within:
            index = "whitelist_entry_relevance"
        if self._connection is None or index is None:
            return await super()._ordered_page(query, filters, sort, limit, offset, total, within)
        order = self._order(sort, bool(query))
        if within:  # one tier's matches: no join, each id tested against that column's set
            _, joined = self._where(query, filters, within=within)
            joined_sql = (
                f"SELECT {COLUMNS} FROM {self.source}{joined.sql()}"
                f" ORDER BY {order} LIMIT {{}} OFFSET {{}}"
            )
        else:
            _, joined = self._where(query, filters)
            joined_sql = (
                f"SELECT {COLUMNS} FROM {self.source}"
                f"{self.match(query)[0] if query else ''}{joined.sql()}"
                f" ORDER BY {order} LIMIT {{}} OFFSET {{}}"
            )
        _, by_id = self._where(query, filters, by_id=True, within=within)
        # The index gives ids in order; only the page's rows are then read in full.
        indexed_sql = (
            f"SELECT {COLUMNS} FROM {self.source} WHERE e.id IN ("
            f"SELECT e.id FROM {self.source} INDEXED BY {index}{by_id.sql()}"
            f" ORDER BY {order} LIMIT {{}} OFFSET {{}}) ORDER BY {order}"
        )
        return await asyncio.to_thread(
            _page_sync,
            self._connection,
            (joined_sql, [*joined.params, limit, offset]),
            (indexed_sql, [*by_id.params, limit, offset]),
            (offset + limit, total),
        )
