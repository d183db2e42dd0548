"""The whitelist's generation, moved by triggers (see registry/public/search/generation.py)."""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from registry.db import run_ddl_for_engine

ID = "2026-12-07T19:05:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "whitelist generation"


async def forwards() -> MigrationManager:
    """Create the generation row and the triggers that move it."""
    from registry.public.search import generation

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create() -> None:
        await run_ddl_for_engine({"sqlite": generation.SQLITE_CREATE, "postgres": generation.POSTGRES_CREATE})

    async def drop() -> None:
        await run_ddl_for_engine({"sqlite": generation.SQLITE_DROP, "postgres": generation.POSTGRES_DROP})

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
