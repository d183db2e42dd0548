"""Database engines: one URL picks SQLite or PostgreSQL; write transactions per engine."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

SQLITE_BUSY_TIMEOUT_S = 30.0


def sqlite_path(url: str) -> Path:
    """The file of a sqlite:/// URL."""
    parsed = urlparse(url)
    return Path(parsed.path if parsed.netloc == "" else f"{parsed.netloc}{parsed.path}")


def prepare_sqlite_file(path: Path) -> None:
    """Create the file's folder and switch it to WAL once (the mode persists in the file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


def make_engine(url: str) -> Engine:
    """The Piccolo engine for a database URL."""
    if url.startswith(("postgres://", "postgresql://")):
        # asyncpg's prepared statements may switch to a generic plan that is several times
        # slower for LIKE-style search; force custom plans (STACK-NOTES).
        config: dict[str, Any] = {
            "dsn": url,
            "server_settings": {"plan_cache_mode": "force_custom_plan"},
        }
        return PostgresEngine(config=config)
    if url.startswith("sqlite:"):
        path = sqlite_path(url)
        prepare_sqlite_file(path)
        # `timeout` is SQLite's busy timeout: writers wait for the lock instead of failing.
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)
    raise ValueError(
        f"REGISTRY_DATABASE_URL must start with sqlite:/// or postgresql://, got {url!r}"
    )


def engine_name(engine: Engine) -> str:
    """'sqlite' or 'postgres'."""
    return engine.engine_type


def write_transaction(engine: Engine) -> Any:
    """A transaction for read-then-write work.

    SQLite's default deferred transactions fail with "database is locked" when two of them
    upgrade to writers at once; an immediate one takes the write lock at BEGIN and waits for it.
    """
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def insert_rows(
    table: type[Table], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert many rows with one prepared statement, inside the caller's transaction.

    Piccolo builds a Table object and converts every value per row, which dominates bulk
    writes (closing a cycle of ten thousand listings); values here are already plain
    (JSON as text), so the driver's executemany takes them as they are.
    """
    engine = table._meta.db
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("insert_rows runs inside a transaction")
    names = ", ".join(f'"{c}"' for c in columns)
    if isinstance(engine, PostgresEngine):
        marks = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
    else:
        marks = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({marks})'
    await transaction.connection.executemany(sql, [tuple(r) for r in rows])
