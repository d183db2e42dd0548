"""Every task in the README has a page, reachable from the navigation of the role that does it."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from registry.pages.common import FOOTER_NAVIGATION, nav_links
from tests.api import conftest as api_fixtures
from tests.cast import HEPING, actor, listing_in
from workflows.states import State

login = api_fixtures.login

README = Path(__file__).resolve().parents[2] / "README.md"
ROLES = ("provider", "school", "reviewer", "approver", "city")


def _readme_pages() -> set[str]:
    """The pages the README lists (its 页面 line), without those that need an id."""
    line = next(text for text in README.read_text().splitlines() if text.startswith("页面："))
    return {path for path in re.findall(r"`(/[^`]*)`", line) if "{" not in path}


def _nav(page: str) -> list[str]:
    nav = page[page.index('<nav id="site-nav"') : page.index("</nav>")]
    return re.findall(r'<a href="([^"]+)"', nav)


async def test_every_readme_page_is_in_some_roles_navigation(db: object) -> None:
    reachable = {href for href, _ in (*nav_links(None), *FOOTER_NAVIGATION)}
    for name in ROLES:
        reachable |= {href for href, _ in nav_links(await actor(name))}
    assert _readme_pages() - reachable == set()


async def test_each_navigation_link_opens_for_its_role(login, anonymous: httpx.AsyncClient) -> None:
    await listing_in(State.listed)
    clients = {name: await login(name) for name in ROLES}
    clients["anonymous"] = anonymous
    for name, client in clients.items():
        home = await client.get("/")
        links = _nav(home.text)
        assert links, name
        for href in links:
            if href == "/admin/":
                continue  # the admin is its own application (tests/admin)
            page = await client.get(href)
            assert page.status_code == 200, (name, href, page.status_code)
            assert f'<a href="{href}" aria-current="page"' in page.text, (name, href)


async def test_the_city_is_not_offered_a_district_import(login) -> None:
    city = await login("city")
    console = (await city.get("/bureau")).text
    assert 'href="/bureau/import"' not in console
    reviewer = await login("reviewer")
    assert 'href="/bureau/import"' in (await reviewer.get("/bureau")).text


async def test_download_page_offers_each_districts_list(anonymous: httpx.AsyncClient) -> None:
    await listing_in(State.listed)
    page = (await anonymous.get("/whitelist/export")).text
    assert "共 1 家" in page
    assert "<td>和平区</td>\n        <td>1</td>" in page
    assert page.count("暂无机构") == 15  # the other districts have nobody listed yet
    link = f"/api/v1/whitelist/export?district={HEPING}&amp;format=xlsx"
    assert link in page
    file = await anonymous.get(link.replace("&amp;", "&"))
    assert file.status_code == 200 and file.content[:2] == b"PK"  # an XLSX (zip) file
