"""One application from draft to certificate, clicked through the real pages in Chromium."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from registry.notices.certificates import verify_code
from tests.cast import PASSWORD, listing_row
from tests.factories import valid_application
from workflows.clock import tick


async def _log_in(page: Any, username: str) -> None:
    await page.goto("/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url(lambda url: "/login" not in url)  # each role lands on its own work


async def _log_out(page: Any) -> None:
    await page.click("header >> text=退出")
    await page.wait_for_url("**/")


async def _bureau_action(page: Any, listing_id: int, label: str, reason: str = "") -> None:
    await page.goto(f"/bureau/listings/{listing_id}")
    action = page.locator("details.action", has=page.locator(".action-label", has_text=label))
    await action.locator("summary").click()
    if reason:
        await action.locator("textarea[name=reason]").fill(reason)
    await action.locator("button[type=submit]").click()
    await page.wait_for_load_state()


async def test_provider_applies_and_downloads_a_certificate_that_verifies(
    browser_page: Any, db: object
) -> None:
    page = browser_page
    await _log_in(page, "provider")
    await page.goto("/provider")
    await page.select_option("select[name=district]", "120101")
    await page.click("button:has-text('新建申请')")
    await page.wait_for_url("**/provider/applications/*")
    listing_id = int(page.url.split("/")[-1].split("?")[0])

    # The form's content arrives through the provider API (the page's own fields are tested
    # elsewhere); then the provider checks and submits it on the page.
    row = await listing_row(listing_id)
    token = next(c["value"] for c in await page.context.cookies() if c["name"] == "registry_csrf")
    saved = await page.request.put(
        f"/api/v1/listings/{listing_id}/form",
        data=json.dumps({"form": valid_application(), "version": row["version"]}),
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    assert saved.ok, await saved.text()
    await page.goto(f"/provider/applications/{listing_id}")
    await page.click("button:has-text('提交申请')")
    await page.wait_for_load_state()
    assert "已提交" in await page.inner_text(".page-head")
    await _log_out(page)

    await _log_in(page, "reviewer")
    await _bureau_action(page, listing_id, "形式审查通过")
    await _bureau_action(page, listing_id, "推荐入库", reason="资质齐全，课程符合非学科类要求")
    await _log_out(page)
    await _log_in(page, "approver")
    await _bureau_action(page, listing_id, "审批同意（进入公示）")
    await _log_out(page)
    row = await listing_row(listing_id)
    assert row["state"] == "in_public_notice"

    # The notice runs its working days; the clock lists the provider the day after.
    day_after = datetime.combine(
        row["notice_end"] + timedelta(days=1), time(8), ZoneInfo("Asia/Shanghai")
    )
    assert await tick(day_after) == {"end_notice": 1}

    await _log_in(page, "provider")
    await page.goto(f"/provider/applications/{listing_id}")
    assert "已入库" in await page.inner_text(".page-head")
    async with page.expect_download() as download_info:
        await page.click("text=下载入库证书")
    download = await download_info.value
    pdf = await download.path()
    with open(pdf, "rb") as handle:
        assert handle.read(5) == b"%PDF-"

    await page.goto(f"/verify/{verify_code(listing_id)}")
    text = await page.inner_text("main")
    assert "已入库" in text and "天津市和平区飞跃青少年篮球俱乐部有限公司" in text
