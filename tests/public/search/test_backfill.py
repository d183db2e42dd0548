"""`registry migrate` indexes whitelist rows that predate the search columns."""

from __future__ import annotations

from registry.cli import migrate_database
from registry.tables import WhitelistEntry
from tests.cast import listing_in
from workflows.states import State


async def test_migrate_fills_missing_search_tokens(db: object) -> None:
    listing_id = await listing_in(State.listed)
    await WhitelistEntry.update({WhitelistEntry.search_tokens: ""}).where(
        WhitelistEntry.listing == listing_id
    )
    await migrate_database()
    row = (
        await WhitelistEntry.select(WhitelistEntry.search_tokens)
        .where(WhitelistEntry.listing == listing_id)
        .first()
    )
    assert "篮球" in row["search_tokens"].split() and "lq" in row["search_tokens"].split()
