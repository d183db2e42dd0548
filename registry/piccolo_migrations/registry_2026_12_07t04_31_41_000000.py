"""Personal data sealed: every resident ID, phone and contact stored before now is encrypted.

Runs after the column changes (the previous migration), on SQLite and PostgreSQL alike; the
key is the "field" key ring outside the database (registry/keys.py), created on first use.
"""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T04:31:41:000000"
VERSION = "1.38.0"
DESCRIPTION = "personal data sealed: existing values"


async def forwards() -> MigrationManager:
    """Seal the plaintext values and fill the resident ID's lookup hash."""
    from registry.access.sealing import seal_plaintext

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def seal() -> None:
        engine = engine_finder()
        assert engine is not None
        await seal_plaintext(engine)

    manager.add_raw(seal)
    return manager
