"""Masked by default, for every role; one full number on request, with a reason, audited."""

from __future__ import annotations

import httpx

from registry.access.masking import mask_form
from registry.notices import objections
from registry.notices.objections import ObjectionIn
from registry.oversight import complaints
from registry.tables import AuditEvent
from tests.cast import listing_in, listing_row
from tests.factories import COACH_ID, individual_application
from tests.privacy.conftest import Login
from workflows.states import State

COACH_MASK = "1201************30"
PHONE = "13820001234"
FACTS = "该机构在公示材料中填报的场地面积与实际不符，实际场地不足申报面积的一半。"


def _reveal_url(listing_id: int) -> str:
    return f"/api/v1/listings/{listing_id}/personal-data/reveal"


async def _reveal_events() -> list[dict[str, object]]:
    return await (
        AuditEvent.select()
        .where(AuditEvent.action == "personal_data.revealed")
        .output(load_json=True)
    )


async def test_every_role_reads_the_form_masked(login: Login) -> None:
    listing_id = await listing_in(State.in_review)
    for who in ("reviewer", "approver", "city", "provider"):
        response = await (await login(who)).get(f"/api/v1/listings/{listing_id}")
        assert response.status_code == 200, who
        form = response.json()["form"]
        assert form["staff"][0]["resident_id"] == COACH_MASK, who
        assert form["organisation"]["contact_phone"] == "138****1234", who
        assert COACH_ID not in response.text and PHONE not in response.text, who


async def test_the_review_diff_is_masked(login: Login) -> None:
    listing_id = await listing_in(State.needs_supplement)
    provider = await login("provider")
    form_url = f"/api/v1/listings/{listing_id}/form"
    current = (await provider.get(form_url)).json()
    current["form"]["staff"][0]["resident_id"] = "120101199001011237"
    saved = await provider.put(
        form_url, json={"form": current["form"], "version": current["version"]}
    )
    assert saved.status_code == 200, saved.text
    diff = (await (await login("reviewer")).get(f"/api/v1/listings/{listing_id}/diff")).json()
    [change] = [c for c in diff["changes"] if c["path"] == "staff[0].resident_id"]
    assert (change["old"], change["new"]) == (COACH_MASK, "1201************37")


async def test_the_provider_edits_its_draft_in_full_and_sees_it_masked_once_sent(
    login: Login,
) -> None:
    provider = await login("provider")
    draft = await listing_in(State.draft)
    shown = (await provider.get(f"/api/v1/listings/{draft}/form")).json()
    assert shown["form"]["staff"][0]["resident_id"] == COACH_ID
    sent = await listing_in(State.in_review)
    shown = (await provider.get(f"/api/v1/listings/{sent}/form")).json()
    assert shown["form"]["staff"][0]["resident_id"] == COACH_MASK
    assert COACH_ID not in (await provider.get(f"/provider/applications/{sent}")).text


async def test_a_mask_saved_back_keeps_the_stored_number(login: Login) -> None:
    provider = await login("provider")
    listing_id = await listing_in(State.draft)
    url = f"/api/v1/listings/{listing_id}/form"
    current = (await provider.get(url)).json()
    masked = mask_form(current["form"])
    masked["organisation"]["contact_name"] = "张老师"
    body = {"form": masked, "version": current["version"], "form_hash": current["form_hash"]}
    saved = await provider.put(url, json=body)
    assert saved.status_code == 200, saved.text
    stored = (await listing_row(listing_id))["form"]
    assert stored["organisation"]["contact_name"] == "张老师"
    assert stored["staff"][0]["resident_id"] == COACH_ID
    assert stored["organisation"]["contact_phone"] == PHONE
    assert saved.json()["form_hash"] == (await provider.get(url)).json()["form_hash"]


async def test_a_mask_that_stands_for_no_stored_number_is_refused(login: Login) -> None:
    provider = await login("provider")
    listing_id = await listing_in(State.draft)
    url = f"/api/v1/listings/{listing_id}/form"
    current = (await provider.get(url)).json()
    form = current["form"]
    form["staff"][0]["resident_id"] = "1101************99"
    refused = await provider.put(url, json={"form": form, "version": current["version"]})
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "form.staff[0].resident_id"
    assert (await listing_row(listing_id))["form"]["staff"][0]["resident_id"] == COACH_ID


async def test_a_reviewer_reveals_one_number_and_the_trail_keeps_who_why_not_what(
    login: Login,
) -> None:
    listing_id = await listing_in(State.in_review)
    reviewer = await login("reviewer")
    reason = "核对身份证与无犯罪记录证明"
    response = await reviewer.post(
        _reveal_url(listing_id), json={"field": "staff[0].resident_id", "reason": reason}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "listing_id": listing_id,
        "field": "staff[0].resident_id",
        "value": COACH_ID,
    }
    assert "no-store" in response.headers["cache-control"]
    approver = await login("approver")
    phone = await approver.post(
        _reveal_url(listing_id),
        json={"field": "organisation.contact_phone", "reason": "电话核实场地情况"},
    )
    assert phone.json()["value"] == PHONE
    first, second = await _reveal_events()
    assert first["payload"] == {"listing": listing_id, "field": "staff[0].resident_id"}
    assert (first["actor_name"], first["role"], first["reason"]) == ("reviewer", "reviewer", reason)
    assert (second["actor_name"], second["role"]) == ("approver", "approver")
    assert first["occurred_at"] and first["listing"] == listing_id
    assert COACH_ID not in str(first) and PHONE not in str(second)


