"""Each behaviour of the shared store, on the database and on Redis alike."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from registry.shared.store import SharedStore
from tests.shared.conftest import another_worker

HOUR = timedelta(hours=1)


async def test_events_are_counted_in_a_sliding_window(store: SharedStore, now: datetime) -> None:
    for minutes in (50, 10, 5, 0):
        await store.record_event("user:reviewer", now - timedelta(minutes=minutes), keep=HOUR)
    await store.record_event("user:approver", now, keep=HOUR)
    assert await store.events_since("user:reviewer", now - timedelta(minutes=15)) == [
        now - timedelta(minutes=10),
        now - timedelta(minutes=5),
        now,
    ]
    # Strictly after the window's start, as the lockout has always counted.
    assert await store.count_events("user:reviewer", now - timedelta(minutes=10)) == 2
    assert await store.count_events("user:reviewer", now - HOUR) == 4
    await store.forget_events("user:reviewer")
    assert await store.events_since("user:reviewer", now - HOUR) == []
    assert await store.count_events("user:approver", now - HOUR) == 1


async def test_a_limited_window_records_only_while_there_is_room(
    store: SharedStore, now: datetime
) -> None:
    seen = [
        await store.record_event_within_limit(
            "signup:x", now + timedelta(seconds=n), since=now - HOUR, limit=2, keep=HOUR
        )
        for n in range(3)
    ]
    assert [len(found) for found in seen] == [0, 1, 2]
    assert await store.count_events("signup:x", now - HOUR) == 2  # the third was refused


async def test_two_workers_cannot_both_take_the_last_place(
    store: SharedStore, now: datetime
) -> None:
    other = await another_worker(store)
    try:
        await asyncio.gather(
            *[
                worker.record_event_within_limit(
                    "signup:y", now, since=now - HOUR, limit=3, keep=HOUR
                )
                for worker in (store, other) * 4
            ]
        )
        assert await store.count_events("signup:y", now - HOUR) == 3
    finally:
        if other is not store:
            await other.close()


async def test_one_of_two_concurrent_contenders_gets_the_lease(
    store: SharedStore, now: datetime
) -> None:
    other = await another_worker(store)
    try:
        won = await asyncio.gather(
            store.acquire("clock", "worker-a", timedelta(seconds=30), now),
            other.acquire("clock", "worker-b", timedelta(seconds=30), now),
        )
        assert sorted(won) == [False, True]
        # The loser keeps losing while the lease lasts.
        loser, loser_name = (other, "worker-b") if won[0] else (store, "worker-a")
        later = now + timedelta(seconds=10)
        assert not await loser.acquire("clock", loser_name, timedelta(seconds=30), later)
    finally:
        await other.close()


async def test_the_holder_renews_and_others_wait(store: SharedStore, now: datetime) -> None:
    ttl = timedelta(seconds=30)
    assert await store.acquire("clock", "worker-a", ttl, now)
    # Renewed at 20 s, so it holds until 50 s: at 40 s another worker still cannot take it.
    assert await store.acquire("clock", "worker-a", ttl, now + timedelta(seconds=20))
    assert not await store.acquire("clock", "worker-b", ttl, now + timedelta(seconds=40))
    assert await store.acquire("clock", "worker-a", ttl, now + timedelta(seconds=40))


async def test_another_worker_takes_over_once_the_lease_expires(
    store: SharedStore, now: datetime
) -> None:
    ttl = timedelta(milliseconds=200)
    assert await store.acquire("clock", "worker-a", ttl, now)
    assert not await store.acquire("clock", "worker-b", ttl, now + timedelta(milliseconds=50))
    # Redis expires on its own clock, the database by the moment given: both move past the ttl.
    await asyncio.sleep(0.3)
    after = now + timedelta(milliseconds=300)
    assert await store.acquire("clock", "worker-b", ttl, after)
    # The old holder has lost it: renewing is not taking back.
    assert not await store.acquire("clock", "worker-a", ttl, after)


async def test_a_released_lease_is_free_at_once(store: SharedStore, now: datetime) -> None:
    ttl = timedelta(minutes=5)
    assert await store.acquire("clock", "worker-a", ttl, now)
    await store.release("clock", "worker-b")  # not the holder: nothing happens
    assert not await store.acquire("clock", "worker-b", ttl, now)
    await store.release("clock", "worker-a")
    assert await store.acquire("clock", "worker-b", ttl, now)


async def test_leases_are_independent_by_name(store: SharedStore, now: datetime) -> None:
    ttl = timedelta(minutes=5)
    assert await store.acquire("clock", "worker-a", ttl, now)
    assert await store.acquire("reindex", "worker-b", ttl, now)
