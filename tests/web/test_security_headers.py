"""Every answer carries a CSP with no third-party origin; other sites cannot post to us."""

from __future__ import annotations

import re

import httpx

from tests.cast import PASSWORD

PAGES = ["/", "/login", "/notices", "/schema", "/schema/swagger", "/no-such-page", "/admin/"]


async def test_every_page_forbids_framing_and_third_party_origins(
    anonymous: httpx.AsyncClient,
) -> None:
    for path in PAGES:
        response = await anonymous.get(path, follow_redirects=True)
        csp = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, path
        assert "default-src 'self'" in csp, path
        assert not re.search(r"https?://", csp), path
        assert response.headers["referrer-policy"] == "same-origin", path
        assert response.headers["x-content-type-options"] == "nosniff", path


async def test_the_api_docs_load_nothing_from_another_host(anonymous: httpx.AsyncClient) -> None:
    docs = await anonymous.get("/schema")
    assert docs.status_code == 200
    assert not re.search(r"""(src|href)=["']https?://""", docs.text), "a third-party asset"
    for asset in re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", docs.text):
        assert (await anonymous.get(asset)).status_code == 200, asset
    assert (await anonymous.get("/schema/openapi.json")).status_code == 200


async def test_pages_use_no_inline_script(anonymous: httpx.AsyncClient) -> None:
    # The strict CSP (script-src 'self') would block it in the browser.
    for path in ["/", "/login", "/signup", "/notices"]:
        text = (await anonymous.get(path)).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert " on" not in re.sub(r"<(?!\w+[^>]*\son\w+=)[^>]*>", "", text), path


async def test_cross_origin_posts_are_refused_even_where_no_token_is_asked(
    anonymous: httpx.AsyncClient,
) -> None:
    login = {"username": "reviewer", "password": PASSWORD}
    evil = {"Origin": "https://evil.example", "Content-Type": "text/plain"}
    for path in ["/api/v1/auth/login", "/login", "/api/v1/organisations", "/signup"]:
        response = await anonymous.post(path, content=str(login), headers=evil)
        assert response.status_code == 403, path
        assert "其他网站" in response.json()["detail"]
    fetched = await anonymous.post(
        "/api/v1/auth/login", json=login, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert fetched.status_code == 403
    assert "session" not in anonymous.cookies
    own = await anonymous.post(
        "/api/v1/auth/login", json=login, headers={"Origin": "http://testserver"}
    )
    assert own.status_code == 200


async def test_opening_the_admin_first_does_not_break_writes_on_the_site(
    anonymous: httpx.AsyncClient,
) -> None:
    await anonymous.get("/admin/", follow_redirects=True)
    await anonymous.get("/login")
    token = anonymous.cookies["registry_csrf"]
    response = await anonymous.post(
        "/login", data={"username": "reviewer", "password": PASSWORD, "_csrf_token": token}
    )
    assert response.status_code == 303
