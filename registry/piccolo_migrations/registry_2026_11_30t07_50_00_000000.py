"""The search index over whitelist_entry.search_tokens: FTS5 on SQLite, GIN on PostgreSQL."""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from registry.db import run_ddl_for_engine

ID = "2026-11-30T07:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search index"


async def forwards() -> MigrationManager:
    """Create the engine's index (raw SQL: Piccolo has no column type for either)."""
    from registry.public.search import postgres, sqlite

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create() -> None:
        await run_ddl_for_engine({"sqlite": sqlite.CREATE, "postgres": postgres.CREATE})

    async def drop() -> None:
        await run_ddl_for_engine({"sqlite": sqlite.DROP, "postgres": postgres.DROP})

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
