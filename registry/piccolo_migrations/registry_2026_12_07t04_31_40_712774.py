"""Personal data sealed in storage: room for the ciphertext, a keyed hash for lookups.

Resident ID and phone numbers become `pd1:<key id>:<base64>` (registry/access/personal_data.py),
longer than the plain numbers; uniqueness moves from the resident ID to its keyed hash. The
next migration seals the values already stored.

SQLite cannot add a UNIQUE column nor alter one: there the hash column gets a unique index, and
the lengths stay as they were (SQLite does not enforce VARCHAR lengths; the old UNIQUE on
resident_id stays too, harmless, since no two sealed values are alike).
"""

from __future__ import annotations

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.engine import engine_finder

ID = "2026-12-07T04:31:40:712774"
VERSION = "1.38.0"
DESCRIPTION = "personal data sealed: columns"
HASH_INDEX = "organisation_resident_id_hash_unique"


def _sqlite() -> bool:
    engine = engine_finder()
    return engine is not None and engine.engine_type == "sqlite"


class _Manager(MigrationManager):
    """The generated steps, with SQLite's two gaps worked around (see the module docstring)."""

    async def _run_add_columns(self, backwards: bool = False) -> None:
        if not _sqlite() or backwards:
            await super()._run_add_columns(backwards=backwards)
            return
        unique = [c.column for c in self.add_columns.add_columns if c.column._meta.unique]
        for column in unique:
            column._meta.unique = False
        try:
            await super()._run_add_columns(backwards=backwards)
        finally:
            for column in unique:
                column._meta.unique = True
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            f'CREATE UNIQUE INDEX IF NOT EXISTS {HASH_INDEX} ON "organisation" ("resident_id_hash")'
        )

    async def _run_alter_columns(self, backwards: bool = False) -> None:
        if not _sqlite():
            await super()._run_alter_columns(backwards=backwards)


async def forwards() -> MigrationManager:
    """Widen the sealed columns and add the resident ID's lookup hash."""
    manager = _Manager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Organisation",
        tablename="organisation",
        column_name="resident_id_hash",
        db_column_name="resident_id_hash",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 80,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": True,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.alter_column(
        table_class_name="Organisation",
        tablename="organisation",
        column_name="resident_id",
        db_column_name="resident_id",
        params={"length": 255, "unique": False},
        old_params={"length": 18, "unique": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Organisation",
        tablename="organisation",
        column_name="contact_phone",
        db_column_name="contact_phone",
        params={"length": 255},
        old_params={"length": 32},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Objection",
        tablename="objection",
        column_name="contact",
        db_column_name="contact",
        params={"length": 512},
        old_params={"length": 64},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Complaint",
        tablename="complaint",
        column_name="contact",
        db_column_name="contact",
        params={"length": 512},
        old_params={"length": 64},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
