"""A district's evaluation cycle through the API: inputs, scores, confirmation, consequences."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from registry.tables import (
    AuditEvent,
    EvaluationResult,
    Listing,
    Rubric,
    SchoolFeedback,
    WhitelistEntry,
)
from schemas import RUBRIC, city_default_rubric, validate
from tests.api.conftest import Client, Login
from tests.cast import HEPING, listing_in, listing_row
from tests.evaluation.helpers import (
    ANSWER_DUE,
    CYCLE,
    EARLY,
    SELF_REPORT,
    after_answers,
    after_deadlines,
    engagement,
    feedback,
    listed_provider,
    rated_by_more_schools,
    self_report_on_time,
    today_iso,
)
from workflows.states import State

DISTRICT = f"/api/v1/districts/{HEPING}"


def same(value: int) -> dict[str, int]:
    keys = ("teaching_quality", "punctuality", "safety_management", "communication")
    return dict.fromkeys(keys, value)


async def open_cycle(reviewer: Client, **changes: Any) -> int:
    response = await reviewer.post(f"{DISTRICT}/cycles", json={**CYCLE, **changes})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def give(school: Client, cycle: int, engagement_id: int, body: dict[str, Any]) -> None:
    response = await school.put(f"/api/v1/cycles/{cycle}/feedback/{engagement_id}", json=body)
    assert response.status_code == 200, response.text


async def inspect(reviewer: Client, cycle: int, listing_id: int, score: int) -> None:
    response = await reviewer.put(
        f"/api/v1/cycles/{cycle}/inspections/{listing_id}",
        json={"score": score, "inspected_on": today_iso(), "note": "现场检查"},
    )
    assert response.status_code == 200, response.text


async def results(reviewer: Client, cycle: int) -> dict[int, dict[str, Any]]:
    response = await reviewer.get(f"/api/v1/cycles/{cycle}/results")
    assert response.status_code == 200, response.text
    return {item["listing_id"]: item for item in response.json()["items"]}


async def test_a_cycle_scores_everyone_and_confirmation_moves_the_lifecycle(login: Login) -> None:
    good = await listed_provider("天津市和平区飞跃篮球俱乐部")
    weak = await listed_provider("天津市和平区小星星美术培训中心")
    failing = await listing_in(State.listed)  # the cast provider's: it answers below
    unhappy = await listed_provider("天津市和平区智趣科技培训学校")
    silent = await listed_provider("天津市和平区书香阅读推广中心")
    before = (await listing_row(good))["valid_until"]
    reviewer, school, provider = (
        await login("reviewer"),
        await login("school"),
        await login("provider"),
    )
    cycle = await open_cycle(reviewer)
    for listing_id, score, tallies, inspection in (
        (good, 95, (10, 0, 0, 0), 95),
        (weak, 65, (5, 5, 0, 0), 60),
        (failing, 40, (4, 4, 1, 0), 40),
        (unhappy, 95, (3, 4, 3, 0), 95),
    ):
        await give(school, cycle, await engagement(listing_id), feedback(same(score), tallies))
        await inspect(reviewer, cycle, listing_id, inspection)
    # 优秀 needs three schools and thirty parents: two more schools rate the good one.
    await rated_by_more_schools(cycle, good, 2, same(95), (10, 0, 0, 0))
    report = await provider.put(f"/api/v1/cycles/{cycle}/self-report/{failing}", json=SELF_REPORT)
    assert report.status_code == 200 and report.json()["complete"] is True
    await self_report_on_time(cycle, good)

    # Not before the deadlines: the self-reports are due on 11-20, the cycle ends 11-30.
    early = await reviewer.post(f"/api/v1/cycles/{cycle}/close")
    assert early.status_code == 422
    error = early.json()["errors"][0]
    assert error["field"] == "early_reason" and "2026年11月30日" in error["message"]
    assert await EvaluationResult.count() == 0
    assert (await reviewer.get(f"/api/v1/cycles/{cycle}")).json()["status"] == "open"

    with after_deadlines():
        # Sessions end after 30 idle minutes: everyone signs in again on the later day.
        reviewer, provider = await login("reviewer"), await login("provider")
        closed = await reviewer.post(f"/api/v1/cycles/{cycle}/close")
        assert closed.status_code == 200, closed.text
        assert (closed.json()["scored"], closed.json()["sent_for_hearing"]) == (5, 3)
        found = await results(reviewer, cycle)
        assert (found[good]["score"], found[good]["grade_label"]) == (97.0, "优秀")
        assert found[good]["status"] == "computed"
        # weak and silent missed their self-reports: unscored, and the rubric's own deduction.
        assert (found[weak]["score"], found[weak]["consequence"]) == (62.22, "rectification")
        weak_lines = {line["key"]: line for line in found[weak]["breakdown"]["lines"]}
        assert weak_lines["self_report"]["points"] is None
        assert weak_lines["no_self_report"]["points"] == "-10.00"
        assert (found[failing]["score"], found[failing]["grade"]) == (59.67, "fail")
        assert found[unhappy]["exit_reason"] == "low_satisfaction"
        assert found[silent]["consequence"] == "none" and found[silent]["grade"] is None
        assert found[silent]["status"] == "manual"
        assert {found[i]["status"] for i in (weak, failing, unhappy)} == {"provisional"}
        # Nothing moves before the provider is heard and a reviewer decides.
        assert (await listing_row(weak))["state"] == State.listed

        plan = (await reviewer.get(f"/api/v1/cycles/{cycle}/confirm-plan")).json()["plan"]
        assert plan["listing_ids"] == [good]
        assert plan["skipped"] == {"manual": 1, "waiting_for_answer": 3, "answered": 0}
        waiting = await reviewer.post(
            f"/api/v1/cycles/{cycle}/results/{failing}/confirm", json={"reason": "维持"}
        )
        assert waiting.status_code == 422
        assert waiting.json()["errors"][0]["code"] == "hearing_open"
        assert "2026年12月8日" in waiting.json()["errors"][0]["message"]

        mine = (await provider.get("/api/v1/hearings")).json()["items"]
        assert [h["listing_id"] for h in mine] == [failing]
        assert mine[0]["answer_due"] == ANSWER_DUE
        assert mine[0]["facts"]["consequence_label"] == "退出白名单"
        assert mine[0]["facts"]["score"] == "59.67"
        answer = "检查当日主教练因病请假，由助教代课，已补充两名持证教练，附排课表。"
        answered = await provider.post(
            f"/api/v1/hearings/{mine[0]['id']}/answer", json={"answer": answer}
        )
        assert answered.status_code == 200, answered.text
        twice = await provider.post(
            f"/api/v1/hearings/{mine[0]['id']}/answer", json={"answer": "补充"}
        )
        assert twice.status_code == 422
        url = f"/api/v1/cycles/{cycle}/results/{failing}/confirm"
        unreasoned = await reviewer.post(url, json={})
        assert unreasoned.json()["errors"][0]["field"] == "reason"
        decided = await reviewer.post(
            url, json={"reason": "代课教练无资质，所述情况不影响检查结论，维持不合格"}
        )
        assert decided.status_code == 200 and decided.json()["status"] == "confirmed"
        gone = await listing_row(failing)
        assert (gone["state"], gone["exit_reason"]) == (State.exited, "evaluation_failed")
        assert gone["banned_until"] is not None
        assert "天津市和平区人民政府申请行政复议" in gone["provider_message"]

        no_reason = await reviewer.post(
            f"/api/v1/cycles/{cycle}/results/{silent}/grade", json={"grade": "pass"}
        )
        assert no_reason.json()["errors"][0]["field"] == "reason"
        graded = await reviewer.post(
            f"/api/v1/cycles/{cycle}/results/{silent}/grade",
            json={"grade": "pass", "reason": "开学初才开课，结合日常巡查人工评定为合格"},
        )
        assert graded.status_code == 200 and graded.json()["status"] == "computed"
        assert graded.json()["grade_reason"].startswith("开学初")
        unlisted = await reviewer.post(f"/api/v1/cycles/{cycle}/confirm")
        assert unlisted.json()["errors"][0]["field"] == "listing_ids"
        stale = await reviewer.post(f"/api/v1/cycles/{cycle}/confirm", json={"listing_ids": [good]})
        assert stale.status_code == 422 and stale.json()["errors"][0]["code"] == "changed"

    with after_answers():
        reviewer = await login("reviewer")
        body = (await reviewer.get(f"/api/v1/cycles/{cycle}/confirm-plan")).json()
        plan = body["plan"]
        assert sorted(plan["listing_ids"]) == sorted([good, weak, unhappy, silent])
        assert [e["listing_id"] for e in plan["exits"]] == [unhappy]
        assert {c["consequence"]: c["count"] for c in plan["by_consequence"]} == {
            "renew": 2,
            "rectification": 1,
            "exit": 1,
        }
        confirmed = await reviewer.post(
            f"/api/v1/cycles/{cycle}/confirm", json={"listing_ids": plan["listing_ids"]}
        )
        assert confirmed.json() == {"confirmed": 4}
    assert (await listing_row(good))["valid_until"] > before
    assert (await listing_row(weak))["state"] == State.under_rectification
    assert (await listing_row(unhappy))["exit_reason"] == "low_satisfaction"
    assert (await listing_row(silent))["state"] == State.listed
    entry = await WhitelistEntry.select().where(WhitelistEntry.listing == good).first()
    assert entry["latest_grade"] == "excellent"
    search = await reviewer.get("/api/v1/whitelist", params={"grade": "excellent"})
    assert [i["id"] for i in search.json()["items"]] == [good]
    unanswered = await AuditEvent.select().where(
        (AuditEvent.action == "evaluation.confirmed") & (AuditEvent.listing == unhappy)
    )
    assert unanswered[0]["reason"] == "机构在陈述、申辩期限内未提出意见，维持拟定结果"


async def test_a_ban_after_a_failed_evaluation_is_refused_with_its_end(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    reviewer, school = await login("reviewer"), await login("school")
    cycle = await open_cycle(reviewer)
    await give(school, cycle, await engagement(listing_id), feedback(same(30), (2, 8, 0, 0)))
    await inspect(reviewer, cycle, listing_id, 30)
    with after_deadlines():
        closed = await (await login("reviewer")).post(f"/api/v1/cycles/{cycle}/close")
        assert closed.status_code == 200, closed.text
    with after_answers():
        reviewer = await login("reviewer")
        url = f"/api/v1/cycles/{cycle}/results/{listing_id}/confirm"
        response = await reviewer.post(url, json={})
        assert response.status_code == 200 and response.json()["consequence"] == "exit"
        until = (await listing_row(listing_id))["banned_until"]
        again = await (await login("provider")).post("/api/v1/listings", json={"district": HEPING})
    assert again.status_code == 422
    error = again.json()["errors"][0]
    assert error["field"] == "banned_until" and until.isoformat() in error["message"]
    assert "评估不合格" in error["message"]


async def test_closing_early_needs_a_reason_and_records_what_was_missing(login: Login) -> None:
    listing_id = await listed_provider("天津市和平区启航体育培训中心")
    reviewer = await login("reviewer")
    cycle = await open_cycle(reviewer)
    await inspect(reviewer, cycle, listing_id, 80)
    missing = (await reviewer.get(f"/api/v1/cycles/{cycle}/missing")).json()
    assert len(missing["deadlines_not_passed"]) == 2
    assert missing["items"] == [
        {
            "listing_id": listing_id,
            "organisation_name": "天津市和平区启航体育培训中心",
            "missing": ["学校评价", "家长问卷", "自查报告（截止2026年11月20日）"],
        }
    ]
    blank = await reviewer.post(f"/api/v1/cycles/{cycle}/close", json={"early_reason": "  "})
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "early_reason"
    closed = await reviewer.post(f"/api/v1/cycles/{cycle}/close", json=EARLY)
    assert closed.status_code == 200 and closed.json()["closed_early"] is True
    event = (
        await AuditEvent.select()
        .where(AuditEvent.action == "cycle.closed_early")
        .output(load_json=True)
        .first()
    )
    assert event["reason"] == EARLY["early_reason"]
    assert event["payload"]["providers_missing_inputs"] == 1
    assert event["payload"]["missing"][0]["listing_id"] == listing_id
    cycle_row = (await reviewer.get(f"/api/v1/cycles/{cycle}")).json()
    assert cycle_row["closed_early"] and cycle_row["close_reason"] == EARLY["early_reason"]
    # Closed before the self-report was due: not submitting it is not held against anyone.
    lines = (await results(reviewer, cycle))[listing_id]["breakdown"]["lines"]
    assert "no_self_report" not in {line["key"] for line in lines}


async def test_the_rubric_is_snapshotted_when_a_cycle_opens(login: Login) -> None:
    listing_id = await listed_provider("天津市和平区启航体育培训中心")
    reviewer, approver = await login("reviewer"), await login("approver")
    cycle = await open_cycle(reviewer)
    edited = city_default_rubric()
    edited["items"][0]["weight"], edited["items"][2]["weight"] = 20, 40
    saved = await approver.put(f"{DISTRICT}/rubric", json=edited)
    assert saved.status_code == 200, saved.text
    got = await reviewer.get(f"{DISTRICT}/rubric")
    assert got.json()["items"][2]["weight"] == 40, got.text
    running = await reviewer.get(f"/api/v1/cycles/{cycle}")
    assert running.json()["rubric"]["items"][2]["weight"] == 20
    await inspect(reviewer, cycle, listing_id, 80)
    with after_deadlines():
        reviewer = await login("reviewer")
        assert (await reviewer.post(f"/api/v1/cycles/{cycle}/close")).status_code == 200
    lines = (await results(reviewer, cycle))[listing_id]["breakdown"]["lines"]
    inspection = next(line for line in lines if line["key"] == "inspection")
    # Only the inspection has data: the snapshot's 20 (not the edit's 40) carries it alone.
    assert inspection["weight"] == "20" and inspection["effective_weight"] == "100.00"
    assert "学校评价、家长满意度、自查报告不计分" in inspection["note"]


async def test_feedback_only_from_schools_engaged_in_the_cycle(login: Login) -> None:
    listing_id = await listed_provider("天津市和平区启航体育培训中心")
    reviewer, school = await login("reviewer"), await login("school")
    cycle = await open_cycle(reviewer)
    engaged = await engagement(listing_id, students=20)
    other_term = await engagement(listing_id, term="2025-2026学年第二学期")
    url = f"/api/v1/cycles/{cycle}/feedback"
    elsewhere = await (await login("school_binhai")).put(f"{url}/{engaged}", json=feedback())
    assert elsewhere.status_code == 404
    assert (await school.put(f"{url}/{other_term}", json=feedback())).status_code == 404
    assert (await school.put(f"{url}/999999", json=feedback())).status_code == 404
    too_many = await school.put(f"{url}/{engaged}", json=feedback(tallies=(20, 5, 0, 0)))
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "tallies"
    assert "超过该合作的学生人数20人" in too_many.json()["errors"][0]["message"]
    bad = await school.put(f"{url}/{engaged}", json={"scores": {"teaching_quality": 120}})
    assert bad.json()["errors"][0]["field"] == "scores.teaching_quality"
    await give(school, cycle, engaged, feedback(same(80)))
    await give(school, cycle, engaged, feedback(same(90), (10, 5, 0, 0)))
    rows = await SchoolFeedback.select().output(load_json=True)
    assert len(rows) == 1 and rows[0]["scores"]["punctuality"] == 90
    listed = await school.get(url)
    assert [i["engagement_id"] for i in listed.json()["items"]] == [engaged]
    await reviewer.post(f"/api/v1/cycles/{cycle}/close", json=EARLY)
    late = await school.put(f"{url}/{engaged}", json=feedback(same(10)))
    assert late.status_code == 422 and "已结束" in late.json()["errors"][0]["message"]


async def test_preview_lists_who_would_change_and_writes_nothing(login: Login) -> None:
    strong = await listed_provider("天津市和平区启航体育培训中心")
    middling = await listed_provider("天津市和平区小星星美术培训中心")
    reviewer, school = await login("reviewer"), await login("school")
    cycle = await open_cycle(reviewer)
    await give(school, cycle, await engagement(strong), feedback(same(95), (9, 1, 0, 0)))
    await give(school, cycle, await engagement(middling), feedback(same(75), (5, 5, 0, 0)))
    candidate = city_default_rubric()
    candidate["grades"] = {"excellent": 95, "good": 88, "pass": 82}
    candidate["rectification_below"] = 85
    no_minimum = {"school_ratings": 0, "parent_responses": 0, "inspection": False}
    candidate["evidence"] = dict.fromkeys(("excellent", "good", "pass", "fail"), no_minimum)
    counts = (
        await EvaluationResult.count(),
        await AuditEvent.count(),
        await Rubric.count(),
        [r["version"] for r in await Listing.select(Listing.version).order_by(Listing.id)],
    )
    response = await reviewer.post(f"{DISTRICT}/rubric/preview", json=candidate)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cycle_id"] == cycle and body["evaluated"] == 2
    change = {item["listing_id"]: item for item in body["items"]}
    # No inspection, no self-report due yet: school 40 / parents 30 scale to 57.14 / 42.86.
    # strong: 95×57.14% + 98×42.86% = 96.28: 优秀 by the score but one school is too little
    # evidence now (no grade), 优秀 under the candidate, which asks for no minimum;
    # middling: 75×57.14% + 90×42.86% = 81.43, 良好 on too little evidence now, 不合格 (exit)
    # under the candidate's pass line of 82.
    assert set(change) == {strong, middling}
    assert change[strong]["grade_changed"] and not change[strong]["would_exit"]
    assert change[strong]["current"]["grade"] is None
    assert change[strong]["candidate"]["score"] == 96.28
    assert change[strong]["candidate"]["grade_label"] == "优秀"
    assert change[middling]["current"]["grade_label"] == "未评定"
    assert change[middling]["candidate"]["consequence"] == "exit"
    assert change[middling]["would_exit"]
    assert counts == (
        await EvaluationResult.count(),
        await AuditEvent.count(),
        await Rubric.count(),
        [r["version"] for r in await Listing.select(Listing.version).order_by(Listing.id)],
    )
    outsider = await (await login("reviewer_binhai")).post(
        f"{DISTRICT}/rubric/preview", json=candidate
    )
    assert outsider.status_code == 404
    candidate["grades"]["pass"] = "六十"
    invalid = await reviewer.post(f"{DISTRICT}/rubric/preview", json=candidate)
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "grades.pass"


async def test_the_rubric_in_force_and_who_may_edit_it(login: Login, anonymous: Client) -> None:
    public = await anonymous.get(f"{DISTRICT}/rubric")
    assert public.status_code == 200 and validate(RUBRIC, public.json()) == []
    assert (await anonymous.get("/api/v1/districts/999999/rubric")).status_code == 404
    edited = city_default_rubric()
    edited["name"] = "和平区评估细则"
    reviewer = await login("reviewer")
    assert (await reviewer.put(f"{DISTRICT}/rubric", json=edited)).status_code == 403
    approver = await login("approver")
    broken = {**edited, "satisfaction": {"threshold": 180}}
    refused = await approver.put(f"{DISTRICT}/rubric", json=broken)
    assert refused.status_code == 422
    assert refused.json()["errors"][0] == {
        "field": "satisfaction.threshold",
        "code": "maximum",
        "message": "满意度退出线（%）不能大于100",
    }
    assert (await approver.put(f"{DISTRICT}/rubric", json=edited)).status_code == 200
    assert (await anonymous.get(f"{DISTRICT}/rubric")).json()["name"] == "和平区评估细则"
    binhai = await anonymous.get("/api/v1/districts/120116/rubric")
    assert binhai.json()["name"].endswith("（市级默认）")
    city = await login("city")
    city_rubric = {**city_default_rubric(), "name": "天津市评估细则（2027版）"}
    assert (await city.put("/api/v1/rubric", json=city_rubric)).status_code == 200
    assert (await anonymous.get("/api/v1/districts/120116/rubric")).json()["name"] == (
        "天津市评估细则（2027版）"
    )
    assert (await approver.delete(f"{DISTRICT}/rubric")).status_code == 200
    assert (await anonymous.get(f"{DISTRICT}/rubric")).json()["name"] == "天津市评估细则（2027版）"


async def test_an_adjusted_score_needs_a_reason_and_is_audited(login: Login) -> None:
    listing_id = await listed_provider("天津市和平区启航体育培训中心")
    reviewer = await login("reviewer")
    cycle = await open_cycle(reviewer)
    await inspect(reviewer, cycle, listing_id, 62)
    # Two schools (良好's minimum) rate it; the inspection pulls the score to 合格.
    await rated_by_more_schools(cycle, listing_id, 2, same(70), (6, 4, 0, 0))
    await self_report_on_time(cycle, listing_id)
    with after_deadlines():
        reviewer = await login("reviewer")
        assert (await reviewer.post(f"/api/v1/cycles/{cycle}/close")).status_code == 200
    url = f"/api/v1/cycles/{cycle}/results/{listing_id}/confirm"
    silent = await reviewer.post(url, json={"score": 85})
    assert silent.status_code == 422 and silent.json()["errors"][0]["field"] == "reason"
    out_of_range = await reviewer.post(url, json={"score": 130, "reason": "复核"})
    assert out_of_range.json()["errors"][0]["field"] == "score"
    done = await reviewer.post(url, json={"score": 85, "reason": "现场复查后整改到位"})
    assert done.status_code == 200, done.text
    assert (done.json()["grade"], done.json()["adjusted"], done.json()["consequence"]) == (
        "good",
        True,
        "renew",
    )
    # Schools 70 × 40% + parents 92 × 30% + inspection 62 × 20% + self-report 10 = 78.
    assert done.json()["breakdown"]["score"] == "78.00"
    event = (
        await AuditEvent.select()
        .where(AuditEvent.action == "evaluation.confirmed")
        .output(load_json=True)
        .first()
    )
    assert event["reason"] == "现场复查后整改到位" and event["payload"]["grade"] == "良好"
    again = await reviewer.post(url, json={})
    assert again.status_code == 422


async def test_self_reports_and_inspections_stay_in_scope(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    reviewer, provider = await login("reviewer"), await login("provider")
    cycle = await open_cycle(reviewer)
    url = f"/api/v1/cycles/{cycle}/self-report/{listing_id}"
    partial = await provider.put(url, json={"service_summary": "开展篮球课后服务。"})
    assert partial.status_code == 200 and partial.json()["complete"] is False
    missing = {m["field"] for m in partial.json()["missing"]}
    assert {"service_summary", "fee_compliance", "safety_measures"} <= missing
    wrong = await provider.put(url, json={"students_served": "很多"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "students_served"
    assert (await provider.put(url, json=SELF_REPORT)).json()["complete"] is True
    assert (await (await login("provider_other")).get(url)).status_code == 404
    inspection = f"/api/v1/cycles/{cycle}/inspections/{listing_id}"
    body = {"score": 90, "inspected_on": today_iso()}
    assert (await (await login("reviewer_binhai")).put(inspection, json=body)).status_code == 404
    over = await reviewer.put(inspection, json={**body, "score": 101})
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "score"
    future = await reviewer.put(inspection, json={**body, "inspected_on": "2999-01-01"})
    assert future.json()["errors"][0]["field"] == "inspected_on"


async def test_one_open_cycle_per_district_and_dates_are_checked(login: Login) -> None:
    reviewer = await login("reviewer")
    bad = await reviewer.post(
        f"{DISTRICT}/cycles", json={**CYCLE, "name": " ", "ends_on": "2026-08-01"}
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"name", "ends_on"}
    await open_cycle(reviewer)
    second = await reviewer.post(f"{DISTRICT}/cycles", json=CYCLE)
    assert second.status_code == 422 and "已有进行中的评估周期" in second.json()["detail"]
    school = await login("school")
    assert (await school.post(f"{DISTRICT}/cycles", json=CYCLE)).status_code == 403
    assert date.fromisoformat(CYCLE["starts_on"]).year == 2026


async def test_two_closes_at_once_score_the_cycle_once(login: Login) -> None:
    """On PostgreSQL both used to read "open" and the second insert of results was a 500."""
    await listing_in(State.listed)
    await listed_provider("天津市和平区小星星美术培训中心")
    reviewer, approver = await login("reviewer"), await login("approver")
    cycle = await open_cycle(reviewer)
    answers = await asyncio.gather(
        reviewer.post(f"/api/v1/cycles/{cycle}/close", json=EARLY),
        approver.post(f"/api/v1/cycles/{cycle}/close", json=EARLY),
    )
    assert sorted(a.status_code for a in answers) == [200, 422]
    assert await EvaluationResult.count().where(EvaluationResult.cycle == cycle) == 2
