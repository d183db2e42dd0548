"""Putting a database back as it was built, fast, on both engines.

SQLite: the built file is copied over the working one (a few milliseconds). PostgreSQL: copying
a database (CREATE DATABASE … TEMPLATE) takes seconds on a busy machine, so the built content
is kept as JSON, table by table, and the working database is emptied and refilled from it in
one transaction, its sequences set back too (well under a second for a small world).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from piccolo.conf.apps import Finder


def table_names() -> list[str]:
    """Every table of the app (the registry's, piccolo's users and sessions)."""
    return sorted({t._meta.tablename for t in Finder().get_table_classes()})


def remove_sqlite(path: str) -> None:
    """A SQLite file and its WAL companions."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def copy_sqlite(source: str, target: str) -> None:
    """`target` as a copy of `source` (checkpointed: its WAL holds nothing)."""
    remove_sqlite(target)
    with sqlite3.connect(source) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(source, target)


def sqlite_digest(path: str) -> dict[str, str]:
    """A digest of each table's rows."""
    with sqlite3.connect(path) as connection:
        return {
            name: hashlib.sha256(
                repr(sorted(map(repr, connection.execute(f'SELECT * FROM "{name}"')))).encode()
            ).hexdigest()
            for name in table_names()
        }


async def postgres_digest(url: str) -> dict[str, str]:
    """A digest of each table's rows, in one query."""
    parts = ", ".join(
        f"'{n}', (SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) "
        f'FROM "{n}" x)'
        for n in table_names()
    )
    connection = await asyncpg.connect(url)
    try:
        digest = await connection.fetchval(f"SELECT json_build_object({parts})::text")
    finally:
        await connection.close()
    return dict(json.loads(digest))


@dataclass
class PostgresSnapshot:
    """A database's rows and sequence positions, to put back later."""

    rows: dict[str, str] = field(default_factory=dict)  # table → JSON array of its rows
    columns: dict[str, list[str]] = field(default_factory=dict)  # writable columns
    sequences: dict[str, int | None] = field(default_factory=dict)

    @classmethod
    async def take(cls, url: str) -> PostgresSnapshot:
        """The content of the database at `url`."""
        snapshot = cls()
        connection = await asyncpg.connect(url)
        try:
            for name in table_names():
                # Generated columns (the search vector) are computed again on insert.
                columns = await connection.fetch(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                    "'public' AND table_name = $1 AND is_generated = 'NEVER' "
                    "ORDER BY ordinal_position",
                    name,
                )
                snapshot.columns[name] = [c["column_name"] for c in columns]
                listed = ", ".join(f'"{c}"' for c in snapshot.columns[name])
                snapshot.rows[name] = await connection.fetchval(
                    "SELECT coalesce(json_agg(t), '[]')::text "
                    f'FROM (SELECT {listed} FROM "{name}") t'
                )
            for row in await connection.fetch(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            ):
                snapshot.sequences[row["sequencename"]] = row["last_value"]
        finally:
            await connection.close()
        return snapshot

    async def restore(self, url: str) -> None:
        """Empty the database at `url` and fill it with the snapshot's rows."""
        connection = await asyncpg.connect(url)
        try:
            async with connection.transaction():
                # Rows go back in any order: foreign keys are not checked while replicating.
                await connection.execute("SET LOCAL session_replication_role = replica")
                for name in self.rows:
                    # DELETE, not TRUNCATE: on a few hundred rows it is many times faster.
                    await connection.execute(f'DELETE FROM "{name}"')
                for name, rows in self.rows.items():
                    if rows == "[]":
                        continue
                    listed = ", ".join(f'"{c}"' for c in self.columns[name])
                    await connection.execute(
                        f'INSERT INTO "{name}" ({listed}) SELECT {listed} '
                        f'FROM json_populate_recordset(NULL::"{name}", $1::json)',
                        rows,
                    )
                for sequence, value in self.sequences.items():
                    if value is None:
                        await connection.execute("SELECT setval($1, 1, false)", sequence)
                    else:
                        await connection.execute("SELECT setval($1, $2, true)", sequence, value)
        finally:
            await connection.close()
