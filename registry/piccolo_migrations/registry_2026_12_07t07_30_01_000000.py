"""Rubrics in today's terms: missing inputs unscored, a self-report deduction, evidence rules.

Applies to the saved rubrics and to the snapshots of open cycles (closed ones keep theirs).
"""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-07T07:30:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "rubrics: evidence rules and the self-report deduction"


async def forwards() -> MigrationManager:
    """Upgrade the stored rubrics."""
    from registry.evaluation.upgrade import upgrade_stored_rubrics

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def upgrade() -> None:
        await upgrade_stored_rubrics()

    manager.add_raw(upgrade)
    return manager
