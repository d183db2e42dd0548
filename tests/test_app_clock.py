"""The server runs the clock itself, so notices end without a cron job."""

from __future__ import annotations

import asyncio
import dataclasses

from litestar import Litestar

from registry.app import clock_lifespan
from registry.settings import get_settings
from tests.cast import listing_in
from tests.factories import state_of
from workflows.states import State


async def test_server_clock_lists_a_provider_whose_notice_ended(db: object, app: Litestar) -> None:
    listing_id = await listing_in(State.in_public_notice)  # notice ended in March 2026
    settings = dataclasses.replace(get_settings(), clock_interval_seconds=3600)
    async with clock_lifespan(settings)(app):
        for _ in range(100):
            if (await state_of(listing_id))[0] == State.listed:
                break
            await asyncio.sleep(0.05)
    assert (await state_of(listing_id))[0] == State.listed


async def test_clock_can_be_turned_off(db: object, app: Litestar) -> None:
    listing_id = await listing_in(State.in_public_notice)
    settings = dataclasses.replace(get_settings(), clock_interval_seconds=0)
    async with clock_lifespan(settings)(app):
        await asyncio.sleep(0.2)
    assert (await state_of(listing_id))[0] == State.in_public_notice
