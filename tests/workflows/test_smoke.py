from __future__ import annotations

import pytest

from tests.cast import listing_in
from workflows.states import State


@pytest.mark.parametrize("state", list(State))
async def test_listing_reaches_every_state(db: object, state: State) -> None:
    await listing_in(state)
