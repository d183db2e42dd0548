"""Whitelist entries counted per (district, categories), kept by triggers on whitelist_entry.

The search page without keywords or row filters (its landing page, and a district or category
click) needs the facet counts of the whole list. Grouping every entry costs a pass over the
list per request; this table holds the same groups, changed by the database in the very
transaction that changes an entry (so a suspension leaves the counts at once), whichever code
writes the entry.
"""

from __future__ import annotations

_GROUP = "district_code = {row}.district_code AND categories = {row}.categories"
_ADD = (
    "INSERT INTO whitelist_facet (district_code, categories, n)"
    " VALUES ({row}.district_code, {row}.categories, 1)"
    " ON CONFLICT (district_code, categories) DO UPDATE SET n = whitelist_facet.n + 1"
)
_REMOVE = "UPDATE whitelist_facet SET n = n - 1 WHERE " + _GROUP
_BACKFILL = (
    "INSERT INTO whitelist_facet (district_code, categories, n)"
    " SELECT district_code, categories, count(*) FROM whitelist_entry WHERE true"
    " GROUP BY district_code, categories"
    " ON CONFLICT (district_code, categories) DO NOTHING"
)
_TABLE = (
    "CREATE TABLE IF NOT EXISTS whitelist_facet (district_code VARCHAR(6) NOT NULL,"
    " categories TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (district_code, categories))"
)

SQLITE_CREATE = (
    _TABLE,
    "CREATE TRIGGER IF NOT EXISTS whitelist_facet_ai AFTER INSERT ON whitelist_entry BEGIN "
    + _ADD.format(row="new")
    + "; END",
    "CREATE TRIGGER IF NOT EXISTS whitelist_facet_ad AFTER DELETE ON whitelist_entry BEGIN "
    + _REMOVE.format(row="old")
    + "; END",
    "CREATE TRIGGER IF NOT EXISTS whitelist_facet_au AFTER UPDATE OF district_code, categories"
    " ON whitelist_entry BEGIN "
    + _REMOVE.format(row="old")
    + "; "
    + _ADD.format(row="new")
    + "; END",
    _BACKFILL,
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS whitelist_facet_ai",
    "DROP TRIGGER IF EXISTS whitelist_facet_ad",
    "DROP TRIGGER IF EXISTS whitelist_facet_au",
    "DROP TABLE IF EXISTS whitelist_facet",
)
POSTGRES_CREATE = (
    _TABLE,
    "CREATE OR REPLACE FUNCTION whitelist_facet_count() RETURNS trigger AS $$ BEGIN"
    " IF TG_OP IN ('DELETE', 'UPDATE') THEN " + _REMOVE.format(row="OLD") + "; END IF;"
    " IF TG_OP IN ('INSERT', 'UPDATE') THEN " + _ADD.format(row="NEW") + "; END IF;"
    " RETURN NULL; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS whitelist_facet_count ON whitelist_entry",
    "CREATE TRIGGER whitelist_facet_count"
    " AFTER INSERT OR DELETE OR UPDATE OF district_code, categories ON whitelist_entry"
    " FOR EACH ROW EXECUTE FUNCTION whitelist_facet_count()",
    _BACKFILL,
)
POSTGRES_DROP = (
    "DROP TRIGGER IF EXISTS whitelist_facet_count ON whitelist_entry",
    "DROP FUNCTION IF EXISTS whitelist_facet_count()",
    "DROP TABLE IF EXISTS whitelist_facet",
)
# The groups, as the facet pass reads them when nothing but district and category filter.
GROUPS = "SELECT district_code AS code, categories, n FROM whitelist_facet WHERE n > 0"
