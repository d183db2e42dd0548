"""The uniform workflow endpoints: list, read, actions, transitions, and their error codes."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import pytest

from registry.tables import AuditEvent
from tests.api.conftest import Client
from tests.cast import CAST, HEPING, actor, listing_in
from tests.factories import at, new_listing, state_of, step, valid_application
from workflows import engine
from workflows.audit import verify
from workflows.states import State
from workflows.timesource import local_today


async def test_health_names_engine_and_schema_version(anonymous: Client, db: object) -> None:
    response = await anonymous.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["engine"] == db.engine_type  # type: ignore[attr-defined]
    assert body["schema_version"] == "application.v1+policy.v1"


async def test_openapi_schema_is_served(anonymous: Client) -> None:
    response = await anonymous.get("/schema/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/listings/{listing_id}/transitions" in response.json()["paths"]


async def test_login_with_wrong_password_names_the_field(anonymous: Client) -> None:
    response = await anonymous.post(
        "/api/v1/auth/login", json={"username": "reviewer", "password": "wrong-password"}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["field"] == "password"


async def test_listings_require_login(anonymous: Client) -> None:
    response = await anonymous.get("/api/v1/listings")
    assert response.status_code == 401
    assert response.json()["detail"] == "请先登录"


async def test_reviewer_sees_own_district_without_drafts(login, db: object) -> None:
    submitted = await listing_in(State.submitted)
    draft = await listing_in(State.draft, organisation="other")
    elsewhere = await listing_in(State.submitted, district="120116")
    client = await login("reviewer")
    body = (await client.get("/api/v1/listings")).json()
    ids = {item["id"] for item in body["items"]}
    assert submitted in ids
    assert draft not in ids and elsewhere not in ids
    item = next(i for i in body["items"] if i["id"] == submitted)
    assert item["district"] == HEPING
    assert item["organisation"]["id"] == CAST.organisations["feiyue"]
    assert item["state"] == "submitted" and item["version"] == 2
    assert (await client.get(f"/api/v1/listings/{draft}")).status_code == 404
    assert (await client.get(f"/api/v1/listings/{elsewhere}")).status_code == 404


async def test_city_sees_all_districts_and_filters(login, db: object) -> None:
    heping = await listing_in(State.in_review)
    binhai = await listing_in(State.in_review, district="120116")
    client = await login("city")
    everything = (await client.get("/api/v1/listings")).json()
    assert {heping, binhai} <= {i["id"] for i in everything["items"]}
    only_binhai = (await client.get("/api/v1/listings", params={"district": "120116"})).json()
    assert [i["id"] for i in only_binhai["items"]] == [binhai]
    by_state = (await client.get("/api/v1/listings", params={"state": "listed"})).json()
    assert by_state["total"] == 0
    bad = await client.get("/api/v1/listings", params={"state": "nonsense"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "state"


async def test_listing_pages_carry_total(login, db: object) -> None:
    for organisation in ("feiyue", "other"):
        await listing_in(State.submitted, organisation=organisation)
    client = await login("city")
    page = (await client.get("/api/v1/listings", params={"page_size": 1, "page": 2})).json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["page"] == 2


async def test_actions_list_what_the_user_may_do_now(login, db: object) -> None:
    listing_id = await listing_in(State.in_review)
    reviewer = await login("reviewer")
    body = (await reviewer.get(f"/api/v1/listings/{listing_id}/actions")).json()
    assert {a["action"] for a in body["actions"]} == {"request_supplement", "recommend", "reject"}
    provider = await login("provider")
    body = (await provider.get(f"/api/v1/listings/{listing_id}/actions")).json()
    assert [a["action"] for a in body["actions"]] == ["withdraw"]


async def test_transition_endpoint_status_codes(login, db: object) -> None:
    listing_id = await listing_in(State.submitted)
    _, version = await state_of(listing_id)
    url = f"/api/v1/listings/{listing_id}/transitions"
    provider = await login("provider")
    forbidden = await provider.post(url, json={"action": "accept", "version": version})
    assert forbidden.status_code == 403
    outsider = await login("reviewer_binhai")
    assert (
        await outsider.post(url, json={"action": "accept", "version": version})
    ).status_code == 404
    reviewer = await login("reviewer")
    refused = await reviewer.post(url, json={"action": "reject", "version": version})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "invalid_state"
    ok = await reviewer.post(url, json={"action": "accept", "version": version})
    assert ok.status_code == 200
    assert ok.json()["state"] == "in_review" and ok.json()["version"] == version + 1
    stale = await reviewer.post(url, json={"action": "recommend", "version": version})
    assert stale.status_code == 409
    malformed = await reviewer.post(url, json={"action": "recommend", "version": "x"})
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["field"] == "version"


async def test_writes_without_csrf_token_are_refused(login, db: object) -> None:
    listing_id = await listing_in(State.submitted)
    reviewer = await login("reviewer")
    del reviewer.headers["X-CSRFToken"]
    response = await reviewer.post(
        f"/api/v1/listings/{listing_id}/transitions", json={"action": "accept", "version": 2}
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert (await state_of(listing_id))[0] == "submitted"


async def test_twenty_concurrent_conflicting_transitions_one_wins(login, db: object) -> None:
    listing_id = await listing_in(State.in_review)
    _, version = await state_of(listing_id)
    first, second = await login("reviewer"), await login("reviewer2")
    events_before = await AuditEvent.count()
    url = f"/api/v1/listings/{listing_id}/transitions"
    requests = [
        first.post(url, json={"action": "recommend", "version": version})
        if n % 2
        else second.post(url, json={"action": "reject", "version": version, "reason": "资质不符"})
        for n in range(20)
    ]
    responses = await asyncio.gather(*requests)
    codes = Counter(r.status_code for r in responses)
    assert codes == {200: 1, 409: 19}
    state, new_version = await state_of(listing_id)
    assert new_version == version + 1
    assert state in ("pending_approval", "rejected")
    assert await AuditEvent.count() == events_before + 1
    assert (await verify()).ok


async def test_actions_show_why_submit_is_blocked(login, db: object) -> None:
    form = valid_application()
    del form["safety_plan"]
    listing_id = await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING], form)
    provider = await login("provider")
    body = (await provider.get(f"/api/v1/listings/{listing_id}/actions")).json()
    (submit,) = body["actions"]
    assert submit["action"] == "submit" and submit["available"] is False
    assert [p["field"] for p in submit["problems"]] == ["form.safety_plan"]
    response = await provider.post(
        f"/api/v1/listings/{listing_id}/transitions", json={"action": "submit", "version": 1}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "form.safety_plan"
    assert response.json()["errors"][0]["message"]


async def test_supplement_request_may_set_its_deadline(login, db: object) -> None:
    listing_id = await listing_in(State.in_review)
    _, version = await state_of(listing_id)
    reviewer = await login("reviewer")
    url = f"/api/v1/listings/{listing_id}/transitions"
    body = {"action": "request_supplement", "version": version, "reason": "补充场地证明"}
    bad = await reviewer.post(url, json={**body, "due": "2020-01-01"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "due"
    ok = await reviewer.post(url, json={**body, "due": "2099-12-31"})
    assert ok.status_code == 200
    assert ok.json()["supplement_due"] == "2099-12-31"


async def test_supplement_after_its_deadline_is_refused(login, db: object, now: datetime) -> None:
    listing_id = await listing_in(State.in_review)
    _, version = await state_of(listing_id)
    reviewer = await login("reviewer")
    url = f"/api/v1/listings/{listing_id}/transitions"
    due = local_today(now) + timedelta(days=14)
    asked = await reviewer.post(
        url,
        json={"action": "request_supplement", "version": version, "reason": "补充保险单",
              "due": due.isoformat()},
    )  # fmt: skip
    assert asked.status_code == 200
    # The provider answers the morning after the due date (the clock has not run yet).
    late = at(f"{due + timedelta(days=1)}T09:00:00")
    with pytest.raises(engine.Refused) as refused:
        await step(listing_id, "resubmit", await actor("provider"), now=late)
    assert refused.value.errors[0].code == "deadline_passed"
    assert due.isoformat() in refused.value.errors[0].message
    await step(listing_id, "resubmit", await actor("provider"), now=at(f"{due}T20:00:00"))
    assert (await state_of(listing_id))[0] == State.in_review
