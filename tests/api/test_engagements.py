"""Schools record engagements of whitelisted providers; providers and the bureau read them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from registry.schools.engagements import engagements_of_organisation
from registry.tables import AuditEvent, Engagement
from tests.api.conftest import Client, Login
from tests.cast import BINHAI, CAST, T0, actor, listing_in
from tests.evaluation.helpers import CYCLE, feedback
from tests.factories import step
from workflows.states import State

URL = "/api/v1/engagements"


def body(listing_id: int, **changes: Any) -> dict[str, Any]:
    """A valid engagement of the cast's basketball course at the Heping primary school."""
    data: dict[str, Any] = {
        "listing": listing_id,
        "courses": ["少儿篮球"],
        "term": "2026-2027学年第一学期",
        "grade_band": "upper_primary",
        "students": 30,
        "weekly_schedule": [
            {"weekday": 1, "start": "16:30", "end": "18:30"},
            {"weekday": 3, "start": "16:30", "end": "18:30"},
        ],
        "fee_per_student_month": 150,
        "evening_study": False,
    }
    return {**data, **changes}


def evening(listing_id: int, **changes: Any) -> dict[str, Any]:
    """Evening study at the Binhai middle school."""
    slots = [{"weekday": 2, "start": "19:00", "end": "20:30"}]
    defaults = {"weekly_schedule": slots, "fee_per_student_month": 90}
    return body(listing_id, grade_band="middle", evening_study=True, **{**defaults, **changes})


async def refused(client: Client, data: dict[str, Any]) -> dict[str, str]:
    """The first field error of a refused engagement (and that nothing was recorded)."""
    response = await client.post(URL, json=data)
    assert response.status_code == 422, response.text
    assert await Engagement.count() == 0
    return response.json()["errors"][0]


