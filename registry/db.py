"""Database engines: one URL picks SQLite or PostgreSQL; write transactions per engine."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import asyncpg
from piccolo.engine import engine_finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from registry.sqlite_engine import PooledSQLiteEngine

# How long SQLite waits for another writer's lock before "database is locked". Commands (an
# import, closing a cycle) may wait long; a web request should answer within seconds (a 503
# asking to retry) rather than hold the browser for half a minute.
SQLITE_BUSY_TIMEOUT_S = 30.0
SQLITE_REQUEST_BUSY_TIMEOUT_S = 5.0


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
        return PooledSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)
    raise ValueError(
        f"REGISTRY_DATABASE_URL must start with sqlite:/// or postgresql://, got {url!r}"
    )


def serve_requests(engine: Engine) -> None:
    """Tune an engine for a web server: SQLite gives up waiting for a lock after a few seconds."""
    if isinstance(engine, SQLiteEngine):
        engine.connection_kwargs["timeout"] = SQLITE_REQUEST_BUSY_TIMEOUT_S


class DatabaseUnreachable(RuntimeError):
    """The configured database cannot be used; the message is one line saying why."""


def _reason(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _leaves(error: BaseException) -> list[BaseException]:
    # asyncpg tries each address of a host, and task groups wrap failures in groups.
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def unreachable_message(url: str, error: BaseException) -> str | None:
    """One line saying why the database at `url` cannot be used, if `error` means that."""
    for leaf in _leaves(error):
        if url.startswith(("postgres://", "postgresql://")) and isinstance(
            leaf,
            OSError
            | asyncpg.PostgresConnectionError
            | asyncpg.InvalidAuthorizationSpecificationError
            | asyncpg.InvalidCatalogNameError
            | asyncpg.CannotConnectNowError,
        ):
            parsed = urlparse(url)
            where = f"{parsed.hostname or 'localhost'}:{parsed.port or 5432}"
            verb = "reach" if isinstance(leaf, OSError) else "use"
            return f"cannot {verb} PostgreSQL at {where}: {_reason(leaf)}"
        if url.startswith("sqlite:") and isinstance(leaf, OSError | sqlite3.OperationalError):
            if isinstance(leaf, sqlite3.OperationalError) and "unable to open" not in str(leaf):
                continue
            return f"cannot open the SQLite database {sqlite_path(url)}: {_reason(leaf)}"
    return None


async def check_database(url: str) -> None:
    """Connect once and run a query; DatabaseUnreachable (one line) if that fails."""
    try:
        if url.startswith(("postgres://", "postgresql://")):
            connection = await asyncpg.connect(url, timeout=10)
            try:
                await connection.fetchval("SELECT 1")
            finally:
                await connection.close()
        else:
            with sqlite3.connect(sqlite_path(url)) as connection:
                connection.execute("SELECT 1")
    except Exception as error:
        message = unreachable_message(url, error)
        if message is None:
            raise
        raise DatabaseUnreachable(message) from None


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


async def run_ddl_for_engine(statements_by_engine: Mapping[str, Sequence[str]]) -> None:
    """Run the statements written for the engine in use, in order (raw-SQL migrations)."""
    engine = engine_finder()
    assert engine is not None
    for statement in statements_by_engine[engine.engine_type]:
        await engine.run_ddl(statement)
