"""Each role's main journey at a desk (1280 px) and on a phone (375 px), in real Chromium.

Every page of a journey is checked the same way (tests/browser/page_checks.py): it fits the
window, axe-core finds no WCAG 2.1 AA violation, the browser saw no error; its screenshot is
kept under var/screenshots/.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import expect

from registry.importing import import_whitelist
from registry.notices.certificates import verify_code
from tests.browser.conftest import new_page
from tests.browser.page_checks import check_page, watch
from tests.cast import BINHAI, CAST, HEPING, PASSWORD, actor, listing_in
from tests.factories import step
from tests.importing.test_import import csv_bytes
from workflows.inputs import transition_input
from workflows.states import State

DESK, PHONE = 1280, 375
PHONE_HEIGHT = 667  # the smallest phone still common (iPhone SE)
WIDTHS = (DESK, PHONE)
CLUBS = 25  # more basketball clubs than one page of results holds


async def _log_in(page: Any, username: str) -> None:
    await page.goto("/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url(lambda url: "/login" not in url)


async def _walk(chromium: Any, base: str, username: str | None, paths: list[str]) -> list[str]:
    """Log in (or not), check the landing page and each path at both widths; the landings."""
    landings = []
    for width in WIDTHS:
        height = PHONE_HEIGHT if width == PHONE else 800
        page = await new_page(chromium, base, width, height)
        problems = watch(page)
        if username:
            await _log_in(page, username)
            landings.append(page.url.removeprefix(base))
            await check_page(page, f"{username}-landing", problems)
        for path in paths:
            response = await page.goto(path)
            assert response.status == 200, (username, path, response.status)
            await check_page(page, f"{username or 'public'}-{path}", problems)
        await page.context.close()
    return landings


async def _clubs() -> None:
    rows = [["序号", "机构名称", "类别", "项目"]] + [
        [str(n), f"天津市和平区第{n}少儿篮球俱乐部", "体育", "少儿篮球"]
        for n in range(1, CLUBS + 1)
    ]
    report = await import_whitelist(csv_bytes(rows), HEPING, "tester")
    assert len(report.imported) == CLUBS


async def test_a_parent_searches_on_a_phone_and_pages_back(
    chromium: Any, live_server: str, db: object
) -> None:
    listed = await listing_in(State.listed)
    await _clubs()
    organisation = CAST.organisations["feiyue"]
    await _walk(
        chromium,
        live_server,
        None,
        ["/", "/?q=篮球", f"/providers/{organisation}", "/notices", "/whitelist/export",
         f"/verify/{verify_code(listed)}", "/signup", "/login"],
    )  # fmt: skip

    page = await new_page(chromium, live_server, PHONE, PHONE_HEIGHT)
    await page.goto("/")
    await page.fill("#search-q", "篮球")
    await page.press("#search-q", "Enter")
    await page.wait_for_url("**/?q=*")
    # The first result is on the first screen, above the filters.
    first = page.locator(".search-item").first
    box = await first.locator("h2").bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE_HEIGHT
    assert not await page.locator("#search-filters").is_visible()
    # Each page of results is a history entry: Back from page 2 returns to page 1.
    await page.click(".pager a[rel=next]")
    await page.wait_for_url("**page=2*")
    await expect(page.locator(".search-total")).to_contain_text("第 2 / 2 页")
    await page.go_back()
    await page.wait_for_url(lambda url: "page=2" not in url and "q=" in url)
    await expect(page.locator(".search-total")).to_contain_text("第 1 / 2 页")
    # The filters open from their button.
    await page.click(".filters-toggle")
    assert await page.locator("#search-filters").is_visible()
    await page.context.close()


@pytest.mark.parametrize(
    ("username", "landing", "paths"),
    [
        ("provider_other", "/provider", ["/provider/evaluation", "/provider/hearings",
                                         "@listing", "@supplement"]),
        ("school", "/school", ["/school/evaluation", "/school/incidents", "@engage"]),
        ("reviewer_binhai", "/bureau/dashboard", ["@supplement_review", "/bureau"]),
        ("reviewer", "/bureau/dashboard", ["@review", "/bureau", "/bureau/evaluation",
                                           "/bureau/complaints", "/bureau/incidents",
                                           "/bureau/rubric", "/bureau/import",
                                           "/whitelist/export"]),
        ("approver", "/bureau/dashboard", ["@review", "/bureau/evaluation", "/account/password"]),
        ("city", "/city", ["/bureau", "/bureau/dashboard", "/bureau/evaluation",
                           "/bureau/complaints", "/bureau/rubric"]),
    ],
)  # fmt: skip
async def test_each_role_lands_on_its_work_and_every_page_fits(
    chromium: Any, live_server: str, db: object, username: str, landing: str, paths: list[str]
) -> None:
    listed = await listing_in(State.listed, organisation="other")
    pending = await listing_in(State.pending_approval)
    supplement = await listing_in(State.in_review, organisation="other", district=BINHAI)
    asked = transition_input(
        "request_supplement", supplement_items=["场地安全检查报告", "教练健康证明"]
    )
    reviewer = await actor("reviewer_binhai")
    await step(
        supplement,
        "request_supplement",
        reviewer,
        reason=asked.reason,
        message=asked.message,
        params=asked.params,
    )
    refs = {
        "@supplement": f"/provider/applications/{supplement}",
        "@supplement_review": f"/bureau/listings/{supplement}",
        "@listing": f"/provider/applications/{listed}",
        "@review": f"/bureau/listings/{pending}",
        "@engage": f"/school/engagements/new?listing={listed}",
    }
    landings = await _walk(chromium, live_server, username, [refs.get(p, p) for p in paths])
    assert landings == [landing, landing]