async def test_school_records_an_engagement_of_a_listed_provider(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    school = await login("school")
    response = await school.post(URL, json=body(listing_id))
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["school"]["id"] == CAST.schools["heping_primary"]
    assert out["organisation"]["id"] == CAST.organisations["feiyue"]
    assert out["courses"] == ["少儿篮球"] and out["grade_band_label"] == "小学高年级"
    assert out["provider_exited_on"] is None and out["notice"] == ""
    event = await AuditEvent.select().where(AuditEvent.action == "engagement.created").first()
    assert event["listing"] == listing_id and event["role"] == "school"
    listed = (await school.get(URL)).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == out["id"]


@pytest.mark.parametrize(
    ("state", "code", "words"),
    [
        (State.in_review, "not_listed", "该机构当前不在白名单内"),
        (State.suspended, "not_listed", "该机构当前不在白名单内"),
        (State.exited, "not_listed", "该机构当前不在白名单内"),
        (State.under_rectification, "under_rectification", "整改中，暂停新增合作"),
    ],
)
async def test_refused_unless_the_provider_is_listed(
    login: Login, state: State, code: str, words: str
) -> None:
    listing_id = await listing_in(state)
    error = await refused(await login("school"), body(listing_id))
    assert error["field"] == "listing" and error["code"] == code and words in error["message"]


async def test_refused_for_a_provider_of_another_district(login: Login) -> None:
    listing_id = await listing_in(State.listed, organisation="other", district=BINHAI)
    error = await refused(await login("school"), body(listing_id))
    assert error["field"] == "listing" and error["code"] == "other_district"
    assert "滨海新区" in error["message"] and "和平区" in error["message"]


async def test_refused_when_the_fee_exceeds_the_cap(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    error = await refused(await login("school"), body(listing_id, fee_per_student_month=200))
    assert error == {
        "field": "fee_per_student_month",
        "code": "fee_over_cap",
        "message": "本合作收费200元/生/月，超过和平区课后服务收费上限180元/生/月",
    }


async def test_refused_when_an_inner_six_service_ends_before_18_30(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    slots = [{"weekday": 1, "start": "16:30", "end": "17:30"}]
    error = await refused(await login("school"), body(listing_id, weekly_schedule=slots))
    assert error["field"] == "weekly_schedule[0].end" and error["code"] == "service_end_early"
    assert "17:30" in error["message"] and "18:30" in error["message"]


async def test_refused_on_a_weekend_and_when_start_is_not_before_end(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    slots = [
        {"weekday": 6, "start": "16:30", "end": "18:30"},
        {"weekday": 2, "start": "18:30", "end": "18:30"},
    ]
    response = await (await login("school")).post(URL, json=body(listing_id, weekly_schedule=slots))
    assert response.status_code == 422
    codes = {(e["field"], e["code"]) for e in response.json()["errors"]}
    assert codes == {
        ("weekly_schedule[0].weekday", "weekday"),
        ("weekly_schedule[1].end", "time_order"),
    }


async def test_evening_study_at_a_middle_school(login: Login) -> None:
    listing_id = await listing_in(State.listed, district=BINHAI)
    school = await login("school_binhai")
    late = [{"weekday": 2, "start": "19:00", "end": "21:00"}]
    error = await refused(school, evening(listing_id, weekly_schedule=late))
    assert error["field"] == "weekly_schedule[0].end" and error["code"] == "evening_end_late"
    assert "20:30" in error["message"]
    error = await refused(school, evening(listing_id, fee_per_student_month=150))
    assert error["code"] == "fee_over_cap" and "晚自习收费上限100元" in error["message"]
    assert (await school.post(URL, json=evening(listing_id))).status_code == 201


async def test_evening_study_refused_at_a_primary_school(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    data = body(listing_id, evening_study=True, fee_per_student_month=90)
    error = await refused(await login("school"), data)
    assert error["field"] == "evening_study" and error["code"] == "evening_for_primary"


async def test_refused_for_a_course_that_is_not_approved(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    error = await refused(await login("school"), body(listing_id, courses=["少儿足球"]))
    assert error["field"] == "courses[0]" and error["code"] == "not_approved"
    assert "少儿篮球" in error["message"]


async def test_students_and_grade_band_are_checked(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    data = body(listing_id, students=501, grade_band="middle")
    response = await (await login("school")).post(URL, json=data)
    assert {e["field"] for e in response.json()["errors"]} == {"students", "grade_band"}


async def test_a_school_cannot_see_or_change_another_schools_engagement(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    school = await login("school")
    created = (await school.post(URL, json=body(listing_id))).json()
    other = await login("school_binhai")
    path = f"{URL}/{created['id']}"
    assert (await other.get(path)).status_code == 404
    assert (await other.put(path, json=body(listing_id))).status_code == 404
    assert (await other.delete(path)).status_code == 404
    assert (await other.get(URL)).json()["total"] == 0
    assert (await school.get(path)).status_code == 200


async def test_a_school_edits_and_deletes_its_own(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    school = await login("school")
    created = (await school.post(URL, json=body(listing_id))).json()
    path = f"{URL}/{created['id']}"
    changed = await school.put(path, json=body(listing_id, students=42))
    assert changed.status_code == 200 and changed.json()["students"] == 42
    too_dear = await school.put(path, json=body(listing_id, fee_per_student_month=200))
    assert too_dear.status_code == 422
    assert (await school.delete(path)).status_code == 204
    assert await Engagement.count() == 0
    actions = await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.action.like("engagement.%")
    )
    assert [a["action"] for a in actions] == [
        "engagement.created",
        "engagement.updated",
        "engagement.deleted",
    ]


async def test_the_provider_sees_which_schools_engage_it(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    await (await login("school")).post(URL, json=body(listing_id))
    seen = (await (await login("provider")).get(URL)).json()
    assert [i["school"]["name"] for i in seen["items"]] == ["天津市和平区岳阳道小学"]
    assert (await (await login("provider_other")).get(URL)).json()["total"] == 0
    assert (await (await login("reviewer")).get(URL)).json()["total"] == 1
    assert (await (await login("reviewer_binhai")).get(URL)).json()["total"] == 0
    assert (await (await login("city")).get(URL)).json()["total"] == 1
    provider = await login("provider")
    assert (await provider.post(URL, json=body(listing_id))).status_code == 403
    dashboard = await provider.get("/provider")
    assert "合作学校（1）" in dashboard.text and "天津市和平区岳阳道小学" in dashboard.text


async def test_an_exit_shows_on_the_engagement(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    school = await login("school")
    created = (await school.post(URL, json=body(listing_id))).json()
    await step(
        listing_id,
        "revoke",
        await actor("reviewer"),
        reason="发生安全事故",
        params={"exit_reason": "safety_incident"},
        now=T0 + timedelta(days=40),
    )
    out = (await school.get(f"{URL}/{created['id']}")).json()
    assert out["provider_exited_on"] == date(2026, 4, 11).isoformat()
    assert out["notice"] == "天津市和平区飞跃青少年篮球俱乐部有限公司已于4月11日退出白名单"
    assert out["listing_state"] == State.exited


async def test_a_suspension_shows_on_the_engagement_until_reinstated(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    school = await login("school")
    created = (await school.post(URL, json=body(listing_id))).json()
    reviewer = await actor("reviewer")
    await step(listing_id, "suspend", reviewer, reason="学生受伤", now=T0 + timedelta(days=40))
    out = (await school.get(f"{URL}/{created['id']}")).json()
    assert out["provider_suspended_on"] == date(2026, 4, 11).isoformat()
    assert out["notice"] == (
        "天津市和平区飞跃青少年篮球俱乐部有限公司已于4月11日被暂停，暂停期间不得进校服务"
    )
    page = await school.get("/school")
    assert "合作机构变动提醒" in page.text and "4月11日被暂停" in page.text
    await step(listing_id, "reinstate", reviewer, reason="调查结束", now=T0 + timedelta(days=45))
    out = (await school.get(f"{URL}/{created['id']}")).json()
    assert out["provider_suspended_on"] is None and out["notice"] == ""


async def test_running_engagements_are_kept_under_rectification(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    school = await login("school")
    created = (await school.post(URL, json=body(listing_id))).json()
    await step(
        listing_id,
        "put_under_rectification",
        await actor("reviewer"),
        reason="家长投诉上课迟到",
        now=T0 + timedelta(days=40),
    )
    changed = await school.put(f"{URL}/{created['id']}", json=body(listing_id, students=28))
    assert changed.status_code == 200 and changed.json()["listing_state"] == "under_rectification"
    again = await school.post(URL, json=body(listing_id))
    assert again.status_code == 422 and again.json()["errors"][0]["code"] == "under_rectification"


async def test_only_the_exiting_providers_engagements_are_marked(login: Login) -> None:
    leaving = await listing_in(State.listed)
    staying = await listing_in(State.listed, organisation="other")
    school = await login("school")
    await school.post(URL, json=body(leaving))
    other_course = body(staying, courses=["少儿篮球"], term="2026-2027学年第二学期")
    assert (await school.post(URL, json=other_course)).status_code == 201
    await step(leaving, "exit_voluntary", await actor("provider"), now=T0 + timedelta(days=40))
    rows = await Engagement.select(Engagement.listing, Engagement.provider_exited_on)
    marked = {r["listing"]: r["provider_exited_on"] for r in rows}
    assert marked == {leaving: date(2026, 4, 11), staying: None}
    mine = await engagements_of_organisation(CAST.organisations["feiyue"])
    assert [r["listing"] for r in mine] == [leaving]


async def test_times_must_be_hours_and_minutes(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    slots = [{"weekday": 1, "start": "ab:cd", "end": "25:00"}]
    response = await (await login("school")).post(URL, json=body(listing_id, weekly_schedule=slots))
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"weekly_schedule[0].start", "weekly_schedule[0].end"}


async def test_an_engagement_with_feedback_is_kept(login: Login) -> None:
    """Feedback feeds a cycle's scores: deleting its engagement is refused (it was a 500)."""
    listing_id = await listing_in(State.listed)
    school, reviewer = await login("school"), await login("reviewer")
    engaged = (await school.post(URL, json=body(listing_id))).json()["id"]
    cycle = (await reviewer.post("/api/v1/districts/120101/cycles", json=CYCLE)).json()["id"]
    given = await school.put(f"/api/v1/cycles/{cycle}/feedback/{engaged}", json=feedback())
    assert given.status_code == 200, given.text
    refused = await school.delete(f"{URL}/{engaged}")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "has_feedback"
    page = await school.post(f"/school/engagements/{engaged}/delete")
    assert page.status_code == 422
    assert await Engagement.count() == 1
