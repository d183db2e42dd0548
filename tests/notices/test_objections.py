"""Objections: the rules on names, contacts and facts; rate limits; the public page's form."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import httpx
import pytest

from registry.notices import objections
from registry.notices.objections import ObjectionError, ObjectionIn, client_hash, problems_of
from registry.tables import Objection
from tests.cast import T0, actor, listing_in, listing_row
from workflows import timesource
from workflows.clock import tick
from workflows.states import State

FACTS = "该机构教练在课后服务时间讲授数学新课，并向家长推销收费的寒假集训班，有照片和收据为证。"


def _fields(**changes: str) -> list[str]:
    data = {"name": "王晓东", "contact": "13820001234", "facts": FACTS, **changes}
    return [p.field for p in problems_of(ObjectionIn(**data))]


@pytest.mark.parametrize(
    "name",
    ["匿名", "anonymous", "Anonymous", "无名氏", "群众", "热心群众", "知情人", "张某", "王某某",
     "一位家长", "123456", "!!!", "——", "某", "x" * 31],
)  # fmt: skip
def test_names_that_name_nobody_are_refused(name: str) -> None:
    assert _fields(name=name) == ["name"]


@pytest.mark.parametrize("name", ["王晓东", "欧阳娜娜", "Li Lei", "阿依古丽·买买提", "李四"])
def test_real_names_pass(name: str) -> None:
    assert _fields(name=name) == []


def test_name_or_organisation_is_required() -> None:
    assert _fields(name="", organisation_name="") == ["name"]
    assert _fields(name="", organisation_name="天津市和平区岳阳道小学家长委员会") == []
    assert _fields(name="", organisation_name="匿名单位") == ["organisation_name"]
    assert _fields(name="", organisation_name="群众") == ["organisation_name"]
    assert _fields(name="", organisation_name="天津市和平区群众艺术馆") == []


@pytest.mark.parametrize(
    "contact", ["13820001234", "+8613820001234", "138 2000 1234", "022-23456789",
                "02223456789", "022-23456789-801", "wang.xd@example.com.cn"],
)  # fmt: skip
def test_contacts_that_reach_someone_pass(contact: str) -> None:
    assert _fields(contact=contact) == []


@pytest.mark.parametrize("contact", ["", "12345", "23820001234", "wang@", "微信 wxd123", "1" * 70])
def test_contacts_that_reach_nobody_are_refused(contact: str) -> None:
    assert _fields(contact=contact) == ["contact"]


def test_facts_are_bounded() -> None:
    assert _fields(facts="") == ["facts"]
    assert _fields(facts="收费太贵 " * 4) == ["facts"]  # 16 characters without the spaces
    assert _fields(facts="收" * 20) == []
    assert _fields(facts="收" * 2000) == []
    assert _fields(facts="收" * 2001) == ["facts"]


def test_every_problem_at_once() -> None:
    assert _fields(name="匿名", contact="", facts="太贵") == ["name", "contact", "facts"]


def test_client_hash_is_salted() -> None:
    hashed = client_hash("203.0.113.7")
    assert hashed == client_hash("203.0.113.7") != client_hash("203.0.113.8")
    assert hashed != hashlib.sha256(b"203.0.113.7").hexdigest()


async def test_rate_limits_count_per_address(db: object) -> None:
    listing_id = await listing_in(State.in_public_notice)
    data = ObjectionIn(name="王晓东", contact="13820001234", facts=FACTS)
    now = timesource.now()
    for _ in range(objections.PER_LISTING_PER_HOUR):
        await objections.lodge(listing_id, data, "198.51.100.1", now=now)
    with pytest.raises(ObjectionError) as refused:
        await objections.lodge(listing_id, data, "198.51.100.1", now=now)
    assert refused.value.status_code == 429
    # Another address is not held back, and an hour later the first may object again.
    await objections.lodge(listing_id, data, "198.51.100.2", now=now)
    await objections.lodge(listing_id, data, "198.51.100.1", now=now + timedelta(minutes=61))
    assert await Objection.count() == objections.PER_LISTING_PER_HOUR + 2


async def test_rate_limit_holds_under_concurrent_requests(db: object) -> None:
    listing_id = await listing_in(State.in_public_notice)
    data = ObjectionIn(name="王晓东", contact="13820001234", facts=FACTS)
    results = await asyncio.gather(
        *[objections.lodge(listing_id, data, "198.51.100.9") for _ in range(8)],
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, ObjectionError)]
    assert [r.status_code for r in refused] == [429] * 3
    assert await Objection.count() == objections.PER_LISTING_PER_HOUR


async def test_objections_for_lists_them_oldest_first(db: object) -> None:
    listing_id = await listing_in(State.in_public_notice)
    first = await objections.lodge(
        listing_id, ObjectionIn(name="王晓东", contact="13820001234", facts=FACTS), "a"
    )
    second = await objections.lodge(
        listing_id, ObjectionIn(organisation_name="岳阳道小学家委会", contact="022-23456789",
                                facts=FACTS), "b",
    )  # fmt: skip
    rows = await objections.objections_for(listing_id)
    assert [r["id"] for r in rows] == [first, second]
    assert [r["contact"] for r in rows] == ["138****1234", "022****6789"]
    assert await objections.may_see_objections(await actor("reviewer"), listing_id)
    assert not await objections.may_see_objections(await actor("reviewer_binhai"), listing_id)
    assert not await objections.may_see_objections(await actor("city"), listing_id)


async def test_uphold_marks_the_objection_and_rejects_in_one_step(db: object) -> None:
    listing_id = await listing_in(State.in_public_notice)
    objection_id = await objections.lodge(
        listing_id, ObjectionIn(name="王晓东", contact="13820001234", facts=FACTS), "a"
    )
    outcome = await objections.uphold(objection_id, await actor("reviewer"))
    assert outcome.state == State.rejected
    row = await listing_row(listing_id)
    assert row["state"] == State.rejected and "异议成立" in row["provider_message"]
    assert row["appeal_due"] is not None  # an upheld objection can be appealed like a rejection


# The page form -------------------------------------------------------------------------------


async def _token(client: httpx.AsyncClient) -> str:
    await client.get("/notices")
    return client.cookies["registry_csrf"]


async def test_notices_page_shows_running_notices(anonymous: httpx.AsyncClient) -> None:
    on_notice = await listing_in(State.in_public_notice)
    await listing_in(State.listed, organisation="other")
    page = await anonymous.get("/notices")
    assert page.status_code == 200
    assert "天津市和平区飞跃青少年篮球俱乐部有限公司" in page.text
    assert "天津滨海墨香书法培训中心" not in page.text
    row = await listing_row(on_notice)
    start = row["notice_start"]
    assert f"{start.year}年{start.month}月{start.day}日" in page.text
    assert f'action="/notices/{on_notice}/objections"' in page.text
    assert "/api/v1/notices.pdf?district=120101" in page.text
    empty = await anonymous.get("/notices", params={"district": "120116"})
    assert "目前没有正在公示的机构" in empty.text
    assert (await anonymous.get("/notices", params={"district": "999999"})).status_code == 404


async def test_page_objection_is_lodged_and_redirects(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.in_public_notice)
    form = {"name": "王晓东", "contact": "13820001234", "facts": FACTS, "district": "120101"}
    response = await anonymous.post(
        f"/notices/{listing_id}/objections", data={**form, "_csrf_token": await _token(anonymous)}
    )
    assert response.status_code == 303
    assert response.headers["location"].startswith("/notices?submitted=1&district=120101")
    assert "异议已提交" in (await anonymous.get(response.headers["location"])).text
    assert await Objection.count() == 1


async def test_page_refusal_keeps_what_was_typed(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.in_public_notice)
    form = {"name": "匿名", "contact": "022-23456789", "facts": "太贵了"}
    response = await anonymous.post(
        f"/notices/{listing_id}/objections", data={**form, "_csrf_token": await _token(anonymous)}
    )
    assert response.status_code == 422
    assert "不受理匿名异议" in response.text and "至少20个字" in response.text
    assert 'value="022-23456789"' in response.text and ">太贵了</textarea>" in response.text
    assert await Objection.count() == 0


async def test_page_form_needs_its_csrf_token(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.in_public_notice)
    response = await anonymous.post(
        f"/notices/{listing_id}/objections",
        data={"name": "王晓东", "contact": "13820001234", "facts": FACTS},
    )
    assert response.status_code == 403 and "表单已过期" in response.text


async def test_notice_with_a_pending_objection_waits_for_the_reviewer(db: object) -> None:
    listing_id = await listing_in(State.in_public_notice)
    objection_id = await objections.lodge(
        listing_id, ObjectionIn(name="王晓东", contact="13820001234", facts=FACTS), "a"
    )
    assert await tick(T0 + timedelta(days=30)) == {}
    assert (await listing_row(listing_id))["state"] == State.in_public_notice
    await objections.dismiss(objection_id, await actor("reviewer"), "经核实，反映情况不属实")
    assert await tick(T0 + timedelta(days=30)) == {"end_notice": 1}
    assert (await listing_row(listing_id))["state"] == State.listed
