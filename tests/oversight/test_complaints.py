"""Complaints through the pages: the public form, the provider page's link, bureau handling."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from registry.oversight import complaints
from registry.oversight.complaints import RateLimited
from registry.tables import Complaint
from tests.api.conftest import Login, login  # noqa: F401  (the fixture)
from tests.cast import BINHAI, CAST, T0, listing_in
from workflows.engine import NotFound
from workflows.states import State

CONTENT = "机构老师上课经常迟到半小时，还要求家长额外购买教材。"


async def _token(client: httpx.AsyncClient, listing_id: int) -> str:
    await client.get(f"/complaints/new?listing={listing_id}")
    return client.cookies["registry_csrf"]


async def test_provider_page_links_each_district_to_the_form(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    page = await anonymous.get(f"/providers/{CAST.organisations['feiyue']}")
    assert page.status_code == 200
    assert f'href="/complaints/new?listing={listing_id}"' in page.text
    form = await anonymous.get(f"/complaints/new?listing={listing_id}")
    assert form.status_code == 200
    assert "天津市和平区飞跃青少年篮球俱乐部有限公司" in form.text
    assert "和平区教育局" in form.text


async def test_form_round_trip_error_then_thanks(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    token = await _token(anonymous, listing_id)
    typed = {"listing": str(listing_id), "content": "太贵了", "contact": "王女士 13820001234"}
    response = await anonymous.post("/complaints/new", data={**typed, "_csrf_token": token})
    assert response.status_code == 422
    assert "投诉内容至少10个字" in response.text
    assert 'value="王女士 13820001234"' in response.text and ">太贵了</textarea>" in response.text
    assert await Complaint.count() == 0
    typed["content"] = CONTENT
    response = await anonymous.post("/complaints/new", data={**typed, "_csrf_token": token})
    assert response.status_code == 303
    thanks = await anonymous.get(response.headers["location"])
    number = (await Complaint.select(Complaint.id).first())["id"]
    assert "投诉已受理" in thanks.text and f">{number}</strong>" in thanks.text


async def test_form_needs_its_csrf_token(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    data = {"listing": str(listing_id), "content": CONTENT}
    response = await anonymous.post("/complaints/new", data=data)
    assert response.status_code == 403 and "表单已过期" in response.text
    assert await Complaint.count() == 0


@pytest.mark.parametrize("state", [State.in_public_notice, State.exited])
async def test_form_is_404_off_the_whitelist(anonymous: httpx.AsyncClient, state: State) -> None:
    listing_id = await listing_in(state)
    page = await anonymous.get(f"/complaints/new?listing={listing_id}")
    assert page.status_code == 404 and "机构不存在或不在白名单上" in page.text


async def test_form_shows_the_rate_limit(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    token = await _token(anonymous, listing_id)
    data = {"listing": str(listing_id), "content": CONTENT, "_csrf_token": token}
    for _ in range(3):
        assert (await anonymous.post("/complaints/new", data=data)).status_code == 303
    response = await anonymous.post("/complaints/new", data=data)
    assert response.status_code == 429 and "提交过于频繁" in response.text
    assert int(response.headers["Retry-After"]) > 0
    assert f">{CONTENT}</textarea>" in response.text


async def test_daily_limit_across_providers(db: object) -> None:
    listing_id = await listing_in(State.listed)
    for hour in range(20):
        await complaints.lodge(listing_id, CONTENT, "", "10.0.0.7", now=T0 + timedelta(hours=hour))
    later = T0 + timedelta(hours=20)
    with pytest.raises(RateLimited) as raised:
        await complaints.lodge(listing_id, CONTENT, "", "10.0.0.7", now=later)
    # The first of the twenty leaves the day's window 24 hours after it was sent.
    assert raised.value.retry_after == 4 * 3600
    await complaints.lodge(listing_id, CONTENT, "", "10.0.0.8", now=later)
    await complaints.lodge(
        listing_id, CONTENT, "", "10.0.0.7", now=T0 + timedelta(hours=24, seconds=1)
    )
    with pytest.raises(NotFound):
        await complaints.lodge(999_999, CONTENT, "", "10.0.0.9")


async def test_bureau_lists_and_decides_with_a_reply(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    other = await listing_in(State.listed, organisation="other", district=BINHAI)
    lodged = await complaints.lodge(listing_id, CONTENT, "13820001234", "10.0.0.1")
    await complaints.lodge(other, "滨海新区的机构违规开展数学学科培训。", "", "10.0.0.1")
    reviewer = await login("reviewer")
    console = await reviewer.get("/bureau")
    assert 'href="/bureau/complaints"' in console.text
    page = await reviewer.get("/bureau/complaints")
    assert page.status_code == 200
    assert (
        f'href="/bureau/complaints/{lodged["id"]}"' in page.text
        and "滨海新区的机构" not in page.text
    )
    assert "共 0 条" in (await reviewer.get("/bureau/complaints?status=upheld")).text
    handle = await reviewer.get(f"/bureau/complaints/{lodged['id']}")
    # The sender's number is masked: a reviewer reveals it on request (audited).
    assert CONTENT in handle.text and "138****1234" in handle.text
    assert "13820001234" not in handle.text
    response = await reviewer.post(f"/bureau/complaints/{lodged['id']}/investigate")
    assert response.status_code == 303
    assert "已转入调查" in (await reviewer.get(response.headers["location"])).text
    url = f"/bureau/complaints/{lodged['id']}/decision"
    response = await reviewer.post(url, data={"outcome": "upheld", "fee_violation": "yes"})
    assert response.status_code == 422 and "请填写给投诉人的答复意见" in response.text
    assert 'value="upheld" checked' in response.text
    reply = "经核查属实，已责令退还多收费用。"
    data = {"outcome": "upheld", "fee_violation": "yes", "reply": reply}
    response = await reviewer.post(url, data=data)
    assert response.status_code == 303
    done = await reviewer.get(response.headers["location"])
    assert "投诉查实" in done.text and reply in done.text and "保存处理决定" not in done.text
    row = await Complaint.select().where(Complaint.id == lodged["id"]).first()
    assert row["status"] == "upheld" and row["fee_violation"] is True
    other_reviewer = await login("reviewer_binhai")
    assert (await other_reviewer.get(f"/bureau/complaints/{lodged['id']}")).status_code == 404
    assert (await (await login("school")).get("/bureau/complaints")).status_code == 403
