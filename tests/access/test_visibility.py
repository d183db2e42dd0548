"""The SQL scope of listings agrees with the engine's scope check, for every role and state."""

from __future__ import annotations

import pytest

from registry.access.visibility import visible_listings
from registry.tables import Listing
from tests.cast import USERS, actor, listing_in, listing_row
from workflows.states import State


@pytest.mark.parametrize("state", list(State), ids=str)
async def test_query_scope_matches_grant_scope(db: object, state: State) -> None:
    listing_id = await listing_in(state)
    row = await listing_row(listing_id)
    for name in USERS:
        who = await actor(name)
        expected = bool(who.grants_seeing(row["organisation"], row["district"], state))
        clause = visible_listings(who)
        found = clause is not None and await Listing.exists().where(
            (Listing.id == listing_id) & clause
        )
        assert found == expected, (name, state)
