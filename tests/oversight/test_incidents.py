"""Incidents through the pages: the school's report from an engagement, the bureau's resolution."""

from __future__ import annotations

from datetime import timedelta

from registry.tables import Engagement, Incident
from tests.api.conftest import Client, Login, login  # noqa: F401  (the fixture)
from tests.api.test_incidents_api import engaged
from tests.cast import listing_in, listing_row
from workflows import timesource
from workflows.states import State

ACCOUNT = "训练中一名学生从篮球架上摔下，手臂骨折，已送医治疗。"


def yesterday() -> str:
    return (timesource.local_today() - timedelta(days=1)).isoformat()


async def test_school_reports_a_major_incident_from_its_engagement(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    school = await login("school")
    engagement_id = await engaged(school, listing_id)
    dashboard = await school.get("/school")
    assert f'href="/school/incidents/new?engagement={engagement_id}"' in dashboard.text
    form = await school.get(f"/school/incidents/new?engagement={engagement_id}")
    assert form.status_code == 200 and "天津市和平区飞跃青少年篮球俱乐部有限公司" in form.text
    typed = {"engagement": str(engagement_id), "severity": "major", "occurred_on": yesterday()}
    response = await school.post("/school/incidents/new", data={**typed, "description": "摔倒"})
    assert response.status_code == 422 and "请写明事故经过" in response.text
    assert 'value="major" checked' in response.text and f'value="{yesterday()}"' in response.text
    assert await Incident.count() == 0
    response = await school.post("/school/incidents/new", data={**typed, "description": ACCOUNT})
    assert response.status_code == 303
    listed = await school.get(response.headers["location"])
    assert "事故报告已提交" in listed.text and "已暂停列入白名单" in listed.text
    assert (await listing_row(listing_id))["state"] == State.suspended
    dashboard = await school.get("/school")
    assert "暂停</span>" in dashboard.text
    row = await Engagement.select().where(Engagement.id == engagement_id).first()
    assert row["provider_suspended_on"] is not None


async def test_another_schools_engagement_is_404(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    engagement_id = await engaged(await login("school"), listing_id)
    other = await login("school_binhai")
    assert (await other.get(f"/school/incidents/new?engagement={engagement_id}")).status_code == 404
    data = {
        "engagement": str(engagement_id),
        "severity": "major",
        "occurred_on": yesterday(),
        "description": ACCOUNT,
    }
    assert (await other.post("/school/incidents/new", data=data)).status_code == 404
    assert (await listing_row(listing_id))["state"] == State.listed


async def test_bureau_revokes_from_the_resolve_page(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    school = await login("school")
    engagement_id = await engaged(school, listing_id)
    data = {
        "engagement": str(engagement_id),
        "severity": "major",
        "occurred_on": yesterday(),
        "description": ACCOUNT,
    }
    await school.post("/school/incidents/new", data=data)
    incident_id = (await Incident.select(Incident.id).first())["id"]
    reviewer = await login("reviewer")
    page = await reviewer.get("/bureau/incidents")
    assert page.status_code == 200 and f'href="/bureau/incidents/{incident_id}"' in page.text
    assert "岳阳道小学" in page.text
    assert "共 0 起" in (await reviewer.get("/bureau/incidents?show=resolved")).text
    resolve = await reviewer.get(f"/bureau/incidents/{incident_id}")
    assert ACCOUNT in resolve.text and 'value="reinstate"' in resolve.text
    url = f"/bureau/incidents/{incident_id}/resolve"
    response = await reviewer.post(url, data={"action": "revoke"})
    assert response.status_code == 422 and "请填写处理理由" in response.text
    reason = "场地存在重大安全隐患且拒不整改"
    response = await reviewer.post(url, data={"action": "revoke", "reason": reason})
    assert response.status_code == 303
    done = await reviewer.get(response.headers["location"])
    assert "处理结果已保存" in done.text and f"撤销入库：{reason}" in done.text
    assert "保存处理结果" not in done.text
    row = await listing_row(listing_id)
    assert row["state"] == State.exited and row["exit_reason"] == "safety_incident"
    assert row["banned_until"] is not None
    assert "已退出" in (await school.get("/school/incidents")).text
    other = await login("reviewer_binhai")
    assert (await other.get(f"/bureau/incidents/{incident_id}")).status_code == 404


async def test_a_reviewer_reports_an_incident_from_the_listing_page(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    reviewer = await login("reviewer")
    detail = await reviewer.get(f"/bureau/listings/{listing_id}")
    assert f'href="/bureau/incidents/new?listing={listing_id}">报告安全事故' in detail.text
    approver_detail = await (await login("approver")).get(f"/bureau/listings/{listing_id}")
    assert "报告安全事故" not in approver_detail.text
    form = await reviewer.get(f"/bureau/incidents/new?listing={listing_id}")
    assert form.status_code == 200 and "天津市和平区飞跃青少年篮球俱乐部有限公司" in form.text
    short = {"listing": str(listing_id), "severity": "major", "occurred_on": yesterday()}
    refused = await reviewer.post("/bureau/incidents/new", data={**short, "description": "摔伤"})
    assert refused.status_code == 422 and 'value="major" checked' in refused.text
    assert (await listing_row(listing_id))["state"] == State.listed
    done = await reviewer.post("/bureau/incidents/new", data={**short, "description": ACCOUNT})
    assert done.status_code == 303
    assert done.headers["location"].startswith("/bureau/incidents/")
    assert (await listing_row(listing_id))["state"] == State.suspended
    row = await Incident.select().first()
    assert row["reporter_role"] == "reviewer" and row["school"] is None
    elsewhere = await (await login("reviewer_binhai")).get(
        f"/bureau/incidents/new?listing={listing_id}"
    )
    assert elsewhere.status_code == 404
