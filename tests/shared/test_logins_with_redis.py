"""With REGISTRY_REDIS_URL set, sign-in and sign-up limits count in Redis: same limits, same
words as with the database."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from litestar import Litestar

from registry.access import logins
from registry.shared import shared_store
from registry.shared.redis_backend import RedisStore
from registry.tables import LoginFailure
from tests.applications.test_signup_rate import from_address, organisation
from tests.cast import NOW, PASSWORD
from tests.shared.conftest import REDIS_URL
from workflows import timesource

LOGIN = "/api/v1/auth/login"


async def _attempt(client: httpx.AsyncClient, password: str, user: str = "reviewer") -> int:
    response = await client.post(LOGIN, json={"username": user, "password": password})
    return response.status_code


async def test_five_wrong_passwords_lock_the_account_in_redis(
    redis_configured: str, anonymous: httpx.AsyncClient
) -> None:
    assert isinstance(shared_store(), RedisStore)
    codes = [await _attempt(anonymous, f"wrong-{n}") for n in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    locked = await anonymous.post(LOGIN, json={"username": "reviewer", "password": PASSWORD})
    assert locked.status_code == 429
    body = locked.json()
    assert body["detail"] == "登录失败次数过多，已暂时锁定，请于10:15（约15分钟后）再试"
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60 + 1
    # Counted in Redis under the configured prefix, not in the database.
    assert await LoginFailure.count() == 0
    store = shared_store()
    assert isinstance(store, RedisStore)
    assert await store.client.exists(f"{redis_configured}events:user:reviewer")
    with timesource.frozen(NOW + timedelta(minutes=15, seconds=1)):
        assert await _attempt(anonymous, PASSWORD) == 200
        # The success cleared the account's count in Redis too.
        assert await store.client.exists(f"{redis_configured}events:user:reviewer") == 0


async def test_the_lock_holds_for_another_worker(redis_configured: str) -> None:
    for n in range(4):
        with pytest.raises(logins.LoginRefused):
            await logins.sign_in("reviewer", f"wrong-{n}", "203.0.113.7")
    # Another worker: its own Redis connection, the same counts.
    other = RedisStore.from_url(REDIS_URL, redis_configured)
    try:
        since = timesource.now() - timedelta(minutes=15)
        assert await other.count_events(logins.account_key("reviewer"), since) == 4
    finally:
        await other.close()
    with pytest.raises(logins.LoginRefused) as fifth:
        await logins.sign_in("reviewer", "wrong-5", "198.51.100.9")
    assert fifth.value.code == "locked"


async def test_the_sixth_sign_up_in_an_hour_is_refused_with_redis(
    redis_configured: str, app: Litestar
) -> None:
    async with from_address(app, "203.0.113.7") as client:
        for number in range(5):
            created = await client.post("/api/v1/organisations", json=organisation(number))
            assert created.status_code == 201, created.text
        refused = await client.post("/api/v1/organisations", json=organisation(5))
        assert refused.status_code == 429, refused.text
        assert 3500 < int(refused.headers["Retry-After"]) <= 3600
        assert "同一网络地址每小时最多注册5个账号" in refused.json()["detail"]
    assert await LoginFailure.count() == 0
    with timesource.frozen(NOW + timedelta(hours=1, minutes=1)):
        async with from_address(app, "203.0.113.7") as client:
            again = await client.post("/api/v1/organisations", json=organisation(8))
            assert again.status_code == 201, again.text
