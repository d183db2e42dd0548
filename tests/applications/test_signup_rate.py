"""Sign-ups are limited per client address (5 an hour by default), across workers: 429 with
Retry-After and a Chinese message, on the API and the sign-up page alike."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import httpx
from litestar import Litestar

from registry.demo.identity import make_uscc
from registry.tables import LoginFailure, Organisation
from tests.cast import NOW
from tests.conftest import http_client
from workflows import timesource

USCC_RNG = random.Random(2026)


def organisation(number: int) -> dict[str, Any]:
    return {
        "name": f"天津市河西区第{number}围棋培训中心",
        "uscc": make_uscc(USCC_RNG, "91", "120103", date(2018, 5, 1)),
        "contact_name": "陈静",
        "contact_phone": "13920001111",
        "username": f"weiqi{number}",
        "password": "weiqi-2026-pass",
    }


def from_address(app: Litestar, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_sixth_sign_up_in_an_hour_is_refused_with_retry_after(
    db: object, app: Litestar
) -> None:
    async with from_address(app, "203.0.113.7") as client:
        for number in range(5):
            created = await client.post("/api/v1/organisations", json=organisation(number))
            assert created.status_code == 201, created.text
        before = await Organisation.count()
        refused = await client.post("/api/v1/organisations", json=organisation(5))
        assert refused.status_code == 429, refused.text
        assert 3500 < int(refused.headers["Retry-After"]) <= 3600
        assert "同一网络地址每小时最多注册5个账号" in refused.json()["detail"]
        assert await Organisation.count() == before
        # The page answers the same way, keeping what was typed.
        await client.get("/signup")
        page = await client.post(
            "/signup",
            data={**organisation(6), "password2": "weiqi-2026-pass", "kind": "organisation",
                  "_csrf_token": client.cookies["registry_csrf"]},
        )  # fmt: skip
        assert page.status_code == 429 and "Retry-After" in page.headers
        assert "每小时最多注册5个账号" in page.text and "第6围棋培训中心" in page.text
    # Another address is not held back.
    async with from_address(app, "198.51.100.20") as other:
        assert (await other.post("/api/v1/organisations", json=organisation(7))).status_code == 201
    # An hour after the first, there is room again.
    with timesource.frozen(NOW + timedelta(hours=1, minutes=1)):
        async with from_address(app, "203.0.113.7") as client:
            again = await client.post("/api/v1/organisations", json=organisation(8))
            assert again.status_code == 201, again.text


async def test_refused_sign_ups_do_not_count_and_the_address_is_not_stored(
    db: object, app: Litestar
) -> None:
    async with http_client(app) as client:
        for number in range(6):
            bad = await client.post(
                "/api/v1/organisations", json={**organisation(number), "uscc": "123"}
            )
            assert bad.status_code == 422
        good = await client.post("/api/v1/organisations", json=organisation(9))
        assert good.status_code == 201, good.text
    keys = [r["key"] for r in await LoginFailure.select(LoginFailure.key)]
    assert len(keys) == 1 and keys[0].startswith("signup:addr:")
    assert "127.0.0.1" not in keys[0]
