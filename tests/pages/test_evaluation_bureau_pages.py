"""The district staff's evaluation pages, driven like a browser: cycles, results, the rubric."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from registry.tables import AuditEvent, EvaluationResult, Inspection, Listing, Rubric
from schemas import city_default_rubric
from tests.api.conftest import Client, Login, login  # noqa: F401  (the fixture)
from tests.cast import BINHAI, HEPING, listing_in, listing_row
from tests.evaluation.helpers import (
    CYCLE,
    EARLY,
    after_deadlines,
    engagement,
    feedback,
    listed_provider,
    rated_by_more_schools,
    self_report_on_time,
    today_iso,
)
from workflows.states import State

GOOD = "天津市和平区启航体育培训中心"
WEAK = "天津市和平区小星星美术培训中心"
THIN = "天津市和平区新苗科技培训中心"
ANSWER = "检查当日主教练因病请假，由助教代课；已补充两名持证教练，附整改记录。"
DECISION = "机构补充了持证教练，但家长问卷反映的问题仍需整改，维持责令整改。"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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


async def test_closing_before_the_deadlines_needs_a_reason(login: Login) -> None:  # noqa: F811
    good, weak = await listed_provider(GOOD), await listed_provider(WEAK)
    reviewer, school = await login("reviewer"), await login("school")
    cycle = await open_cycle(reviewer)
    await give(school, cycle, good, 95, (10, 0, 0, 0))

    wrong = await reviewer.post(
        f"/bureau/evaluation/{cycle}/inspections/{good}",
        data={"score": "150", "inspected_on": today_iso(), "note": "复查"},
    )
    assert wrong.status_code == 422 and "检查得分应为0到100之间的整数" in wrong.text
    assert 'value="150"' in row_of(wrong.text, f"listing-{good}")
    saved = await inspect(reviewer, cycle, good, 95)
    assert saved.status_code == 303
    assert saved.headers["location"].startswith(f"/bureau/evaluation/{cycle}?done=inspection")
    assert (await Inspection.select())[0]["score"] == 95

    page = (await reviewer.get(f"/bureau/evaluation/{cycle}")).text
    progress = row_of(page, f"listing-{good}")
    assert GOOD in progress and "1 所" in progress and "10 份" in progress
    assert "95 分" in progress and "未提交" in progress
    assert "输入截止日期未到" in page and "机构自查报告截止2026年11月20日" in page
    assert f'href="/bureau/evaluation/{cycle}/close"' in page

    close = (await reviewer.get(f"/bureau/evaluation/{cycle}/close")).text
    assert "截止日期未到，现在结束属于提前结束" in close
    assert "尚缺数据的机构（2 / 2 家）" in close
    assert "自查报告（截止2026年11月20日）" in row_of(close, f"missing-{good}")
    assert "学校评价、家长问卷、现场检查" in row_of(close, f"missing-{weak}")
    assert 'name="early_reason"' in close

    unticked = await reviewer.post(f"/bureau/evaluation/{cycle}/close", data={})
    assert unticked.status_code == 422 and "请勾选确认" in unticked.text
    unreasoned = await reviewer.post(f"/bureau/evaluation/{cycle}/close", data={"confirm": "1"})
    assert unreasoned.status_code == 422
    assert "输入截止日期未到，不能结束评估周期" in unreasoned.text
    assert await EvaluationResult.count() == 0
    early = await reviewer.post(f"/bureau/evaluation/{cycle}/close", data={"confirm": "1", **EARLY})
    assert early.status_code == 303
    assert early.headers["location"] == f"/bureau/evaluation/{cycle}?done=closed_early"
    closed = (await reviewer.get(early.headers["location"])).text
    assert "提前结束" in closed and EARLY["early_reason"] in closed
    event = await AuditEvent.select().where(AuditEvent.action == "cycle.closed_early").first()
    assert event["reason"] == EARLY["early_reason"]
    # The inputs are locked now.
    late = await inspect(reviewer, cycle, good, 70)
    assert late.status_code == 422 and "已结束" in late.text


async def _closed_with_one_of_each(login: Login) -> tuple[Client, int, dict[str, int]]:  # noqa: F811
    """A cycle closed after its deadlines: one result to confirm, one provisional (the cast
    provider's, to be heard), one that needs manual grading."""
    good, thin = await listed_provider(GOOD), await listed_provider(THIN)
    weak = await listing_in(State.listed)
    reviewer, school = await login("reviewer"), await login("school")
    cycle = await open_cycle(reviewer)
    await give(school, cycle, good, 95, (10, 0, 0, 0))
    await rated_by_more_schools(cycle, good, 2, same(95), (10, 0, 0, 0))
    await self_report_on_time(cycle, good)
    await give(school, cycle, weak, 65, (5, 5, 0, 0))
    for listing_id, score in ((good, 95), (weak, 60)):
        assert (await inspect(reviewer, cycle, listing_id, score)).status_code == 303
    with after_deadlines():
        reviewer = await login("reviewer")
        page = (await reviewer.get(f"/bureau/evaluation/{cycle}/close")).text
        assert "所有输入截止日期均已届满" in page and 'name="early_reason"' not in page
        closed = await reviewer.post(f"/bureau/evaluation/{cycle}/close", data={"confirm": "1"})
        assert closed.status_code == 303
        assert closed.headers["location"] == f"/bureau/evaluation/{cycle}?done=closed"
    return reviewer, cycle, {"good": good, "weak": weak, "thin": thin}


async def test_results_wait_for_grading_and_hearing_before_they_are_confirmed(
    login: Login,  # noqa: F811
) -> None:
    reviewer, cycle, ids = await _closed_with_one_of_each(login)
    good, weak, thin = ids["good"], ids["weak"], ids["thin"]
    with after_deadlines():
        reviewer = await login("reviewer")
        results = (await reviewer.get(f"/bureau/evaluation/{cycle}")).text
        first = row_of(results, f"result-{good}")
        assert "优秀" in first and "合格续期" in first and "待确认" in first
        second = row_of(results, f"result-{weak}")
        assert "责令整改" in second and "待陈述申辩" in second
        third = row_of(results, f"result-{thin}")
        assert "未评定" in third and "需人工评定" in third
        assert "批量确认（1 家）" in results
        only = (await reviewer.get(f"/bureau/evaluation/{cycle}?status=manual")).text
        assert THIN in only.split('id="results"')[1] and GOOD not in only.split('id="results"')[1]

        # Deciding a provisional result inside its answer window is refused.
        early = await reviewer.post(
            f"/bureau/evaluation/{cycle}/results/{weak}/confirm",
            data={"decide": "1", "reason": "维持", "back": "result"},
        )
        assert early.status_code == 422 and "陈述、申辩期限至2026年12月8日" in early.text
        detail = (await reviewer.get(f"/bureau/evaluation/{cycle}/results/{weak}")).text
        assert "待机构陈述申辩（截止2026年12月8日）" in detail and 'id="decide"' not in detail

        # Manual grading: a reason is required, then the result can be confirmed.
        page = (await reviewer.get(f"/bureau/evaluation/{cycle}/results/{thin}")).text
        assert "证据不足" in page or "没有可评分的数据" in page
        assert ">None<" not in page  # an unscored item shows a dash, not Python's None
        assert f'action="/bureau/evaluation/{cycle}/results/{thin}/grade"' in page
        refused = await reviewer.post(
            f"/bureau/evaluation/{cycle}/results/{thin}/confirm", data={"back": "result"}
        )
        assert refused.status_code == 422 and "请先人工评定等级" in refused.text
        unreasoned = await reviewer.post(
            f"/bureau/evaluation/{cycle}/results/{thin}/grade", data={"grade": "pass"}
        )
        assert unreasoned.status_code == 422 and "请填写人工评定的理由和依据" in unreasoned.text
        assert '<option value="pass" selected>' in unreasoned.text
        graded = await reviewer.post(
            f"/bureau/evaluation/{cycle}/results/{thin}/grade",
            data={"grade": "pass", "reason": "本学期新入库，结合日常巡查记录评定为合格"},
        )
        assert graded.status_code == 303 and graded.headers["location"].endswith("?done=graded")
        page = (await reviewer.get(graded.headers["location"])).text
        assert "人工评定已保存" in page and "结合日常巡查记录评定为合格" in page
        assert "按计算结果确认" in page

        # An adjustment needs its reason; the typed score stays.
        unreasoned = await reviewer.post(
            f"/bureau/evaluation/{cycle}/results/{good}/confirm",
            data={"adjust": "1", "score": "91.5", "reason": ""},
        )
        assert unreasoned.status_code == 422
        row = row_of(unreasoned.text, f"result-{good}")
        assert "调整得分时请填写调整理由" in row and 'value="91.5"' in row
        confirmed = await reviewer.post(f"/bureau/evaluation/{cycle}/results/{good}/confirm")
        assert confirmed.status_code == 303
        assert (await listing_row(good))["state"] == State.listed
        assert "已确认" in row_of(
            (await reviewer.get(f"/bureau/evaluation/{cycle}")).text, f"result-{good}"
        )


async def test_the_provider_answers_and_the_reviewer_decides_with_a_reason(
    login: Login,  # noqa: F811
) -> None:
    reviewer, cycle, ids = await _closed_with_one_of_each(login)
    weak = ids["weak"]
    with after_deadlines():
        provider = await login("provider")
        dashboard = (await provider.get("/provider")).text
        assert "评估拟定结果告知：请在期限内陈述、申辩" in dashboard
        assert "陈述申辩期限至2026年12月8日" in dashboard
        listing = (await provider.get("/provider/hearings")).text
        hearing_id = int(re.search(r'href="/provider/hearings/(\d+)"', listing).group(1))
        url = f"/provider/hearings/{hearing_id}"
        page = (await provider.get(url)).text
        assert "责令整改" in page and "2026年12月8日" in page and "学校评价" in page
        blank = await provider.post(f"{url}/answer", data={"answer": "  "})
        assert blank.status_code == 422 and "请填写陈述、申辩的意见" in blank.text
        uploaded = await provider.post(
            f"{url}/documents", files={"file": ("整改记录.pdf", PDF, "application/pdf")}
        )
        assert uploaded.status_code == 303
        page = (await provider.get(url)).text
        document_id = int(re.search(r'name="documents" value="(\d+)"', page).group(1))
        answered = await provider.post(
            f"{url}/answer", data={"answer": ANSWER, "documents": str(document_id)}
        )
        assert answered.status_code == 303
        again = await provider.post(f"{url}/answer", data={"answer": "补充意见"})
        assert again.status_code == 422 and "已提交过陈述、申辩意见" in again.text

        reviewer = await login("reviewer")
        detail = (await reviewer.get(f"/bureau/evaluation/{cycle}/results/{weak}")).text
        assert ANSWER in detail and "整改记录.pdf" in detail
        assert f'href="/api/v1/documents/{document_id}"' in detail
        assert (await reviewer.get(f"/api/v1/documents/{document_id}")).content == PDF
        assert "机构已陈述申辩，待复核决定" in detail and 'id="decide"' in detail
        unreasoned = await reviewer.post(
            f"/bureau/evaluation/{cycle}/results/{weak}/confirm",
            data={"decide": "1", "reason": "", "back": "result"},
        )
        assert unreasoned.status_code == 422 and "请填写复核决定理由" in unreasoned.text
        assert (await listing_row(weak))["state"] == State.listed
        decided = await reviewer.post(
            f"/bureau/evaluation/{cycle}/results/{weak}/confirm",
            data={"decide": "1", "reason": DECISION, "back": "result"},
        )
        assert decided.status_code == 303
        assert (await listing_row(weak))["state"] == State.under_rectification
        page = (await provider.get(url)).text
        assert "复核决定" in page and DECISION in page


async def test_confirm_all_shows_what_will_happen_first(login: Login) -> None:  # noqa: F811
    reviewer, cycle, ids = await _closed_with_one_of_each(login)
    with after_deadlines():
        reviewer = await login("reviewer")
        plan = await reviewer.get(f"/bureau/evaluation/{cycle}/confirm")
        assert plan.status_code == 200
        text = plan.text
        assert 'id="batch-count">1<' in text and "合格续期" in text
        assert "需人工评定（证据不足或没有可评分的数据）：1 家" in text
        assert "陈述申辩期内、尚待机构答复：1 家" in text
        assert "等级分布" in text
        fingerprint = re.search(r'name="plan" value="([0-9a-f]+)"', text).group(1)
        unticked = await reviewer.post(
            f"/bureau/evaluation/{cycle}/confirm", data={"plan": fingerprint}
        )
        assert unticked.status_code == 422 and "请勾选确认" in unticked.text
        stale = await reviewer.post(
            f"/bureau/evaluation/{cycle}/confirm", data={"plan": "0" * 64, "confirm": "1"}
        )
        assert stale.status_code == 422 and "确认清单已变化" in stale.text
        confirmed = EvaluationResult.status == "confirmed"
        assert await EvaluationResult.count().where(confirmed) == 0
        done = await reviewer.post(
            f"/bureau/evaluation/{cycle}/confirm", data={"plan": fingerprint, "confirm": "1"}
        )
        assert done.status_code == 303
        statuses = {
            r["listing"]: r["status"]
            for r in await EvaluationResult.select(
                EvaluationResult.listing, EvaluationResult.status
            )
        }
        assert statuses == {
            ids["good"]: "confirmed",
            ids["weak"]: "provisional",
            ids["thin"]: "manual",
        }


async def test_the_breakdown_page_can_be_checked_by_hand(login: Login) -> None:  # noqa: F811
    reviewer, cycle, ids = await _closed_with_one_of_each(login)
    good = ids["good"]
    page = await reviewer.get(f"/bureau/evaluation/{cycle}/results/{good}")
    assert page.status_code == 200
    text = page.text
    for label in ("学校评价", "家长满意度", "现场检查", "自查报告", "投诉查实", "安全事故"):
        assert label in text
    assert "3所学校评价，各校平均分：95.00、95.00、95.00" in text and "家长问卷30份" in text
    assert "学校评价3所；家长问卷30份；现场检查：已检查" in text
    # Item points: 95×40% = 38, 100×30% = 30, 95×20% = 19, self-report 100×10% = 10.
    for points in ("38.00", "30.00", "19.00", "10.00"):
        assert f'<td class="points">{points}</td>' in text
    assert "97.00" in text and "优秀" in text and 'action="/bureau/evaluation/' in text
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
    after = (await reviewer.get(done.headers["location"])).text
    assert "评估结果已确认" in after and "按计算结果确认" not in after


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
    # Under the city rubric 81.43 is 良好, which needs two schools' ratings: manual grading.
    # The candidate makes it 合格, which one school's ratings carry. 95.00 stays short of
    # the evidence 优秀 needs under both, so it does not change.
    assert '<strong class="changed">1</strong>' in page
    table = page.split('class="preview-changes"')[1].split("</table>")[0]
    assert WEAK in table and GOOD not in table and "81.43" in table
    changed = next(r for r in table.split("<tr") if WEAK in r)
    assert "需人工评定" in changed and "合格续期" in changed
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
