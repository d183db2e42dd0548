"""The district staff's evaluation pages, driven like a browser: cycles, results, the rubric."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from registry.tables import AuditEvent, EvaluationResult, Inspection, Listing, Rubric
from schemas import city_default_rubric
from tests.api.conftest import Client, Login, login  # noqa: F401  (the fixture)
from tests.cast import BINHAI, HEPING, listing_row
from tests.evaluation.helpers import CYCLE, engagement, feedback, listed_provider, today_iso
from workflows.states import State

GOOD = "天津市和平区启航体育培训中心"
WEAK = "天津市和平区小星星美术培训中心"


def same(value: int) -> dict[str, int]:
    keys = ("teaching_quality", "punctuality", "safety_management", "communication")
    return dict.fromkeys(keys, value)


def row_of(page: str, row_id: str) -> str:
    """The table row with the given id attribute."""
    start = page.index(f'id="{row_id}"')
    return page[start : page.index("</tr>", start)]


async def open_cycle(reviewer: Client) -> int:
    response = await reviewer.post("/bureau/evaluation", data={**CYCLE, "district": HEPING})
    assert response.status_code == 303, response.text
    found = re.fullmatch(r"/bureau/evaluation/(\d+)\?done=opened", response.headers["location"])
    assert found
    return int(found.group(1))


async def give(school: Client, cycle: int, listing_id: int, score: int, tallies: Any) -> None:
    response = await school.put(
        f"/api/v1/cycles/{cycle}/feedback/{await engagement(listing_id)}",
        json=feedback(same(score), tallies),
    )
    assert response.status_code == 200, response.text


async def inspect(reviewer: Client, cycle: int, listing_id: int, score: int) -> Any:
    return await reviewer.post(
        f"/bureau/evaluation/{cycle}/inspections/{listing_id}",
        data={"score": str(score), "inspected_on": today_iso(), "note": "场地整洁"},
    )


async def test_a_cycle_is_opened_through_the_form(login: Login) -> None:  # noqa: F811
    reviewer = await login("reviewer")
    page = await reviewer.get("/bureau")
    assert '<a href="/bureau/evaluation">评估</a>' in page.text
    empty = await reviewer.get("/bureau/evaluation")
    assert empty.status_code == 200 and "本区还没有评估周期" in empty.text
    assert 'action="/bureau/evaluation"' in empty.text and 'href="/bureau/rubric"' in empty.text
    refused = await reviewer.post(
        "/bureau/evaluation",
        data={**CYCLE, "district": HEPING, "name": "", "ends_on": "2026-08-01"},
    )
    assert refused.status_code == 422
    assert "请填写评估周期名称" in refused.text
    assert "结束日期不能早于开始日期" in refused.text
    # What was typed stays in the form.
    assert f'value="{CYCLE["term"]}"' in refused.text and 'value="2026-08-01"' in refused.text
    cycle = await open_cycle(reviewer)
    listing = (await reviewer.get("/bureau/evaluation")).text
    assert f'href="/bureau/evaluation/{cycle}"' in listing and "进行中" in listing
    assert CYCLE["name"] in listing and CYCLE["term"] in listing
    again = await reviewer.post("/bureau/evaluation", data={**CYCLE, "district": HEPING})
    assert again.status_code == 422 and "已有进行中的评估周期" in again.text


async def test_inspect_close_confirm_and_adjust_through_the_pages(login: Login) -> None:  # noqa: F811
    good, weak = await listed_provider(GOOD), await listed_provider(WEAK)
    reviewer, school = await login("reviewer"), await login("school")
    cycle = await open_cycle(reviewer)
    await give(school, cycle, good, 95, (10, 0, 0, 0))
    await give(school, cycle, weak, 65, (5, 5, 0, 0))

    wrong = await reviewer.post(
        f"/bureau/evaluation/{cycle}/inspections/{good}",
        data={"score": "150", "inspected_on": today_iso(), "note": "复查"},
    )
    assert wrong.status_code == 422 and "检查得分应为0到100之间的整数" in wrong.text
    assert 'value="150"' in row_of(wrong.text, f"listing-{good}")
    saved = await inspect(reviewer, cycle, good, 95)
    assert saved.status_code == 303
    assert saved.headers["location"].startswith(f"/bureau/evaluation/{cycle}?done=inspection")
    assert (await inspect(reviewer, cycle, weak, 60)).status_code == 303
    rows = {r["listing"]: r for r in await Inspection.select()}
    assert rows[good]["score"] == 95 and rows[weak]["score"] == 60

    page = (await reviewer.get(f"/bureau/evaluation/{cycle}")).text
    progress = row_of(page, f"listing-{good}")
    assert GOOD in progress and "1 所" in progress and "10 份" in progress
    assert "95 分" in progress and "未提交" in progress
    assert "结束评估并计算得分" in page and "锁定" in page

    unticked = await reviewer.post(f"/bureau/evaluation/{cycle}/close", data={})
    assert unticked.status_code == 422 and "请勾选确认" in unticked.text
    closed = await reviewer.post(f"/bureau/evaluation/{cycle}/close", data={"confirm": "1"})
    assert closed.status_code == 303
    assert await EvaluationResult.count() == 2

    results = (await reviewer.get(f"/bureau/evaluation/{cycle}")).text
    # good: 95×0.4 + 100×0.3 + 95×0.2 + no self-report 0 = 87; weak: 26 + 27 + 12 = 65.
    first = row_of(results, f"result-{good}")
    assert "87.00" in first and "良好" in first and "合格续期" in first and "待确认" in first
    second = row_of(results, f"result-{weak}")
    assert "65.00" in second and "合格" in second and "责令整改" in second
    assert f"/api/v1/cycles/{cycle}/summary.xlsx" in results
    assert f"/api/v1/cycles/{cycle}/results/{good}/report.pdf" in results
    only = (await reviewer.get(f"/bureau/evaluation/{cycle}?consequence=rectification")).text
    assert WEAK in only and GOOD not in only.split('id="results"')[1]
    # The inputs are locked now.
    late = await inspect(reviewer, cycle, good, 70)
    assert late.status_code == 422 and "已结束" in late.text

    confirmed = await reviewer.post(f"/bureau/evaluation/{cycle}/results/{weak}/confirm")
    assert confirmed.status_code == 303
    assert (await listing_row(weak))["state"] == State.under_rectification
    results = (await reviewer.get(f"/bureau/evaluation/{cycle}")).text
    assert "已确认" in row_of(results, f"result-{weak}")

    unreasoned = await reviewer.post(
        f"/bureau/evaluation/{cycle}/results/{good}/confirm",
        data={"adjust": "1", "score": "91.5", "reason": ""},
    )
    assert unreasoned.status_code == 422
    row = row_of(unreasoned.text, f"result-{good}")
    assert "调整得分时请填写调整理由" in row and 'value="91.5"' in row
    assert (await EvaluationResult.select().where(EvaluationResult.listing == good))[0][
        "status"
    ] == "computed"
    adjusted = await reviewer.post(
        f"/bureau/evaluation/{cycle}/results/{good}/confirm",
        data={"adjust": "1", "score": "91.5", "reason": "现场复核后加分", "back": "result"},
    )
    assert adjusted.status_code == 303
    assert adjusted.headers["location"] == (
        f"/bureau/evaluation/{cycle}/results/{good}?done=adjusted"
    )
    detail = (await reviewer.get(adjusted.headers["location"])).text
    assert "91.50" in detail and "优秀" in detail and "现场复核后加分" in detail


async def test_the_breakdown_page_can_be_checked_by_hand(login: Login) -> None:  # noqa: F811
    good = await listed_provider(GOOD)
    reviewer, school = await login("reviewer"), await login("school")
    cycle = await open_cycle(reviewer)
    await give(school, cycle, good, 95, (10, 0, 0, 0))
    await inspect(reviewer, cycle, good, 95)
    await reviewer.post(f"/bureau/evaluation/{cycle}/close", data={"confirm": "1"})
    page = await reviewer.get(f"/bureau/evaluation/{cycle}/results/{good}")
    assert page.status_code == 200
    text = page.text
    for label in ("学校评价", "家长满意度", "现场检查", "自查报告", "投诉查实", "安全事故"):
        assert label in text
    assert "1所学校评价，各校平均分：95.00" in text and "家长问卷10份" in text
    # Item points: 95×40% = 38, 100×30% = 30, 95×20% = 19, self-report 0.
    for points in ("38.00", "30.00", "19.00"):
        assert f'<td class="points">{points}</td>' in text
    assert "未提交自查报告，按0分计" in text and "87.00" in text
    assert "合格续期" in text and 'action="/bureau/evaluation/' in text
    # Unreasoned adjustment from this page comes back here with the message by the field.
    refused = await reviewer.post(
        f"/bureau/evaluation/{cycle}/results/{good}/confirm",
        data={"adjust": "1", "score": "80", "reason": "", "back": "result"},
    )
    assert refused.status_code == 422 and "调整得分时请填写调整理由" in refused.text
    assert "38.00" in refused.text
    done = await reviewer.post(
        f"/bureau/evaluation/{cycle}/results/{good}/confirm", data={"back": "result"}
    )
    assert done.status_code == 303
    assert (await listing_row(good))["state"] == State.listed
    after = (await reviewer.get(done.headers["location"])).text
    assert "评估结果已确认" in after and "按计算结果确认" not in after


async def test_confirm_all_through_the_page(login: Login) -> None:  # noqa: F811
    good, weak = await listed_provider(GOOD), await listed_provider(WEAK)
    reviewer, school = await login("reviewer"), await login("school")
    cycle = await open_cycle(reviewer)
    await give(school, cycle, good, 95, (10, 0, 0, 0))
    await give(school, cycle, weak, 65, (5, 5, 0, 0))
    await reviewer.post(f"/bureau/evaluation/{cycle}/close", data={"confirm": "1"})
    assert "全部确认（2 家）" in (await reviewer.get(f"/bureau/evaluation/{cycle}")).text
    response = await reviewer.post(f"/bureau/evaluation/{cycle}/confirm")
    assert response.status_code == 303
    statuses = {r["status"] for r in await EvaluationResult.select(EvaluationResult.status)}
    assert statuses == {"confirmed"}


async def test_the_rubric_page_shows_and_edits_the_rubric(login: Login) -> None:  # noqa: F811
    reviewer, approver = await login("reviewer"), await login("approver")
    shown = await reviewer.get("/bureau/rubric")
    assert shown.status_code == 200
    text = shown.text
    assert city_default_rubric()["name"] in text and "默认" in text
    for label in ("学校评价", "家长满意度", "教学质量", "准时到岗", "得分 ≥ 90", "整改线"):
        assert label in text
    assert "<textarea" not in text and "恢复市级细则" not in text

    page = (await approver.get("/bureau/rubric")).text
    assert '<textarea name="body"' in page and "预览" in page
    edited = city_default_rubric()
    edited["name"] = "和平区评估细则"
    saved = await approver.post(
        "/bureau/rubric",
        data={"district": HEPING, "action": "save", "body": json.dumps(edited)},
    )
    assert saved.status_code == 303
    after = (await approver.get(saved.headers["location"])).text
    assert "和平区评估细则" in after and "本区细则" in after and "恢复市级细则" in after

    broken = city_default_rubric()
    broken["name"] = "有误的细则"
    broken["items"][0]["weight"] = 50
    refused = await approver.post(
        "/bureau/rubric",
        data={"district": HEPING, "action": "save", "body": json.dumps(broken, ensure_ascii=False)},
    )
    assert refused.status_code == 422
    assert "各评分项权重之和应为100" in refused.text and "<code>items</code>" in refused.text
    assert "有误的细则" in refused.text.split('<textarea name="body"')[1]
    not_json = await approver.post(
        "/bureau/rubric", data={"district": HEPING, "action": "save", "body": "{name: 1"}
    )
    assert not_json.status_code == 422 and "JSON 格式有误" in not_json.text
    assert (await Rubric.select(Rubric.body).output(load_json=True))[0]["body"]["name"] == (
        "和平区评估细则"
    )

    reset = await approver.post("/bureau/rubric", data={"district": HEPING, "action": "reset"})
    assert reset.status_code == 303 and await Rubric.count() == 0
    # A reviewer may not save even by posting the form by hand.
    forbidden = await reviewer.post(
        "/bureau/rubric",
        data={"district": HEPING, "action": "save", "body": json.dumps(edited)},
    )
    assert forbidden.status_code == 403 and await Rubric.count() == 0


async def test_preview_lists_who_would_change_and_writes_nothing(login: Login) -> None:  # noqa: F811
    strong, middling = await listed_provider(GOOD), await listed_provider(WEAK)
    reviewer, school, approver = (
        await login("reviewer"),
        await login("school"),
        await login("approver"),
    )
    cycle = await open_cycle(reviewer)
    await give(school, cycle, strong, 95, (9, 1, 0, 0))
    await give(school, cycle, middling, 75, (5, 5, 0, 0))
    candidate = city_default_rubric()
    candidate["grades"] = {"excellent": 95, "good": 85, "pass": 78}
    candidate["rectification_below"] = 80
    before = (
        await EvaluationResult.count(),
        await AuditEvent.count(),
        await Rubric.count(),
        [r["version"] for r in await Listing.select(Listing.version).order_by(Listing.id)],
    )
    text = json.dumps(candidate, ensure_ascii=False, indent=2)
    response = await approver.post(
        "/bureau/rubric", data={"district": HEPING, "action": "preview", "body": text}
    )
    assert response.status_code == 200, response.text
    page = response.text
    assert '<strong class="evaluated">2</strong>' in page
    assert '<strong class="changed">2</strong>' in page
    table = page.split('class="preview-changes"')[1].split("</table>")[0]
    assert GOOD in table and WEAK in table and "84.25" in table
    exiting = next(r for r in table.split("<tr") if WEAK in r)
    assert "would-exit" in exiting and "将退出" in exiting and "退出白名单" in exiting
    # The candidate stays in the textarea to be saved or changed.
    typed = page.split('<textarea name="body"')[1].split(">", 1)[1].split("</textarea>")[0]
    assert json.loads(html.unescape(typed)) == candidate
    assert before == (
        await EvaluationResult.count(),
        await AuditEvent.count(),
        await Rubric.count(),
        [r["version"] for r in await Listing.select(Listing.version).order_by(Listing.id)],
    )


async def test_another_districts_staff_get_404(login: Login) -> None:  # noqa: F811
    good = await listed_provider(GOOD)
    reviewer = await login("reviewer")
    cycle = await open_cycle(reviewer)
    binhai = await login("reviewer_binhai")
    response = await binhai.get(f"/bureau/evaluation/{cycle}")
    assert response.status_code == 404 and "页面不存在" in response.text
    assert (
        await binhai.post(f"/bureau/evaluation/{cycle}/close", data={"confirm": "1"})
    ).status_code == 404
    assert (await inspect(binhai, cycle, good, 90)).status_code == 404
    assert (await binhai.get(f"/bureau/evaluation?district={HEPING}")).status_code == 404
    assert (await binhai.get(f"/bureau/rubric?district={HEPING}")).status_code == 404
    assert (await (await login("provider")).get("/bureau/evaluation")).status_code == 404
    city = await login("city")
    assert (await city.get(f"/bureau/evaluation?district={HEPING}")).status_code == 200
    assert (await city.get(f"/bureau/evaluation/{cycle}")).status_code == 200
    binhai_rubric = (await city.get(f"/bureau/rubric?district={BINHAI}")).text
    assert "滨海新区" in binhai_rubric and '<textarea name="body"' in binhai_rubric
    assert f'<option value="{BINHAI}" selected>' in binhai_rubric
