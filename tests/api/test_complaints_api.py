"""Complaints over JSON: the public lodges them without a login; reviewers handle them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from registry.access.personal_data import CONTACT, plain
from registry.tables import AuditEvent, Complaint
from tests.api.conftest import Login
from tests.cast import BINHAI, CAST, listing_in
from workflows.states import State

URL = "/api/v1/complaints"
CONTENT = "机构老师上课经常迟到半小时，还要求家长额外购买教材。"


def body(listing_id: int, **changes: Any) -> dict[str, Any]:
    return {"listing_id": listing_id, "content": CONTENT, "contact": "13820001234", **changes}


async def lodged(client: httpx.AsyncClient, listing_id: int, **changes: Any) -> int:
    response = await client.post(URL, json=body(listing_id, **changes))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_public_complaint_is_stored_and_audited_without_its_text(
    anonymous: httpx.AsyncClient,
) -> None:
    listing_id = await listing_in(State.listed)
    response = await anonymous.post(URL, json=body(listing_id))
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["status"] == "received" and out["submitted_at"]
    row = await Complaint.select().where(Complaint.id == out["id"]).first()
    assert row["listing"] == listing_id and row["content"] == CONTENT
    # Stored sealed (registry.access.personal_data).
    assert "13820001234" not in row["contact"] and plain(row["contact"], CONTACT) == "13820001234"
    assert row["client_hash"] and "127.0.0.1" not in row["client_hash"]
    events = await AuditEvent.select().where(AuditEvent.action == "complaint.lodged")
    assert len(events) == 1 and events[0]["listing"] == listing_id
    trail = str(events[0])
    assert CONTENT not in trail and "13820001234" not in trail


async def test_under_rectification_takes_complaints(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.under_rectification)
    await lodged(anonymous, listing_id, contact="")


@pytest.mark.parametrize("state", [State.in_public_notice, State.exited, State.suspended])
async def test_only_whitelisted_providers_take_complaints(
    anonymous: httpx.AsyncClient, state: State
) -> None:
    listing_id = await listing_in(state)
    response = await anonymous.post(URL, json=body(listing_id))
    assert response.status_code == 404
    assert response.json()["detail"] == "机构不存在或不在白名单上"
    assert await Complaint.count() == 0


async def test_unknown_listing_is_404(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post(URL, json=body(999_999))
    assert response.status_code == 404
    assert response.json()["detail"] == "机构不存在或不在白名单上"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"content": ""}, "content"),
        ({"content": "太贵了"}, "content"),
        ({"content": "很" * 2001}, "content"),
        ({"contact": "1" * 65}, "contact"),
    ],
)
async def test_content_and_contact_rules_name_the_field(
    anonymous: httpx.AsyncClient, changes: dict[str, str], field: str
) -> None:
    listing_id = await listing_in(State.listed)
    response = await anonymous.post(URL, json=body(listing_id, **changes))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await Complaint.count() == 0


async def test_fourth_complaint_in_ten_minutes_is_429(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    for _ in range(3):
        await lodged(anonymous, listing_id)
    response = await anonymous.post(URL, json=body(listing_id))
    assert response.status_code == 429
    assert "提交过于频繁" in response.json()["detail"]
    assert 0 < int(response.headers["Retry-After"]) <= 600
    assert await Complaint.count() == 3


async def test_reviewer_lists_only_its_district(login: Login, anonymous: httpx.AsyncClient) -> None:
    heping = await listing_in(State.listed)
    binhai = await listing_in(State.listed, organisation="other", district=BINHAI)
    mine = await lodged(anonymous, heping)
    await lodged(anonymous, binhai)
    reviewer = await login("reviewer")
    listed = (await reviewer.get(URL)).json()
    assert [c["id"] for c in listed["items"]] == [mine]
    assert listed["items"][0]["content"] == CONTENT and listed["items"][0]["status"] == "received"
    assert (await reviewer.get(URL, params={"listing": binhai})).status_code == 404
    assert (await reviewer.get(URL, params={"listing": heping})).json()["total"] == 1
    assert (await reviewer.get(URL, params={"status": "upheld"})).json()["total"] == 0
    city = await login("city")
    assert (await city.get(URL)).json()["total"] == 2
    assert (await (await login("provider")).get(URL)).status_code == 403
    assert (await anonymous.get(URL)).status_code == 401


async def test_reviewer_of_another_district_cannot_handle(
    login: Login, anonymous: httpx.AsyncClient
) -> None:
    complaint_id = await lodged(anonymous, await listing_in(State.listed))
    other = await login("reviewer_binhai")
    assert (await other.get(f"{URL}/{complaint_id}")).status_code == 404
    assert (await other.post(f"{URL}/{complaint_id}/investigate")).status_code == 404
    decision = {"outcome": "dismissed", "reply": "不属实"}
    response = await other.post(f"{URL}/{complaint_id}/decision", json=decision)
    assert response.status_code == 404
    row = await Complaint.select().where(Complaint.id == complaint_id).first()
    assert row["status"] == "received"


async def test_investigate_uphold_and_no_second_decision(
    login: Login, anonymous: httpx.AsyncClient
) -> None:
    listing_id = await listing_in(State.listed)
    complaint_id = await lodged(anonymous, listing_id)
    reviewer = await login("reviewer")
    response = await reviewer.post(f"{URL}/{complaint_id}/investigate")
    assert response.status_code == 200 and response.json()["status"] == "investigating"
    missing = await reviewer.post(f"{URL}/{complaint_id}/decision", json={"outcome": "upheld"})
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["reply"]
    decision = {
        "outcome": "upheld",
        "reply": "经核查属实，已责令整改并退还费用。",
        "fee_violation": True,
    }
    response = await reviewer.post(f"{URL}/{complaint_id}/decision", json=decision)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["status"] == "upheld" and out["fee_violation"] is True
    assert out["reply"] == decision["reply"] and out["decided_at"]
    assert out["handled_by"] == CAST.users["reviewer"]
    again = {"outcome": "dismissed", "reply": "重新认定"}
    response = await reviewer.post(f"{URL}/{complaint_id}/decision", json=again)
    assert response.status_code == 422
    assert "不能重复处理" in response.json()["detail"]
    events = await AuditEvent.select().where(AuditEvent.action == "complaint.upheld")
    assert len(events) == 1 and events[0]["listing"] == listing_id
    assert CONTENT not in str(events[0])


async def test_dismiss_without_investigation_and_approver_may_not_decide(
    login: Login, anonymous: httpx.AsyncClient
) -> None:
    complaint_id = await lodged(anonymous, await listing_in(State.listed))
    decision = {"outcome": "dismissed", "reply": "经核查，反映情况不属实。", "fee_violation": True}
    approver = await login("approver")
    assert (await approver.get(f"{URL}/{complaint_id}")).status_code == 200
    response = await approver.post(f"{URL}/{complaint_id}/decision", json=decision)
    assert response.status_code == 403
    response = await (await login("reviewer")).post(f"{URL}/{complaint_id}/decision", json=decision)
    assert response.status_code == 200
    # A complaint that did not hold records no overcharging.
    assert response.json()["status"] == "dismissed" and response.json()["fee_violation"] is False
    assert await AuditEvent.count().where(AuditEvent.action == "complaint.dismissed") == 1
