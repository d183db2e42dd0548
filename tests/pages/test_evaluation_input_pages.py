"""The evaluation input pages through HTTP: a school's feedback form, a provider's self-report."""

from __future__ import annotations

from typing import Any

from registry.tables import SchoolFeedback, SelfReport
from tests.api.conftest import Client, Login, login  # noqa: F401  (the fixture)
from tests.cast import HEPING, listing_in
from tests.evaluation.helpers import CYCLE, EARLY, SELF_REPORT, engagement, listed_provider
from workflows.states import State

PROVIDER_NAME = "天津市和平区启航体育培训中心"


async def open_cycle(reviewer: Client, **changes: Any) -> int:
    response = await reviewer.post(f"/api/v1/districts/{HEPING}/cycles", json={**CYCLE, **changes})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def feedback_form(**changes: str) -> dict[str, str]:
    """What a browser posts from a filled-in feedback form."""
    data = {
        "scores.teaching_quality": "90",
        "scores.punctuality": "85",
        "scores.safety_management": "95",
        "scores.communication": "80",
        "tallies.very_satisfied": "6",
        "tallies.satisfied": "3",
        "tallies.neutral": "1",
        "tallies.dissatisfied": "0",
        "comment": "教练认真负责，学生喜欢。",
    }
    return {**data, **changes}


def self_report_form(body: dict[str, Any]) -> dict[str, str]:
    """The self-report as the schema-rendered form posts it (booleans as true/false)."""
    return {
        key: ("true" if value else "false") if isinstance(value, bool) else str(value)
        for key, value in body.items()
    }


async def test_school_gives_feedback_through_the_form(login: Login) -> None:  # noqa: F811
    listing_id = await listed_provider(PROVIDER_NAME)
    engaged = await engagement(listing_id, students=40)
    cycle = await open_cycle(await login("reviewer"))
    school = await login("school")
    dashboard = await school.get("/school")
    assert '<a href="/school/evaluation">评估反馈</a>' in dashboard.text
    index = await school.get("/school/evaluation")
    assert index.status_code == 200
    assert "2026年秋季学期" in index.text and PROVIDER_NAME in index.text
    assert "未填写" in index.text
    url = f"/school/evaluation/{cycle}/engagements/{engaged}"
    assert f'href="{url}"' in index.text
    form = await school.get(url)
    assert form.status_code == 200
    for label in ("教学质量", "准时到岗", "安全管理", "家校沟通", "非常满意", "不满意"):
        assert label in form.text

    saved = await school.post(url, data=feedback_form())
    assert saved.status_code == 303 and saved.headers["location"] == f"{url}?done=saved"
    row = await SchoolFeedback.select().output(load_json=True).first()
    assert row["scores"] == {
        "teaching_quality": 90,
        "punctuality": 85,
        "safety_management": 95,
        "communication": 80,
    }
    assert (row["very_satisfied"], row["satisfied"], row["neutral"], row["dissatisfied"]) == (
        6,
        3,
        1,
        0,
    )
    assert row["comment"] == "教练认真负责，学生喜欢。"
    page = await school.get(f"{url}?done=saved")
    assert "评价已保存" in page.text
    assert 'name="scores.punctuality" inputmode="numeric" value="85"' in page.text
    # Saving again replaces the feedback (one row per engagement and cycle).
    again = await school.post(url, data=feedback_form(**{"scores.punctuality": "70"}))
    assert again.status_code == 303
    rows = await SchoolFeedback.select().output(load_json=True)
    assert len(rows) == 1 and rows[0]["scores"]["punctuality"] == 70
    assert "已填写" in (await school.get("/school/evaluation")).text


async def test_a_bad_score_is_shown_next_to_its_field_with_the_typed_values(
    login: Login,  # noqa: F811
) -> None:
    listing_id = await listed_provider(PROVIDER_NAME)
    engaged = await engagement(listing_id, students=40)
    cycle = await open_cycle(await login("reviewer"))
    school = await login("school")
    url = f"/school/evaluation/{cycle}/engagements/{engaged}"
    response = await school.post(
        url, data=feedback_form(**{"scores.teaching_quality": "120", "comment": "需要改进"})
    )
    assert response.status_code == 422
    assert "评价得分不能大于100" in response.text
    field = response.text.split('name="scores.teaching_quality"')[1].split("</div>")[0]
    assert 'value="120"' in field and "评价得分不能大于100" in field
    assert 'name="scores.punctuality" inputmode="numeric" value="85"' in response.text
    assert 'name="tallies.very_satisfied" inputmode="numeric" value="6"' in response.text
    assert "需要改进</textarea>" in response.text
    assert await SchoolFeedback.count() == 0
    too_many = await school.post(url, data=feedback_form(**{"tallies.satisfied": "50"}))
    assert too_many.status_code == 422
    assert "问卷合计57份，超过该合作的学生人数40人" in too_many.text


