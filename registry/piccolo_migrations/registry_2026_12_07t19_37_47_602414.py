from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer

ID = "2026-12-07T19:37:47:602414"
VERSION = "1.38.0"
DESCRIPTION = ""


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="registry", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="WhitelistEntry",
        tablename="whitelist_entry",
        column_name="organisation_id",
        db_column_name="organisation_id",
        params={"index": True},
        old_params={"index": False},
        column_class=Integer,
        old_column_class=Integer,
        schema=None,
    )

    return manager
