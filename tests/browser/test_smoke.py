"""The browser sees the real server: log in and out through the pages."""

from __future__ import annotations

from typing import Any

from tests.cast import PASSWORD


async def test_reviewer_logs_in_through_the_page(browser_page: Any) -> None:
    page = browser_page
    await page.goto("/login")
    await page.fill("input[name=username]", "reviewer")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/bureau/dashboard")  # the reviewer lands on the day's deadlines
    assert "reviewer（区教育局审核员）" in await page.inner_text("header")
    await page.click("text=退出")
    await page.wait_for_url("**/")
    assert "登录" in await page.inner_text("header")
