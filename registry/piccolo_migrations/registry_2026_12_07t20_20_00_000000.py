"""SQLite: a narrow index for the facet pass's lookups by id (registry/public/search/sqlite.py)."""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T20:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "whitelist facet lookup index"


async def forwards() -> MigrationManager:
    """Create the index on SQLite (PostgreSQL reads the matches' rows from its heap)."""
    from registry.public.search import sqlite

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run(statements: tuple[str, ...]) -> None:
        engine = engine_finder()
        assert engine is not None
        if engine.engine_type == "sqlite":
            for statement in statements:
                await engine.run_ddl(statement)

    async def create() -> None:
        await run(sqlite.CREATE_FACET_LOOKUP)

    async def drop() -> None:
        await run(sqlite.DROP_FACET_LOOKUP)

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
