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


async def test_retokenising_every_row_is_idempotent(db: object) -> None:
    # The issue-13 migration recomputes every row's token columns from the row itself.
    from registry.public.projection import retokenise_all

    listing_id = await listing_in(State.listed)
    await WhitelistEntry.update(
        {WhitelistEntry.search_tokens: "stale", WhitelistEntry.word_tokens: ""}
    ).where(WhitelistEntry.listing == listing_id)
    columns = (WhitelistEntry.search_tokens, WhitelistEntry.name_tokens, WhitelistEntry.word_tokens)
    await retokenise_all()
    first = await WhitelistEntry.select(*columns).where(WhitelistEntry.listing == listing_id)
    await retokenise_all()
    second = await WhitelistEntry.select(*columns).where(WhitelistEntry.listing == listing_id)
    assert first == second
    assert {"篮球", "lq", "和平区", "和平"} <= set(first[0]["search_tokens"].split())
    assert "lq" in first[0]["word_tokens"].split()
