"""Public pages kept per worker: reused for anonymous visitors, never stale, never personal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from registry.api import whitelist as whitelist_api
from registry.notices.certificates import verify_code
from registry.pages import providers
from registry.tables import District
from tests.cast import CAST, PASSWORD, T0, actor, listing_in, listing_row
from tests.conftest import http_client
from tests.factories import step
from workflows import timesource
from workflows.states import State


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Each time the provider page is built rather than reused, its organisation's id."""
    built: list[int] = []
    original = providers.organisation_history

    async def counting(organisation_id: int) -> Any:
        built.append(organisation_id)
        return await original(organisation_id)

    monkeypatch.setattr(providers, "organisation_history", counting)
    yield built


def _provider_path(organisation: str = "feiyue") -> str:
    return f"/providers/{CAST.organisations[organisation]}"


async def _login(client: httpx.AsyncClient, username: str) -> None:
    await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "_csrf_token": client.cookies["registry_csrf"],
        },
    )
    assert response.status_code == 303


async def test_an_anonymous_page_is_built_once_and_reused(
    anonymous: httpx.AsyncClient, builds: list[int]
) -> None:
    await listing_in(State.listed)
    first = await anonymous.get(_provider_path())
    again = await anonymous.get(_provider_path())
    assert first.status_code == again.status_code == 200
    assert again.text == first.text and "飞跃青少年篮球俱乐部" in again.text
    assert len(builds) == 1
    # The security headers come with the copy too.
    assert "content-security-policy" in again.headers
    # Another question on the same page is another page.
    asked = await anonymous.get(_provider_path(), params={"district": "120101", "date": "x"})
    assert "请选择区并填写日期" in asked.text and len(builds) == 2


async def test_a_transition_elsewhere_shows_at_once(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    assert "入库情况" in (await anonymous.get(_provider_path())).text
    await step(listing_id, "suspend", await actor("reviewer"), reason="停业整顿")
    page = (await anonymous.get(_provider_path())).text
    assert "目前未在任何区的白名单内" in page


async def test_a_certificate_follows_its_listing_out_of_the_whitelist(
    anonymous: httpx.AsyncClient,
) -> None:
    # A suspended listing has no whitelist entry: its exit changes no entry, only the listing.
    listing_id = await listing_in(State.suspended)
    path = f"/verify/{verify_code(listing_id)}"
    assert "暂停" in (await anonymous.get(path)).text
    await step(
        listing_id,
        "revoke",
        await actor("reviewer"),
        reason="暂停期满未整改",
        params={"exit_reason": "fee_violation"},
        now=T0 + timedelta(days=60),
    )
    text = (await anonymous.get(path)).text
    assert "已退出" in text and "违规收费" in text


async def test_a_certificate_expires_at_midnight_without_a_write(
    anonymous: httpx.AsyncClient,
) -> None:
    listing_id = await listing_in(State.listed)
    until = (await listing_row(listing_id))["valid_until"]
    path = f"/verify/{verify_code(listing_id)}"
    last_day = T0.replace(year=until.year, month=until.month, day=until.day)
    with timesource.frozen(last_day):
        assert "已入库，有效期至" in (await anonymous.get(path)).text
    with timesource.frozen(last_day + timedelta(days=1)):
        assert "已过期" in (await anonymous.get(path)).text


async def test_renaming_a_district_shows_on_the_search_page(
    anonymous: httpx.AsyncClient,
) -> None:
    assert "和平区" in (await anonymous.get("/")).text
    await District.update({District.name: "和平新区"}).where(District.code == "120101")
    assert "和平新区" in (await anonymous.get("/")).text


async def test_a_logged_in_visitor_gets_and_leaves_no_copy(
    anonymous: httpx.AsyncClient, builds: list[int], app: Any
) -> None:
    await listing_in(State.listed)
    assert "reviewer（" not in (await anonymous.get(_provider_path())).text
    await _login(anonymous, "reviewer")
    mine = (await anonymous.get(_provider_path())).text
    assert "reviewer（区教育局审核员）" in mine and len(builds) == 2
    async with http_client(app) as stranger:
        theirs = (await stranger.get(_provider_path())).text
    assert "reviewer（" not in theirs and 'action="/logout"' not in theirs
    assert len(builds) == 2  # the stranger had the anonymous copy


async def test_the_whitelist_json_is_kept_and_follows_a_suspension(
    anonymous: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    listing_id = await listing_in(State.listed)
    searched: list[str] = []
    original = whitelist_api.run_search

    async def counting(q: str, *args: Any) -> Any:
        searched.append(q)
        return await original(q, *args)

    monkeypatch.setattr(whitelist_api, "run_search", counting)
    first = (await anonymous.get("/api/v1/whitelist", params={"q": "篮球"})).json()
    again = (await anonymous.get("/api/v1/whitelist", params={"q": "篮球"})).json()
    assert first == again and first["total"] == 1 and searched == ["篮球"]
    await step(listing_id, "suspend", await actor("reviewer"), reason="停业整顿")
    after = (await anonymous.get("/api/v1/whitelist", params={"q": "篮球"})).json()
    assert after["total"] == 0 and searched == ["篮球", "篮球"]
