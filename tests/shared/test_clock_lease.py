"""Only the worker holding the clock's lease ticks; another takes over when it stops."""

from __future__ import annotations

from registry.app import CLOCK_LEASE, clock_turn
from registry.shared import shared_store


async def test_one_worker_ticks_until_it_lets_go(configured_backend: str) -> None:
    # Interval 1 s: the lease lasts 3 s (real time on Redis, the frozen now on the database).
    assert await clock_turn("worker-a", interval_seconds=1)
    assert not await clock_turn("worker-b", interval_seconds=1)
    assert await clock_turn("worker-a", interval_seconds=1)  # renewed, ticks again
    await shared_store().release(CLOCK_LEASE, "worker-a")  # worker a shuts down
    assert await clock_turn("worker-b", interval_seconds=1)
    assert not await clock_turn("worker-a", interval_seconds=1)
