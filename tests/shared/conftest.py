"""The shared store under test on both backends: the test's database, and a real Redis.

Redis is the server at REGISTRY_TEST_REDIS_URL (default redis://127.0.0.1:6379/0), each test
under its own key prefix, removed afterwards. A Redis that cannot be reached fails the Redis
tests (a skipped backend would pass unnoticed); REGISTRY_TEST_NO_REDIS=1 skips them on purpose.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import redis.asyncio as aioredis
from piccolo.engine.base import Engine

from registry.settings import get_settings
from registry.shared.database_backend import DatabaseStore
from registry.shared.redis_backend import RedisStore
from registry.shared.store import SharedStore

REDIS_URL = os.environ.get("REGISTRY_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_wanted() -> None:
    """Skip only when told to; otherwise the Redis half of every test runs."""
    if os.environ.get("REGISTRY_TEST_NO_REDIS") == "1":
        pytest.skip("REGISTRY_TEST_NO_REDIS=1: the Redis backend is not tested")


async def reachable_redis(prefix: str) -> RedisStore:
    """A store on the test Redis, or the test fails saying the server is not there."""
    store = RedisStore.from_url(REDIS_URL, prefix)
    try:
        await store.client.ping()
    except (aioredis.ConnectionError, aioredis.TimeoutError, OSError) as error:
        await store.close()
        pytest.fail(
            f"Redis at {REDIS_URL} is unreachable ({error}); start it "
            "(or set REGISTRY_TEST_NO_REDIS=1 to leave the Redis backend untested)",
            pytrace=False,
        )
    return store


async def remove_keys(store: RedisStore) -> None:
    """Delete every key under the store's (per-test) prefix."""
    keys = [key async for key in store.client.scan_iter(match=f"{store.prefix}*")]
    if keys:
        await store.client.delete(*keys)


def unique_prefix() -> str:
    return f"registry-test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["database", "redis"])
async def store(request: pytest.FixtureRequest, db: Engine) -> AsyncIterator[SharedStore]:
    """The store one worker sees, on each backend in turn."""
    if request.param == "database":
        yield DatabaseStore()
        return
    redis_wanted()
    redis_store = await reachable_redis(unique_prefix())
    try:
        yield redis_store
    finally:
        await remove_keys(redis_store)
        await redis_store.close()


async def another_worker(store: SharedStore) -> SharedStore:
    """A second store on the same backend, with its own connections: another worker's view."""
    if isinstance(store, RedisStore):
        return await reachable_redis(store.prefix)
    return DatabaseStore()


@asynccontextmanager
async def configured_redis(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """The application configured with REGISTRY_REDIS_URL under a fresh prefix (yielded)."""
    redis_wanted()
    prefix = unique_prefix()
    cleaner = await reachable_redis(prefix)
    monkeypatch.setenv("REGISTRY_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("REGISTRY_REDIS_PREFIX", prefix)
    get_settings.cache_clear()
    try:
        yield prefix
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        await remove_keys(cleaner)
        await cleaner.close()


@pytest.fixture
async def redis_configured(db: Engine, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """The application's shared store is Redis for this test; the key prefix."""
    async with configured_redis(monkeypatch) as prefix:
        yield prefix


@pytest.fixture(params=["database", "redis"])
async def configured_backend(
    request: pytest.FixtureRequest, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """The application's shared store is the database, then Redis; the backend's name."""
    if request.param == "database":
        yield "database"
        return
    async with configured_redis(monkeypatch):
        yield "redis"
