"""The shared store's interface, and the choice of backend from the settings.

Every method takes the moment it concerns from its caller (workflows.timesource), so tests
control time; only the expiry of Redis keys runs on Redis's own clock.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import weakref
from datetime import datetime, timedelta
from typing import Protocol

from registry.settings import Settings, get_settings


class SharedStore(Protocol):
    """Keyed events in a sliding window and leases, shared by workers.

    What must change with the data in one transaction is not here: the whitelist's
    generation is a database row its triggers move (registry/public/search/generation.py).
    """

    async def record_event(self, key: str, at: datetime, keep: timedelta) -> None:
        """Count one event for `key` at `at`; it need not be kept longer than `keep`."""

    async def events_since(self, key: str, since: datetime) -> list[datetime]:
        """The key's events strictly after `since`, oldest first."""

    async def count_events(self, key: str, since: datetime) -> int:
        """How many events the key has strictly after `since`."""

    async def record_event_within_limit(
        self, key: str, at: datetime, since: datetime, limit: int, keep: timedelta
    ) -> list[datetime]:
        """Atomically: the events after `since`, and one more recorded at `at` if they were
        fewer than `limit` (two workers cannot both take the last place)."""

    async def forget_events(self, key: str) -> None:
        """Delete every event of the key."""

    async def acquire(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        """Take or renew the lease `name` for `ttl`; False while another holder has it."""

    async def release(self, name: str, holder: str) -> None:
        """Give the lease up now (if `holder` has it), so another worker need not wait."""

    async def close(self) -> None:
        """Release connections (nothing for the database backend)."""


def worker_holder() -> str:
    """A name for this worker as a lease holder: host and pid say who, the token makes a
    restarted process with a recycled pid a different holder."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


# A Redis client belongs to the event loop it connected in: one per loop (a worker has one;
# tests run each in its own).
_redis_stores: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, tuple[tuple[str, str], SharedStore]
] = weakref.WeakKeyDictionary()


def shared_store(settings: Settings | None = None) -> SharedStore:
    """The store of this deployment: Redis when REGISTRY_REDIS_URL is set, else the database."""
    settings = settings or get_settings()
    url = settings.redis_url
    if url is None:
        from registry.shared.database_backend import DatabaseStore

        return DatabaseStore()
    loop = asyncio.get_running_loop()
    where = (url, settings.redis_prefix)
    cached = _redis_stores.get(loop)
    if cached is not None and cached[0] == where:
        return cached[1]
    from registry.shared.redis_backend import RedisStore

    store = RedisStore.from_url(url, settings.redis_prefix)
    _redis_stores[loop] = (where, store)
    return store
