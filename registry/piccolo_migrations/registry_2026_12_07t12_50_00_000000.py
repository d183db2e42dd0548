"""Application forms sealed: the resident IDs and phones in every stored form are encrypted.

Listing.form and FormSnapshot.form keep their JSON; only their personal leaves (the applicant's
resident ID and phone, each staff member's resident ID, the emergency phone) become sealed
values (registry/access/personal_data.py, `seal_form`). Runs on SQLite and PostgreSQL alike,
with the "field" key ring outside the database; running it twice changes nothing.
"""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T12:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "personal data sealed: application forms"


async def forwards() -> MigrationManager:
    """Seal the personal leaves of the stored application forms."""
    from registry.access.sealing import seal_plaintext_forms

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def seal() -> None:
        engine = engine_finder()
        assert engine is not None
        await seal_plaintext_forms(engine)

    manager.add_raw(seal)
    return manager
