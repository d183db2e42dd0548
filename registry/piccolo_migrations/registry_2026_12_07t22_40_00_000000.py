"""The whitelist generation also moves with listings' states, organisations' names and districts."""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from registry.db import run_ddl_for_engine

ID = "2026-12-07T22:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "public pages move the whitelist generation"


async def forwards() -> MigrationManager:
    """Triggers on listing (state, kept courses), organisation (name) and district."""
    from registry.public.search import generation

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create() -> None:
        await run_ddl_for_engine(
            {
                "sqlite": generation.SQLITE_PAGES_CREATE,
                "postgres": generation.POSTGRES_PAGES_CREATE,
            }
        )

    async def drop() -> None:
        await run_ddl_for_engine(
            {"sqlite": generation.SQLITE_PAGES_DROP, "postgres": generation.POSTGRES_PAGES_DROP}
        )

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
