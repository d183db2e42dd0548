"""The public search, clicked in Chromium: initials find the provider, its page shows history."""

from __future__ import annotations

from typing import Any

from tests.cast import CAST, listing_in
from tests.factories import individual_application
from workflows.states import State


async def test_typing_initials_finds_the_basketball_club_and_its_history(
    browser_page: Any, db: object
) -> None:
    await listing_in(State.listed)
    calligraphy = individual_application()  # 硬笔书法: no basketball in name, courses or text
    await listing_in(State.listed, organisation="other", district="120116", form=calligraphy)
    page = browser_page
    await page.goto("/")
    other = page.locator("main a", has_text="墨香书法")
    await other.first.wait_for()  # with no query, every listed provider shows
    await page.fill("input[name=q]", "lq")
    # Live results (debounced fetch) replace the list without a page load.
    await other.first.wait_for(state="detached")
    result = page.locator(f"a[href='/providers/{CAST.organisations['feiyue']}']").first
    await result.click()
    await page.wait_for_url("**/providers/*")
    text = await page.inner_text("main")
    assert "少儿篮球" in text
    assert "入库" in text  # the public history: listed after the notice
