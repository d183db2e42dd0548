"""One shaping of a transition's input: the API and the bureau's page write the same audit row."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from registry.tables import AuditEvent
from tests.api import conftest as api_fixtures
from tests.cast import listing_in, listing_row
from tests.factories import state_of
from workflows import timesource
from workflows.inputs import transition_input
from workflows.states import State

login = api_fixtures.login

ITEMS = ["1. 场地安全检查报告", "2. 教练健康证明"]


async def _event(listing_id: int) -> dict[str, Any]:
    row = await (
        AuditEvent.select(
            AuditEvent.reason, AuditEvent.message, AuditEvent.payload, AuditEvent.to_state
        )
        .where((AuditEvent.listing == listing_id) & (AuditEvent.action == "request_supplement"))
        .output(load_json=True)
        .first()
    )
    assert row is not None
    return row


async def test_supplement_request_from_page_and_api_writes_the_same_audit_row(
    login: api_fixtures.Login,
) -> None:
    due = (timesource.local_today() + timedelta(days=21)).isoformat()
    from_page = await listing_in(State.in_review)
    from_api = await listing_in(State.in_review, organisation="other")
    reviewer = await login("reviewer")

    url = f"/bureau/listings/{from_page}"
    page = (await reviewer.get(url)).text
    action = f"{url}/actions/request_supplement"
    form = page[page.index(f'action="{action}"') :]
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form[:2000]))
    posted = await reviewer.post(
        action,
        data={
            **hidden,
            # A browser sends a textarea's lines with CRLF, often with a blank line between.
            "supplement_list": "\r\n".join([ITEMS[0], "", ITEMS[1]]) + "\r\n",
            "due": due,
            "message": " 请在期限内上传。 ",
        },
    )
    assert posted.status_code == 303, posted.text

    _, version = await state_of(from_api)
    answered = await reviewer.post(
        f"/api/v1/listings/{from_api}/transitions",
        json={
            "action": "request_supplement",
            "version": version,
            "supplement_items": ITEMS,
            "due": due,
            "message": "请在期限内上传。",
        },
    )
    assert answered.status_code == 200, answered.text

    page_event, api_event = await _event(from_page), await _event(from_api)
    assert page_event == api_event
    assert page_event["reason"] == "1. 场地安全检查报告\n2. 教练健康证明"
    assert page_event["message"] == "1. 场地安全检查报告\n2. 教练健康证明\n\n请在期限内上传。"
    assert page_event["payload"]["set"] == {"supplement_due": due}
    for listing_id in (from_page, from_api):
        row = await listing_row(listing_id)
        assert row["provider_message"] == page_event["message"]
        assert row["supplement_due"].isoformat() == due


def test_an_internal_note_stays_the_reason_and_other_actions_ignore_the_list() -> None:
    shaped = transition_input(
        "request_supplement", reason=" 内部：场地待核 ", supplement_items=["营业执照"]
    )
    assert (shaped.reason, shaped.message) == ("内部：场地待核", "营业执照")
    # The items travel on to the engine, which stores each one for the provider to answer.
    assert shaped.params == {"items": ["营业执照"]}
    other = transition_input(
        "revoke",
        reason="事故",
        supplement_items=["营业执照"],
        exit_reason="safety_incident",
        due="",
    )
    assert (other.reason, other.message) == ("事故", "")
    assert other.params == {"exit_reason": "safety_incident"}


def test_the_reviewers_own_numbering_is_dropped_from_the_items() -> None:
    shaped = transition_input(
        "request_supplement",
        supplement_items=[
            "1. 场地安全检查报告",
            "（2）教练健康证明",
            "3、1.5小时课时",
            "- 保单",
        ],
    )
    assert shaped.params["items"] == ["场地安全检查报告", "教练健康证明", "1.5小时课时", "保单"]
