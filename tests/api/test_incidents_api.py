"""Safety incidents over JSON: a major one suspends at once; reviewers reinstate or revoke."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx

from registry.tables import AuditEvent, Engagement, Incident
from tests.api.conftest import Client, Login
from tests.cast import BINHAI, CAST, listing_in, listing_row
from workflows import timesource
from workflows.states import State

URL = "/api/v1/incidents"
NAME = "飞跃青少年篮球"
ACCOUNT = "训练中一名学生从篮球架上摔下，手臂骨折，已送医治疗。"


async def engaged(school: Client, listing_id: int) -> int:
    """The Heping primary school engages the cast's basketball course."""
    response = await school.post(
        "/api/v1/engagements",
        json={
            "listing": listing_id,
            "courses": ["少儿篮球"],
            "term": "2026-2027学年第一学期",
            "grade_band": "upper_primary",
            "students": 30,
            "weekly_schedule": [{"weekday": 1, "start": "16:30", "end": "18:30"}],
            "fee_per_student_month": 150,
        },
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def report(listing_id: int, severity: str = "major", **changes: Any) -> dict[str, Any]:
    day = (timesource.local_today() - timedelta(days=1)).isoformat()
    return {
        "listing_id": listing_id,
        "severity": severity,
        "occurred_on": day,
        "description": ACCOUNT,
        **changes,
    }


async def searchable(client: httpx.AsyncClient, listing_id: int) -> bool:
    response = await client.get("/api/v1/whitelist", params={"q": NAME})
    assert response.status_code == 200
    return listing_id in {item["id"] for item in response.json()["items"]}


async def test_major_incident_suspends_at_once(login: Login, anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    school = await login("school")
    engagement_id = await engaged(school, listing_id)
    assert await searchable(anonymous, listing_id)
    response = await school.post(URL, json=report(listing_id))
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["listing_state"] == "suspended" and out["severity_label"] == "重大"
    assert out["school_id"] == CAST.schools["heping_primary"] and out["reporter_role"] == "school"
    assert (await listing_row(listing_id))["state"] == State.suspended
    assert not await searchable(anonymous, listing_id)
    row = await Engagement.select().where(Engagement.id == engagement_id).first()
    assert row["provider_suspended_on"] is not None and row["provider_exited_on"] is None
    suspension = (
        await AuditEvent.select().where(AuditEvent.action == "suspend_for_incident").first()
    )
    assert suspension["actor_name"] == f"incident:{out['id']}"
    assert suspension["actor_id"] == CAST.users["school"] and str(out["id"]) in suspension["reason"]
    reported = await AuditEvent.select().where(AuditEvent.action == "incident.reported").first()
    assert ACCOUNT not in str(reported)
    mine = (await school.get(URL)).json()
    assert [i["id"] for i in mine["items"]] == [out["id"]]


async def test_school_without_an_engagement_gets_404(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    response = await (await login("school")).post(URL, json=report(listing_id))
    assert response.status_code == 404
    assert (await listing_row(listing_id))["state"] == State.listed
    assert await Incident.count() == 0
    assert (await (await login("provider")).post(URL, json=report(listing_id))).status_code == 404


async def test_minor_incident_leaves_the_state(login: Login, anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    school = await login("school")
    await engaged(school, listing_id)
    response = await school.post(URL, json=report(listing_id, "minor"))
    assert response.status_code == 201 and response.json()["listing_state"] == "listed"
    assert await searchable(anonymous, listing_id)


async def test_report_rules_name_the_field(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    reviewer = await login("reviewer")
    tomorrow = (timesource.local_today() + timedelta(days=2)).isoformat()
    for changes, field in (
        ({"occurred_on": tomorrow}, "occurred_on"),
        ({"occurred_on": "2026-13-01"}, "occurred_on"),
        ({"description": "摔倒了"}, "description"),
        ({"severity": "huge"}, "severity"),
    ):
        response = await reviewer.post(URL, json=report(listing_id, **changes))
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await Incident.count() == 0
    assert (await listing_row(listing_id))["state"] == State.listed


async def test_reviewer_reports_in_its_district_only(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    other = await login("reviewer_binhai")
    assert (await other.post(URL, json=report(listing_id))).status_code == 404
    response = await (await login("reviewer")).post(URL, json=report(listing_id))
    assert response.status_code == 201
    assert response.json()["reporter_role"] == "reviewer" and response.json()["school_id"] is None
    assert response.json()["listing_state"] == "suspended"
    assert (await other.get(URL)).json()["total"] == 0
    assert (await (await login("city")).get(URL)).json()["total"] == 1


async def test_major_incident_on_a_suspended_provider_is_just_recorded(login: Login) -> None:
    listing_id = await listing_in(State.suspended)
    response = await (await login("reviewer")).post(URL, json=report(listing_id))
    assert response.status_code == 201 and response.json()["listing_state"] == "suspended"
    assert await AuditEvent.count().where(AuditEvent.action == "suspend_for_incident") == 0


async def test_reinstate_brings_it_back_to_the_search(
    login: Login, anonymous: httpx.AsyncClient
) -> None:
    listing_id = await listing_in(State.listed)
    school = await login("school")
    engagement_id = await engaged(school, listing_id)
    incident_id = (await school.post(URL, json=report(listing_id))).json()["id"]
    assert (
        await school.post(f"{URL}/{incident_id}/resolve", json={"action": "close", "reason": "x"})
    ).status_code == 403
    other = await login("reviewer_binhai")
    resolve = {"action": "reinstate", "reason": "经调查，机构已整改场地安全隐患"}
    assert (await other.post(f"{URL}/{incident_id}/resolve", json=resolve)).status_code == 404
    reviewer = await login("reviewer")
    response = await reviewer.post(f"{URL}/{incident_id}/resolve", json=resolve)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["listing_state"] == "listed" and out["resolved_at"]
    assert "经调查" in out["resolution"] and out["resolved_by"] == CAST.users["reviewer"]
    assert await searchable(anonymous, listing_id)
    row = await Engagement.select().where(Engagement.id == engagement_id).first()
    assert row["provider_suspended_on"] is None
    again = await reviewer.post(f"{URL}/{incident_id}/resolve", json=resolve)
    assert again.status_code == 422 and "不能重复处理" in again.json()["detail"]


async def test_revoke_exits_for_a_safety_incident_with_a_ban(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    school = await login("school")
    engagement_id = await engaged(school, listing_id)
    incident_id = (await school.post(URL, json=report(listing_id))).json()["id"]
    reviewer = await login("reviewer")
    missing = await reviewer.post(f"{URL}/{incident_id}/resolve", json={"action": "revoke"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "reason"
    resolve = {"action": "revoke", "reason": "场地存在重大安全隐患且拒不整改"}
    response = await reviewer.post(f"{URL}/{incident_id}/resolve", json=resolve)
    assert response.status_code == 200, response.text
    assert response.json()["listing_state"] == "exited"
    row = await listing_row(listing_id)
    assert row["exit_reason"] == "safety_incident" and row["banned_until"] is not None
    assert row["banned_until"] > timesource.local_today()
    engagement = await Engagement.select().where(Engagement.id == engagement_id).first()
    assert engagement["provider_exited_on"] is not None


async def test_close_keeps_the_state_and_reinstate_of_a_listed_provider_is_refused(
    login: Login,
) -> None:
    listing_id = await listing_in(State.listed, organisation="other", district=BINHAI)
    reviewer = await login("reviewer_binhai")
    minor = (await reviewer.post(URL, json=report(listing_id, "minor"))).json()["id"]
    refused = await reviewer.post(
        f"{URL}/{minor}/resolve", json={"action": "reinstate", "reason": "恢复"}
    )
    assert refused.status_code == 422
    closed = await reviewer.post(
        f"{URL}/{minor}/resolve", json={"action": "close", "reason": "已批评教育，结案"}
    )
    assert closed.status_code == 200 and closed.json()["listing_state"] == "listed"
    assert closed.json()["resolution"].startswith("结案")


async def test_two_major_reports_at_once_are_both_recorded(login: Login) -> None:
    listing_id = await listing_in(State.listed)
    school = await login("school")
    await engaged(school, listing_id)
    reviewer = await login("reviewer")
    responses = await asyncio.gather(
        school.post(URL, json=report(listing_id)), reviewer.post(URL, json=report(listing_id))
    )
    assert [r.status_code for r in responses] == [201, 201]
    assert await Incident.count() == 2
    assert await AuditEvent.count().where(AuditEvent.action == "suspend_for_incident") == 1
