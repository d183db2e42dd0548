"""Indexes in the whitelist's result orders: a search page is read without sorting every match."""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from registry.db import run_ddl_for_engine

ID = "2026-11-30T10:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search order indexes"


async def forwards() -> MigrationManager:
    """Create the engine's order indexes (raw SQL: they index expressions and collations)."""
    from registry.public.search import postgres, sqlite

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create() -> None:
        await run_ddl_for_engine(
            {"sqlite": sqlite.CREATE_ORDER_INDEXES, "postgres": postgres.CREATE_ORDER_INDEXES}
        )

    async def drop() -> None:
        await run_ddl_for_engine({"sqlite": sqlite.DROP_ORDER_INDEXES, "postgres": postgres.DROP_ORDER_INDEXES})

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
