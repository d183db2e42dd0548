"""The database half of a backup: a consistent copy while the server runs, and its restore.

SQLite is copied with its online backup API (a file copy of a live WAL database can tear);
PostgreSQL with `pg_dump` in custom format, inside a transaction whose snapshot it shares, so
the counts in the manifest are those of the dump, not of a moment later.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import anyio
import anyio.to_thread
import asyncpg  # type: ignore[import-untyped]
from piccolo.conf.apps import Finder

from registry.db import sqlite_path


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in one line."""


@dataclass
class Facts:
    """What a database holds, for the manifest and for checking a restore against it."""

    counts: dict[str, int] = field(default_factory=dict)
    migrations: list[str] = field(default_factory=list)
    audit_head: dict[str, Any] | None = None
    document_hashes: list[str] = field(default_factory=list)


Fetch = Callable[[str], Awaitable[list[Sequence[Any]]]]


def counted_tables() -> list[str]:
    """The tables whose rows a backup counts: every table the app knows, and the migrations."""
    return sorted({t._meta.tablename for t in Finder().get_table_classes()} | {"migration"})


async def _facts(fetch: Fetch, existing: set[str]) -> Facts:
    facts = Facts()
    for table in counted_tables():
        if table in existing:
            facts.counts[table] = int((await fetch(f'SELECT count(*) FROM "{table}"'))[0][0])
    if "migration" in existing:
        rows = await fetch("SELECT app_name, name FROM migration ORDER BY id")
        facts.migrations = [f"{app}:{name}" for app, name in rows]
    if "audit_event" in existing:
        head = await fetch("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1")
        facts.audit_head = {"event": head[0][0], "hash": head[0][1]} if head else None
    if "document" in existing:
        rows = await fetch("SELECT DISTINCT sha256 FROM document ORDER BY sha256")
        facts.document_hashes = [row[0] for row in rows]
    return facts


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_tables(connection: sqlite3.Connection) -> set[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


async def _sqlite_facts(path: Path) -> Facts:
    connection = sqlite3.connect(path)
    try:

        async def fetch(sql: str) -> list[Sequence[Any]]:
            return connection.execute(sql).fetchall()

        return await _facts(fetch, _sqlite_tables(connection))
    finally:
        connection.close()


def _sqlite_copy(source: Path, target: Path) -> None:
    source_connection = sqlite3.connect(source, timeout=30)
    target_connection = sqlite3.connect(target)
    try:
        # One step (pages=-1): one read transaction, so one consistent moment of the database;
        # writers go on meanwhile (WAL), they are just not in the copy.
        source_connection.backup(target_connection)
        target_connection.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        target_connection.close()
        source_connection.close()


async def snapshot_sqlite(url: str, target: Path) -> Facts:
    """Copy the live SQLite database to `target`; the facts are read from the copy."""
    source = sqlite_path(url)
    if not source.exists():
        raise BackupError(f"no database at {source}")
    await anyio.to_thread.run_sync(_sqlite_copy, source, target)
    return await _sqlite_facts(target)


def sqlite_is_empty(url: str) -> bool:
    """True when the SQLite database does not exist or has no tables yet."""
    path = sqlite_path(url)
    if not path.exists():
        return True
    connection = sqlite3.connect(path)
    try:
        return not {t for t in _sqlite_tables(connection) if not t.startswith("sqlite_")}
    finally:
        connection.close()


def restore_sqlite(dump: Path, url: str) -> None:
    """Put the archived database file in place of the configured one."""
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".restoring")
    shutil.copyfile(dump, partial)
    # A -wal left by the database being replaced would be replayed into the restored one.
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(partial, target)
    with sqlite3.connect(target) as connection:
        connection.execute("PRAGMA journal_mode=WAL")


async def sqlite_facts(url: str) -> Facts:
    """The facts of the configured SQLite database."""
    return await _sqlite_facts(sqlite_path(url))


# --- PostgreSQL -----------------------------------------------------------------------------


def _client(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found on PATH: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) of the server's major version"
        )
    return found


def _client_args(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (command lines are visible to others) and the env."""
    parsed = urlparse(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
        netloc = parsed.hostname or ""
        if parsed.username:
            netloc = f"{parsed.username}@{netloc}"
        if parsed.port:
            netloc = f"{netloc}:{parsed.port}"
        parsed = parsed._replace(netloc=netloc)
    return urlunparse(parsed), env


async def _run(command: list[str], env: dict[str, str]) -> None:
    result = await anyio.run_process(command, env=env, check=False)
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        reason = lines[0] if lines else f"exit status {result.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {reason}")


async def _connect(url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as error:
        raise BackupError(f"cannot connect to the database: {error}") from error


async def _pg_tables(connection: asyncpg.Connection) -> set[str]:
    rows = await connection.fetch(
        "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public'"
    )
    return {row[0] for row in rows}


async def _pg_facts(connection: asyncpg.Connection) -> Facts:
    async def fetch(sql: str) -> list[Sequence[Any]]:
        return list(await connection.fetch(sql))

    return await _facts(fetch, await _pg_tables(connection))


async def snapshot_postgres(url: str, target: Path) -> Facts:
    """`pg_dump` the database to `target`; facts and dump share one snapshot."""
    pg_dump = _client("pg_dump")
    address, env = _client_args(url)
    connection = await _connect(url)
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            facts = await _pg_facts(connection)
            await _run(
                [
                    pg_dump, "--format=custom", "--compress=0", "--no-owner", "--no-privileges",
                    f"--snapshot={snapshot}", f"--file={target}", f"--dbname={address}",
                ],
                env,
            )  # fmt: skip
    finally:
        await connection.close()
    return facts


async def postgres_is_empty(url: str) -> bool:
    """True when the database has no tables in its public schema."""
    connection = await _connect(url)
    try:
        return not await _pg_tables(connection)
    finally:
        await connection.close()


async def restore_postgres(dump: Path, url: str, *, clean: bool) -> None:
    """`pg_restore` the archived dump into the configured database, in one transaction."""
    pg_restore = _client("pg_restore")
    address, env = _client_args(url)
    command = [
        pg_restore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
        f"--dbname={address}",
    ]  # fmt: skip
    if clean:
        command += ["--clean", "--if-exists"]
    await _run([*command, str(dump)], env)


async def postgres_facts(url: str) -> Facts:
    """The facts of the configured PostgreSQL database."""
    connection = await _connect(url)
    try:
        return await _pg_facts(connection)
    finally:
        await connection.close()