async def test_an_individuals_own_resident_id_is_revealed_from_the_form(login: Login) -> None:
    listing_id = await listing_in(State.in_review, form=individual_application())
    response = await (await login("reviewer")).post(
        _reveal_url(listing_id),
        json={"field": "organisation.resident_id", "reason": "核对申请人身份"},
    )
    assert response.status_code == 200 and response.json()["value"].startswith("120104")


async def test_reveal_is_refused_without_a_reason_or_a_field_and_nothing_is_recorded(
    login: Login,
) -> None:
    listing_id = await listing_in(State.in_review)
    reviewer = await login("reviewer")
    cases = [
        ({"field": "staff[0].resident_id", "reason": "看看"}, "reason"),
        ({"field": "staff[0].resident_id"}, "reason"),
        ({"field": "staff[9].resident_id", "reason": "核对身份证号码"}, "field"),
        ({"field": "staff[0].name", "reason": "核对身份证号码"}, "field"),
        ({"field": "complaints.999.contact", "reason": "核对身份证号码"}, "field"),
    ]
    for body, field in cases:
        response = await reviewer.post(_reveal_url(listing_id), json=body)
        assert response.status_code == 422, body
        assert [e["field"] for e in response.json()["errors"]] == [field], body
    assert await _reveal_events() == []


async def test_only_the_districts_reviewers_and_approvers_may_reveal(
    login: Login, anonymous: httpx.AsyncClient
) -> None:
    listing_id = await listing_in(State.listed)
    body = {"field": "staff[0].resident_id", "reason": "核对身份证与证明材料"}
    expected = {
        "city": 403,  # sees the listing, masked; the district decides
        "provider": 403,  # its own: in full in its draft only
        "school": 403,
        "reviewer_binhai": 404,
        "approver_binhai": 404,
        "provider_other": 404,
    }
    for who, status in expected.items():
        response = await (await login(who)).post(_reveal_url(listing_id), json=body)
        assert response.status_code == status, (who, response.text)
        assert COACH_ID not in response.text
    assert (await anonymous.post(_reveal_url(listing_id), json=body)).status_code in (401, 403)
    assert await _reveal_events() == []


async def test_a_senders_contact_is_masked_and_revealed_on_request(
    login: Login, anonymous: httpx.AsyncClient
) -> None:
    noticed = await listing_in(State.in_public_notice)
    objection_id = await objections.lodge(
        noticed, ObjectionIn(name="王晓东", contact=PHONE, facts=FACTS), "10.0.0.9"
    )
    listed = await listing_in(State.listed, organisation="other")
    complaint = await complaints.lodge(listed, FACTS, "13920005678", "10.0.0.9")
    reviewer = await login("reviewer")
    page = await reviewer.get(f"/bureau/listings/{noticed}")
    assert "138****1234" in page.text and PHONE not in page.text
    reason = {"reason": "电话联系异议人核实"}
    field = f"objections.{objection_id}.contact"
    shown = await reviewer.post(_reveal_url(noticed), json={"field": field, **reason})
    assert shown.json()["value"] == PHONE
    field = f"complaints.{complaint['id']}.contact"
    shown = await reviewer.post(_reveal_url(listed), json={"field": field, **reason})
    assert shown.json()["value"] == "13920005678"
    # A record of another listing is not reachable through this one.
    other = await reviewer.post(_reveal_url(noticed), json={"field": field, **reason})
    assert other.status_code == 422


async def test_the_bureau_page_shows_masks_and_reveals_one_number_with_a_reason(
    login: Login,
) -> None:
    listing_id = await listing_in(State.in_review)
    reviewer = await login("reviewer")
    page = await reviewer.get(f"/bureau/listings/{listing_id}")
    assert COACH_MASK in page.text and COACH_ID not in page.text and PHONE not in page.text
    assert page.text.count("查看完整号码</button>") == 4  # contact phone, 2 staff, emergency
    token = reviewer.cookies["registry_csrf"]
    url = f"/bureau/listings/{listing_id}/personal-data/reveal"
    too_short = await reviewer.post(
        url, data={"field": "staff[0].resident_id", "reason": "看", "_csrf_token": token}
    )
    assert too_short.status_code == 422 and "至少5个字" in too_short.text
    assert COACH_ID not in too_short.text
    shown = await reviewer.post(
        url,
        data={
            "field": "staff[0].resident_id",
            "reason": "核对无犯罪记录证明",
            "_csrf_token": token,
        },
    )
    assert shown.status_code == 200 and shown.text.count(COACH_ID) == 1
    assert "查看完整个人信息" in shown.text and "查看项目：staff[0].resident_id" in shown.text
    assert "no-store" in shown.headers["cache-control"]
    assert len(await _reveal_events()) == 1
    city_page = await (await login("city")).get(f"/bureau/listings/{listing_id}")
    assert "查看完整号码" not in city_page.text and COACH_ID not in city_page.text
