"""The whitelist generation also moves with listings' states and districts (public pages)."""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T22:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "public pages move the whitelist generation"


async def _run(statements_by_engine: dict[str, tuple[str, ...]]) -> None:
    engine = engine_finder()
    assert engine is not None
    for statement in statements_by_engine[engine.engine_type]:
        await engine.run_ddl(statement)


async def forwards() -> MigrationManager:
    """Triggers on listing (state, kept courses) and district that move the generation."""
    from registry.public.search import generation

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def create() -> None:
        await _run(
            {
                "sqlite": generation.SQLITE_PAGES_CREATE,
                "postgres": generation.POSTGRES_PAGES_CREATE,
            }
        )

    async def drop() -> None:
        await _run(
            {"sqlite": generation.SQLITE_PAGES_DROP, "postgres": generation.POSTGRES_PAGES_DROP}
        )

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
