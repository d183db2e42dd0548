"""The application page in Chromium: nothing typed is lost, supplements answered item by item."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.browser.test_journey import _log_in
from tests.cast import CAST, HEPING, actor, listing_in, listing_row
from tests.factories import new_listing, state_of, valid_application
from workflows import engine
from workflows.states import State

PDF = {"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}


async def test_an_edit_survives_an_upload_and_staff_are_named_as_typed(
    browser_page: Any, db: object
) -> None:
    page = browser_page
    organisation, district = CAST.organisations["feiyue"], CAST.districts[HEPING]
    listing_id = await new_listing(organisation, district, valid_application())
    await _log_in(page, "provider")
    await page.goto(f"/provider/applications/{listing_id}")

    # Renaming a staff member renames the choice in the course's staff select at once.
    await page.fill('input[name="staff[1].name"]', "赵明")
    teacher = page.locator('select[name="courses[0].staff[0]"] option[value="1"]')
    assert await teacher.text_content() == "赵明"

    # An edit, then an upload: the page reloads, and the edit is still there (saved first).
    description = page.locator('textarea[name="organisation.description"]')
    await description.fill("专注少儿篮球，新增周末体能课。")
    upload = page.locator("form.upload-form").last
    await upload.locator("select[name=kind]").select_option("licence")
    await upload.locator("input[type=file]").set_input_files(PDF)
    await upload.locator("button[type=submit]").click()
    await page.wait_for_url("**done=uploaded**")
    assert await description.input_value() == "专注少儿篮球，新增周末体能课。"
    assert await page.locator('input[name="staff[1].name"]').input_value() == "赵明"
    assert await page.locator("#documents").get_by_text("营业执照.pdf").count() == 1

    # Saved: leaving asks nothing. Typed again: leaving asks first.
    dialogs: list[str] = []

    async def answer(dialog: Any) -> None:
        dialogs.append(dialog.type)
        await dialog.accept()

    page.on("dialog", answer)
    await page.goto(f"/provider/applications/{listing_id}")
    assert dialogs == []
    await description.fill("未保存的修改")
    await page.close(run_before_unload=True)
    for _ in range(50):
        if dialogs:
            break
        await asyncio.sleep(0.05)
    assert dialogs == ["beforeunload"]


async def test_a_supplement_answered_item_by_item(browser_page: Any, db: object) -> None:
    page = browser_page
    listing_id = await listing_in(State.in_review)
    _, version = await state_of(listing_id)
    await engine.fire(
        listing_id,
        "request_supplement",
        await actor("reviewer"),
        version=version,
        reason="缺材料",
        message="场地安全检查报告\n教练健康证明续期说明",
        params={"items": ["场地安全检查报告", "教练健康证明续期说明"]},
    )
    await _log_in(page, "provider")
    await page.goto(f"/provider/applications/{listing_id}")

    # Item 2 answered in words; item 1 by a file uploaded under it (which keeps item 2's words).
    await page.fill('textarea[name="supplement_answer_2"]', "健康证明已续期至2030年。")
    item_1 = page.locator("#supplement-item-1")
    await item_1.locator("input[type=file]").set_input_files(
        {**PDF, "name": "场地安全检查报告.pdf"}
    )
    await item_1.locator("button[type=submit]").click()
    await page.wait_for_url("**done=uploaded**")
    assert await page.locator("#supplement-item-1").get_by_text("场地安全检查报告.pdf").count() == 1
    answer_2 = page.locator('textarea[name="supplement_answer_2"]')
    assert await answer_2.input_value() == "健康证明已续期至2030年。"

    await page.click("button:has-text('提交补正材料')")
    await page.wait_for_url("**done=resubmitted**")
    row = await listing_row(listing_id)
    assert row["state"] == State.in_review
