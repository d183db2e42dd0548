"""The evaluation procedure clicked through in Chromium: a bureau closes a cycle, the adverse
result goes to the provider as provisional, the provider answers with an attachment, the
reviewer decides with a reason that answers it, the exit fires and the school is told."""

from __future__ import annotations

from typing import Any

from registry.evaluation import cycles, inputs
from tests.browser.test_journey import _log_in, _log_out
from tests.cast import HEPING, actor, listing_in, listing_row
from tests.evaluation.helpers import TERM, engagement, feedback
from tests.factories import at
from workflows import timesource
from workflows.states import State

# The cycle ran before the suite's NOW (2026-11-16): its deadlines have passed, so the
# bureau closes it normally on the server, which runs at NOW.
EARLIER = at("2026-11-02T10:00:00")
POOR = dict.fromkeys(("teaching_quality", "punctuality", "safety_management", "communication"), 30)
ANSWER = "检查当日主教练因病请假，由助教代课；已补充两名持证教练，附新的排课表。"
DECISION = "机构所述代课情况属实，但学校评价和家长问卷均反映教学质量长期不达标，维持退出决定。"


async def _cycle_with_poor_results() -> tuple[int, int]:
    listing_id = await listing_in(State.listed)
    engaged = await engagement(listing_id)
    with timesource.frozen(EARLIER):
        reviewer = await actor("reviewer")
        cycle = await cycles.open_cycle(
            reviewer,
            HEPING,
            cycles.CycleIn(
                "2026年秋季学期期中评估",
                TERM,
                timesource.local_today().replace(month=9, day=1),
                timesource.local_today().replace(month=11, day=10),
                timesource.local_today().replace(month=11, day=6),
            ),
        )
        await inputs.give_feedback(
            await actor("school"), cycle["id"], engaged, feedback(POOR, (0, 1, 2, 7))
        )
        await inputs.record_inspection(
            reviewer,
            cycle["id"],
            listing_id,
            {"score": 40, "inspected_on": "2026-11-02", "note": "教练未持证上岗"},
        )
    return int(cycle["id"]), listing_id


async def test_close_hear_decide_exit_and_tell_the_schools(browser_page: Any, db: object) -> None:
    page = browser_page
    cycle_id, listing_id = await _cycle_with_poor_results()

    await _log_in(page, "reviewer")
    await page.goto(f"/bureau/evaluation/{cycle_id}")
    await page.click("text=核对尚缺的数据并结束评估")
    await page.wait_for_url(f"**/bureau/evaluation/{cycle_id}/close")
    assert "所有输入截止日期均已届满" in await page.inner_text("main")
    assert "自查报告" in await page.inner_text("#missing")
    await page.check("#close input[name=confirm]")
    await page.click("#close button[type=submit]")
    await page.wait_for_url(f"**/bureau/evaluation/{cycle_id}?done=closed")
    row = await page.inner_text(f"#result-{listing_id}")
    assert "待陈述申辩" in row and "退出白名单" in row
    assert (await listing_row(listing_id))["state"] == State.listed  # nothing fired yet
    await _log_out(page)

    await _log_in(page, "provider")
    await page.goto("/provider")
    assert "评估拟定结果告知" in await page.inner_text("#inbox")
    await page.click("#inbox >> text=和平区")
    await page.wait_for_url("**/provider/hearings")
    await page.click("text=查看并陈述申辩")
    await page.wait_for_url("**/provider/hearings/*")
    main = await page.inner_text("main")
    assert "拟处理结果" in main and "退出白名单" in main and "陈述申辩期限" in main
    await page.set_input_files(
        "#answer input[name=file]",
        {"name": "排课表.pdf", "mimeType": "application/pdf", "buffer": PDF},
    )
    await page.click("#answer button:has-text('上传')")
    await page.wait_for_url("**?done=uploaded#answer")
    assert "排课表.pdf" in await page.inner_text("#answer")
    await page.fill("#answer-text", ANSWER)
    await page.click("text=提交陈述、申辩意见")
    await page.wait_for_url("**?done=answered")
    assert ANSWER in await page.inner_text("#answered")
    await _log_out(page)

    await _log_in(page, "reviewer")
    await page.goto(f"/bureau/evaluation/{cycle_id}/results/{listing_id}")
    hearing = await page.inner_text("#hearing")
    assert ANSWER in hearing and "排课表.pdf" in hearing
    await page.click("text=作出复核决定")  # without a reason: refused, nothing fires
    assert "请填写复核决定理由" in await page.inner_text("#decide")
    assert (await listing_row(listing_id))["state"] == State.listed
    await page.fill("#decision-reason", DECISION)
    await page.click("text=作出复核决定")
    await page.wait_for_url("**?done=confirmed")
    assert "已确认" in await page.inner_text("dd.status")
    assert (await listing_row(listing_id))["state"] == State.exited
    await _log_out(page)

    await _log_in(page, "provider")
    await page.goto("/provider")
    inbox = await page.inner_text("#inbox")
    assert "退出白名单" in inbox and DECISION in inbox and "行政复议" in inbox
    await _log_out(page)

    await _log_in(page, "school")
    await page.goto("/school")
    assert "退出白名单" in await page.inner_text("#notices")


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
