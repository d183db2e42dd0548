"""Facet counts of the whole whitelist, kept by triggers (see registry/public/search/facet_counts.py)."""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from registry.db import run_ddl_for_engine

ID = "2026-11-30T10:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "whitelist facet counts"


async def forwards() -> MigrationManager:
    """Create the table and its triggers, and count what is listed already."""
    from registry.public.search import facet_counts

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create() -> None:
        await run_ddl_for_engine({"sqlite": facet_counts.SQLITE_CREATE, "postgres": facet_counts.POSTGRES_CREATE})

    async def drop() -> None:
        await run_ddl_for_engine({"sqlite": facet_counts.SQLITE_DROP, "postgres": facet_counts.POSTGRES_DROP})

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
