"""Search rank columns in the engine's index, and every existing row's tokens rebuilt (issue 13).

Rows are retokenised first (word-start initials, district words), then SQLite's FTS5 table is
recreated with the rank columns and rebuilt from them; PostgreSQL gains one generated tsvector
per rank column. Running it again leaves the same rows and index.
"""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from registry.db import run_ddl_for_engine

ID = "2026-12-07T16:22:44:000000"
VERSION = "1.38.0"
DESCRIPTION = "search rank index and tokens"


async def forwards() -> MigrationManager:
    """Retokenise the projection, then index the rank columns."""
    from registry.public.projection import retokenise_all
    from registry.public.search import postgres, sqlite

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create() -> None:
        await retokenise_all()
        await run_ddl_for_engine({"sqlite": sqlite.CREATE_RANK, "postgres": postgres.CREATE_RANK})

    async def drop() -> None:
        await run_ddl_for_engine({"sqlite": sqlite.DROP_RANK, "postgres": postgres.DROP_RANK})

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