async def test_another_schools_engagement_is_not_found(login: Login) -> None:  # noqa: F811
    listing_id = await listed_provider(PROVIDER_NAME)
    engaged = await engagement(listing_id)
    other_term = await engagement(listing_id, term="2025-2026学年第二学期")
    cycle = await open_cycle(await login("reviewer"))
    elsewhere = await login("school_binhai")
    url = f"/school/evaluation/{cycle}/engagements/{engaged}"
    assert (await elsewhere.get(url)).status_code == 404
    assert (await elsewhere.post(url, data=feedback_form())).status_code == 404
    assert PROVIDER_NAME not in (await elsewhere.get("/school/evaluation")).text
    school = await login("school")
    outside = f"/school/evaluation/{cycle}/engagements/{other_term}"
    assert (await school.get(outside)).status_code == 404
    assert (await school.post(outside, data=feedback_form())).status_code == 404
    assert await SchoolFeedback.count() == 0


async def test_the_form_is_read_only_after_the_cycle_closes(login: Login) -> None:  # noqa: F811
    listing_id = await listed_provider(PROVIDER_NAME)
    engaged = await engagement(listing_id)
    reviewer = await login("reviewer")
    cycle = await open_cycle(reviewer)
    school = await login("school")
    url = f"/school/evaluation/{cycle}/engagements/{engaged}"
    assert (await school.post(url, data=feedback_form())).status_code == 303
    closed = await reviewer.post(f"/api/v1/cycles/{cycle}/close", json=EARLY)
    assert closed.status_code == 200, closed.text
    page = await school.get(url)
    assert page.status_code == 200
    assert "已结束，评价不能再修改" in page.text and "保存评价" not in page.text
    assert 'value="90"' in page.text
    late = await school.post(url, data=feedback_form(**{"scores.punctuality": "10"}))
    assert late.status_code == 422 and "已结束" in late.text
    row = await SchoolFeedback.select().output(load_json=True).first()
    assert row["scores"]["punctuality"] == 85


async def test_provider_saves_an_incomplete_then_a_complete_self_report(
    login: Login,  # noqa: F811
) -> None:
    listing_id = await listing_in(State.listed)
    cycle = await open_cycle(await login("reviewer"))
    provider = await login("provider")
    dashboard = await provider.get("/provider")
    assert '<a href="/provider/evaluation">评估与自查报告</a>' in dashboard.text
    page = await provider.get("/provider/evaluation")
    assert page.status_code == 200
    assert "2026年秋季学期" in page.text and "2026年11月20日" in page.text
    assert "尚未提交" in page.text and 'name="service_summary"' in page.text
    url = f"/provider/evaluation/{cycle}/self-report/{listing_id}"

    partial = {"service_summary": SELF_REPORT["service_summary"], "schools_served": "3"}
    saved = await provider.post(url, data=partial)
    assert saved.status_code == 303
    location = f"/provider/evaluation?done=report_saved#report-{listing_id}"
    assert saved.headers["location"] == location
    row = await SelfReport.select().output(load_json=True).first()
    assert row["complete"] is False and row["body"]["schools_served"] == 3
    page = await provider.get("/provider/evaluation?done=report_saved")
    assert "自查报告已保存" in page.text
    assert "尚缺：服务学生人数、安全管理措施、从业人员变动情况" in page.text
    assert "逾期提交" not in page.text

    negative = {**self_report_form(SELF_REPORT), "schools_served": "-1"}
    refused = await provider.post(url, data=negative)
    assert refused.status_code == 422
    assert "服务学校数" in refused.text and 'name="schools_served" value="-1"' in refused.text
    assert "加强与班主任沟通" in refused.text  # the rest of what was typed is kept

    complete = await provider.post(url, data=self_report_form(SELF_REPORT))
    assert complete.status_code == 303
    row = await SelfReport.select().output(load_json=True).first()
    assert row["complete"] is True and row["body"] == SELF_REPORT
    page = await provider.get("/provider/evaluation")
    assert "内容完整" in page.text and "尚缺" not in page.text


async def test_a_late_self_report_is_flagged(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    cycle = await open_cycle(await login("reviewer"), self_report_due="2026-09-02")
    provider = await login("provider")
    assert "已过截止日期，尚未提交" in (await provider.get("/provider/evaluation")).text
    url = f"/provider/evaluation/{cycle}/self-report/{listing_id}"
    assert (await provider.post(url, data=self_report_form(SELF_REPORT))).status_code == 303
    page = await provider.get("/provider/evaluation")
    assert "逾期提交" in page.text and "内容完整" in page.text
    # Another organisation's listing is not the provider's to report on.
    other = await login("provider_other")
    assert (await other.post(url, data=self_report_form(SELF_REPORT))).status_code == 404
