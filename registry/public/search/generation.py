"""The whitelist's generation: a number the database moves whenever anything public changes.

Each worker keeps recent search answers (registry/public/search/cache.py) and must drop them
when the whitelist changes, whoever changed it: a transition in another worker, an import, the
clock, the demo seeder. Triggers on whitelist_entry add one to the `whitelist` row of
shared_generation in the very transaction that changes an entry, so a worker that reads the
generation sees the change at the same moment as the data, never before. This lives in the
database even when REGISTRY_REDIS_URL is set: Redis cannot be part of that transaction.
Each worker's public pages (registry/web/page_cache.py) are kept under it too, so a listing's
state, an organisation's name and the districts move it as well.
"""

from __future__ import annotations

from typing import Any

from registry.tables import SharedGeneration
from workflows import timesource

NAME = "whitelist"
_BUMP = "UPDATE shared_generation SET value = value + 1 WHERE name = 'whitelist'"
# For a statement inside a search's own snapshot.
CURRENT = "SELECT value FROM shared_generation WHERE name = 'whitelist'"
_SEED = (
    "INSERT INTO shared_generation (name, value) VALUES ('whitelist', 0)"
    " ON CONFLICT (name) DO NOTHING"
)

SQLITE_CREATE = (
    _SEED,
    *(
        f"CREATE TRIGGER IF NOT EXISTS whitelist_generation_{suffix} AFTER {event}"
        f" ON whitelist_entry BEGIN {_BUMP}; END"
        for suffix, event in (("ai", "INSERT"), ("ad", "DELETE"), ("au", "UPDATE"))
    ),
)
SQLITE_DROP = tuple(
    f"DROP TRIGGER IF EXISTS whitelist_generation_{suffix}" for suffix in ("ai", "ad", "au")
)
# PostgreSQL runs the trigger once per statement: an import of ten thousand rows moves it once.
POSTGRES_CREATE = (
    _SEED,
    "CREATE OR REPLACE FUNCTION whitelist_generation_bump() RETURNS trigger AS $$ BEGIN "
    f"{_BUMP}; RETURN NULL; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS whitelist_generation ON whitelist_entry",
    "CREATE TRIGGER whitelist_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
    " ON whitelist_entry FOR EACH STATEMENT EXECUTE FUNCTION whitelist_generation_bump()",
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS whitelist_generation ON whitelist_entry",
    "DROP FUNCTION IF EXISTS whitelist_generation_bump()",
)


# What else public pages show (registry/web/page_cache.py): a listing's state (a suspended
# listing's certificate says so, and has no whitelist entry to move the generation when it
# then exits), the courses a reviewer kept, an organisation's name (an administrator may
# correct it) and the districts. Each moves the generation too.
_PAGE_SOURCES = (
    ("listing_state", "UPDATE OF state, course_decisions", "listing"),
    ("organisation_name", "UPDATE OF name", "organisation"),
    ("district_ai", "INSERT", "district"),
    ("district_ad", "DELETE", "district"),
    ("district_au", "UPDATE", "district"),
)
SQLITE_PAGES_CREATE = tuple(
    f"CREATE TRIGGER IF NOT EXISTS whitelist_generation_{name} AFTER {event}"
    f" ON {table} BEGIN {_BUMP}; END"
    for name, event, table in _PAGE_SOURCES
)
SQLITE_PAGES_DROP = tuple(
    f"DROP TRIGGER IF EXISTS whitelist_generation_{name}" for name, _, _ in _PAGE_SOURCES
)
POSTGRES_PAGES_CREATE = tuple(
    statement
    for name, event, table in _PAGE_SOURCES
    for statement in (
        f"DROP TRIGGER IF EXISTS whitelist_generation_{name} ON {table}",
        f"CREATE TRIGGER whitelist_generation_{name} AFTER {event} ON {table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION whitelist_generation_bump()",
    )
)
POSTGRES_PAGES_DROP = tuple(
    f"DROP TRIGGER IF EXISTS whitelist_generation_{name} ON {table}"
    for name, _, table in _PAGE_SOURCES
)


async def current() -> tuple[str, int] | None:
    """The database and its whitelist generation as committed now (None without the row:
    nothing can then say when an answer goes stale).

    The database is part of it: two databases (a test's copy of a template, a restored
    archive) can stand at the same count with different entries.
    """
    # Every public page and search asks, so on SQLite it is read on the spot (a thread hop
    # to a pooled connection cost more than twice the rest of serving a kept page).
    read_now = getattr(SharedGeneration._meta.db, "read_now", None)
    rows = read_now(CURRENT) if read_now is not None else None
    return token(rows if rows is not None else await SharedGeneration.raw(CURRENT))


def token(rows: list[dict[str, Any]]) -> tuple[str, int] | None:
    """The generation as `current` gives it, from the rows of CURRENT run elsewhere (a
    search reads it in its own snapshot)."""
    return (database_identity(), int(rows[0]["value"])) if rows else None


def database_identity() -> str:
    """Which database the tables are bound to: its file, or its PostgreSQL address."""
    engine = SharedGeneration._meta.db
    return str(getattr(engine, "path", None) or getattr(engine, "config", {}).get("dsn", ""))


async def restored() -> None:
    """After a restore: move past any count the replaced database reached (its moment in
    milliseconds), so no worker reuses an answer it kept for the database before."""
    await SharedGeneration.raw(
        "UPDATE shared_generation SET value = {} WHERE name = 'whitelist'",
        int(timesource.now().timestamp() * 1000),
    )
