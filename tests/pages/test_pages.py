"""Pages: login, logout, the Chinese error pages, and the layout."""

from __future__ import annotations

import httpx
from litestar import Litestar

from tests.cast import PASSWORD
from tests.conftest import http_client


async def _csrf(client: httpx.AsyncClient, path: str = "/login") -> str:
    await client.get(path)
    return client.cookies["registry_csrf"]


async def test_home_page_is_chinese(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/")
    assert response.status_code == 200
    assert "天津市课后服务非学科类机构白名单" in response.text
    assert '<html lang="zh-CN">' in response.text


async def test_login_page_round_trip(anonymous: httpx.AsyncClient) -> None:
    token = await _csrf(anonymous)
    bad = await anonymous.post(
        "/login", data={"username": "reviewer", "password": "nope", "_csrf_token": token}
    )
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    assert 'value="reviewer"' in bad.text  # what was typed is kept
    good = await anonymous.post(
        "/login",
        data={"username": "reviewer", "password": PASSWORD, "_csrf_token": token, "next": "/"},
    )
    assert good.status_code == 303 and good.headers["location"] == "/"
    home = await anonymous.get("/")
    assert "reviewer（区教育局审核员）" in home.text
    out = await anonymous.post("/logout", data={"_csrf_token": token})
    assert out.status_code == 303
    assert "reviewer（" not in (await anonymous.get("/")).text


async def test_login_never_redirects_off_site(anonymous: httpx.AsyncClient) -> None:
    token = await _csrf(anonymous)
    response = await anonymous.post(
        "/login",
        data={
            "username": "city",
            "password": PASSWORD,
            "_csrf_token": token,
            "next": "//evil.example/",
        },
    )
    assert response.headers["location"] == "/city"  # the city's own work, not the link


async def test_each_role_lands_on_its_own_work(db: object, app: Litestar) -> None:
    for username, home in (
        ("provider", "/provider"),
        ("reviewer", "/bureau/dashboard"),  # the day's deadlines first
        ("approver", "/bureau/dashboard"),
        ("school", "/school"),
        ("city", "/city"),
    ):
        async with http_client(app) as client:
            token = await _csrf(client)
            data = {"username": username, "password": PASSWORD, "_csrf_token": token}
            response = await client.post("/login", data=data)
            assert response.status_code == 303, username
            assert response.headers["location"] == home, username
            assert (await client.get(home)).status_code == 200
            # Sent to the login from a page, the person goes back to it.
            again = await client.post("/login", data={**data, "next": "/notices"})
            assert again.headers["location"] == "/notices"


async def test_unknown_page_is_a_chinese_404_page(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/no/such/page")
    assert response.status_code == 404
    assert "页面不存在" in response.text and "text/html" in response.headers["content-type"]
    assert "<title>页面不存在 · " in response.text  # the tab says what happened
    icon = response.text.split('rel="icon" href="')[1].split('"')[0]
    served = await anonymous.get(icon)
    assert served.status_code == 200 and "image/svg+xml" in served.headers["content-type"]


async def test_api_errors_stay_json(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/v1/nothing")
    assert response.status_code == 404
    assert response.json()["status_code"] == 404


async def test_form_without_csrf_token_gets_a_page_not_json(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "表单已过期" in response.text
