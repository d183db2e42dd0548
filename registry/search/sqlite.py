"""SQLite: an FTS5 `unicode61` index over the token string (table whitelist_fts)."""

from __future__ import annotations

from typing import Any

from registry.search.common import SearchBackend
from registry.search.tokens import Query

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


def match_expression(query: Query) -> str:
    """An FTS5 MATCH string: every token quoted, so no input is read as an operator."""
    clauses = [
        "(" + " OR ".join("(" + " AND ".join(f'"{t}"' for t in alt) + ")" for alt in clause) + ")"
        for clause in query
    ]
    return " AND ".join(clauses)


class SQLiteSearch(SearchBackend):
    """FTS5 MATCH with bm25 ranking (bm25 is smaller for better matches)."""

    def match(self, query: Query) -> tuple[str, str, list[Any]]:
        """Join the FTS table on rowid and MATCH the token expression."""
        return (
            " JOIN whitelist_fts ON whitelist_fts.rowid = e.id",
            "whitelist_fts MATCH {}",
            [match_expression(query)],
        )

    def rank(self, query: Query) -> tuple[str, list[Any]]:
        """FTS5's bm25."""
        return "bm25(whitelist_fts)", []
