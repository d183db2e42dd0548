"""Complaints through the pages: the public form, the provider page's link, bureau handling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from registry.oversight import complaints
from registry.oversight.complaints import RateLimited
from registry.tables import AuditEvent, Complaint
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


async def _reveal_events() -> list[dict[str, Any]]:
    return await (
        AuditEvent.select()
        .where(AuditEvent.action == "personal_data.revealed")
        .output(load_json=True)
    )


async def test_the_senders_contact_is_revealed_only_with_a_reason_and_audited(
    login: Login,  # noqa: F811
) -> None:
    listing_id = await listing_in(State.listed)
    lodged = await complaints.lodge(listing_id, CONTENT, "13820001234", "10.0.0.1")
    page_url = f"/bureau/complaints/{lodged['id']}"
    reveal_url = f"{page_url}/contact/reveal"
    reviewer = await login("reviewer")

    # Masked by default, with the reveal form for the district's reviewer.
    page = await reviewer.get(page_url)
    assert "138****1234" in page.text and "13820001234" not in page.text
    assert f'action="{reveal_url}"' in page.text and "查看完整联系方式" in page.text

    # No reason (or too short a one): refused next to the field, nothing shown or recorded.
    for reason in ("", "核实"):
        refused = await reviewer.post(reveal_url, data={"reason": reason})
        assert refused.status_code == 422
        assert "请说明查看完整信息的理由（至少5个字）" in refused.text
        assert "13820001234" not in refused.text and "138****1234" in refused.text
    assert await _reveal_events() == []

    # With a reason: the full number on this answer only, and who, when and why in the trail.
    reason = "电话联系投诉人核实迟到情况"
    shown = await reviewer.post(reveal_url, data={"reason": reason})
    assert shown.status_code == 200, shown.text
    assert "13820001234" in shown.text and "本次查看已记入办理记录" in shown.text
    assert "no-store" in shown.headers["cache-control"]
    assert "13820001234" not in (await reviewer.get(page_url)).text  # masked again
    [event] = await _reveal_events()
    assert (event["actor_name"], event["role"], event["reason"]) == ("reviewer", "reviewer", reason)
    assert event["actor_id"] == CAST.users["reviewer"] and event["occurred_at"] is not None
    assert event["listing"] == listing_id
    assert event["payload"] == {
        "listing": listing_id,
        "field": f"complaints.{lodged['id']}.contact",
    }
    assert "13820001234" not in str(event)
    # The listing's history names the reveal, never the number.
    history = await reviewer.get(f"/bureau/listings/{listing_id}")
    assert "查看完整个人信息" in history.text and "13820001234" not in history.text


async def test_no_one_else_reveals_a_senders_contact(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    lodged = await complaints.lodge(listing_id, CONTENT, "13820001234", "10.0.0.1")
    page_url = f"/bureau/complaints/{lodged['id']}"
    data = {"reason": "电话联系投诉人核实迟到情况"}
    # Another district's reviewer: the complaint does not exist for it.
    other = await login("reviewer_binhai")
    assert (await other.post(f"{page_url}/contact/reveal", data=data)).status_code == 404
    # The district's approver and the city read the complaint masked, and may not reveal.
    for who in ("approver", "city"):
        client = await login(who)
        page = await client.get(page_url)
        assert page.status_code == 200 and "138****1234" in page.text
        assert "/contact/reveal" not in page.text
        refused = await client.post(f"{page_url}/contact/reveal", data=data)
        assert refused.status_code == 403, who
        assert "13820001234" not in refused.text
    # Providers and schools have no bureau pages.
    for who in ("provider", "school"):
        client = await login(who)
        assert (await client.post(f"{page_url}/contact/reveal", data=data)).status_code == 404
    assert await _reveal_events() == []


async def test_a_complaint_without_a_contact_has_nothing_to_reveal(
    login: Login,  # noqa: F811
) -> None:
    listing_id = await listing_in(State.listed)
    lodged = await complaints.lodge(listing_id, CONTENT, "", "10.0.0.1")
    reviewer = await login("reviewer")
    page_url = f"/bureau/complaints/{lodged['id']}"
    assert "/contact/reveal" not in (await reviewer.get(page_url)).text
    refused = await reviewer.post(
        f"{page_url}/contact/reveal", data={"reason": "电话联系投诉人核实迟到情况"}
    )
    assert refused.status_code == 422 and "投诉人未留联系方式" in refused.text
    assert await _reveal_events() == []
