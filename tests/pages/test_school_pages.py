"""School pages through HTTP: my engagements, the engagement form, exit notices."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from registry.tables import Engagement
from tests.api.conftest import Login, login  # noqa: F401  (the fixture)
from tests.cast import T0, actor, listing_in
from tests.factories import step
from workflows.states import State


def posted(listing_id: int, **changes: Any) -> dict[str, Any]:
    """What a browser posts from a filled-in engagement form (one blank schedule row)."""
    data: dict[str, Any] = {
        "listing": str(listing_id),
        "courses": ["少儿篮球"],
        "term": "2026-2027学年第一学期",
        "grade_band": "upper_primary",
        "students": "30",
        "fee_per_student_month": "150",
        "slot_weekday": ["1", "3", ""],
        "slot_start": ["16:30", "16:30", ""],
        "slot_end": ["18:30", "18:30", ""],
    }
    return {**data, **changes}


async def test_dashboard_links_to_the_whitelist(login: Login) -> None:  # noqa: F811
    await listing_in(State.listed)
    school = await login("school")
    page = await school.get("/school")
    assert page.status_code == 200
    assert '<a href="/school" aria-current="page">我的合作</a>' in page.text
    assert '<a href="/">在白名单中查找机构</a>' in page.text
    assert "天津市和平区飞跃青少年篮球俱乐部有限公司" in page.text
    assert "还没有登记合作机构" in page.text


async def test_the_form_offers_the_approved_courses(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    page = await (await login("school")).get(f"/school/engagements/new?listing={listing_id}")
    assert page.status_code == 200
    assert 'name="courses" value="少儿篮球"' in page.text
    assert "收费上限：课后服务 180 元/生/月" in page.text
    assert "初中" not in page.text.split('name="grade_band"')[1].split("</select>")[0]


async def test_an_engagement_recorded_through_the_form(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    school = await login("school")
    response = await school.post("/school/engagements", data=posted(listing_id))
    assert response.status_code == 303 and response.headers["location"] == "/school?done=created"
    row = await Engagement.select().output(load_json=True).first()
    assert row["students"] == 30 and len(row["weekly_schedule"]) == 2
    page = await school.get("/school?done=created")
    assert "合作已登记" in page.text and "周一 16:30–18:30" in page.text


async def test_a_refused_form_keeps_the_typed_values(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    school = await login("school")
    data = posted(listing_id, fee_per_student_month="200", students="37", slot_end=["17:30"])
    response = await school.post("/school/engagements", data=data)
    assert response.status_code == 422
    assert "超过和平区课后服务收费上限180元/生/月" in response.text
    assert "课后服务结束时间不得早于18:30" in response.text
    assert 'name="fee_per_student_month" inputmode="numeric" value="200"' in response.text
    assert 'name="students" inputmode="numeric" value="37"' in response.text
    assert 'value="2026-2027学年第一学期"' in response.text
    assert 'value="少儿篮球" checked' in response.text
    assert 'name="slot_end" value="17:30"' in response.text
    assert await Engagement.count() == 0


async def test_a_provider_under_rectification_is_refused_up_front(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.under_rectification)
    page = await (await login("school")).get(f"/school/engagements/new?listing={listing_id}")
    assert "该机构整改中，暂停新增合作" in page.text


async def test_edit_and_delete_through_the_pages(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    school = await login("school")
    await school.post("/school/engagements", data=posted(listing_id))
    engagement_id = (await Engagement.select(Engagement.id).first())["id"]
    edit = f"/school/engagements/{engagement_id}/edit"
    page = await school.get(edit)
    assert page.status_code == 200 and 'value="30"' in page.text
    saved = await school.post(edit, data=posted(listing_id, students="45"))
    assert saved.status_code == 303
    assert (await Engagement.select(Engagement.students).first())["students"] == 45
    other = await login("school_binhai")
    assert (await other.get(edit)).status_code == 404
    assert (await other.post(f"/school/engagements/{engagement_id}/delete")).status_code == 404
    deleted = await school.post(f"/school/engagements/{engagement_id}/delete")
    assert deleted.status_code == 303 and await Engagement.count() == 0


async def test_the_dashboard_tells_the_school_when_its_provider_exits(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    school = await login("school")
    await school.post("/school/engagements", data=posted(listing_id))
    await step(
        listing_id,
        "revoke",
        await actor("reviewer"),
        reason="发生安全事故",
        params={"exit_reason": "safety_incident"},
        now=T0 + timedelta(days=40),
    )
    page = await school.get("/school")
    assert "合作机构变动提醒" in page.text
    assert "天津市和平区飞跃青少年篮球俱乐部有限公司已于4月11日退出白名单" in page.text


async def test_school_pages_need_a_school_login(login: Login) -> None:  # noqa: F811
    provider = await login("provider")
    assert (await provider.get("/school")).status_code == 403


async def test_the_form_does_not_show_a_provider_off_the_whitelist(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.in_review)
    page = await (await login("school")).get(f"/school/engagements/new?listing={listing_id}")
    assert "该机构当前不在白名单内" in page.text
    assert "飞跃" not in page.text and 'name="courses"' not in page.text
