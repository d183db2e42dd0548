"""Malformed bodies on evaluation, complaint and incident endpoints: a clear 4xx, never a 500."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Client, Login
from tests.cast import HEPING, listing_in
from tests.evaluation.helpers import CYCLE, engagement
from workflows.states import State

NASTY: list[Any] = [
    [],
    "文本",
    None,
    0,
    {},
    {"score": "NaN", "reason": 1},
    {"score": 1e308},
    {"scores": {"teaching_quality": 1e308}, "tallies": {"very_satisfied": -1}},
    {"scores": [1, 2], "tallies": "多"},
    {"items": None, "grades": [], "name": {"a": 1}},
    {"name": "周期", "term": "学期", "starts_on": "2026-02-30", "ends_on": "昨天"},
    {"listing_id": "1; DROP TABLE listing", "content": None},
    {"listing_id": 2**70, "content": "内容" * 5000, "contact": ["x"]},
    {"action": "explode", "reason": None},
    {"severity": "catastrophic", "occurred_on": "2999-99-99", "description": 5},
    {"service_summary": {"nested": ["deep"] * 50}, "fee_compliance": "yes"},
]


async def _paths(login: Login) -> tuple[Client, list[tuple[str, str]]]:
    listing_id = await listing_in(State.listed)
    engaged = await engagement(listing_id)
    reviewer = await login("reviewer")
    cycle = (await reviewer.post(f"/api/v1/districts/{HEPING}/cycles", json=CYCLE)).json()["id"]
    paths = [
        ("put", f"/api/v1/districts/{HEPING}/rubric"),
        ("post", f"/api/v1/districts/{HEPING}/rubric/preview"),
        ("put", "/api/v1/rubric"),
        ("post", f"/api/v1/districts/{HEPING}/cycles"),
        ("put", f"/api/v1/cycles/{cycle}/feedback/{engaged}"),
        ("put", f"/api/v1/cycles/{cycle}/inspections/{listing_id}"),
        ("put", f"/api/v1/cycles/{cycle}/self-report/{listing_id}"),
        ("post", f"/api/v1/cycles/{cycle}/results/{listing_id}/confirm"),
        ("post", "/api/v1/complaints"),
        ("post", "/api/v1/incidents"),
        ("post", "/api/v1/incidents/1/resolve"),
        ("post", "/api/v1/complaints/1/decision"),
    ]
    return reviewer, paths


async def test_no_body_makes_a_server_error(login: Login) -> None:
    reviewer, paths = await _paths(login)
    clients = {
        "reviewer": reviewer,
        "approver": await login("approver"),
        "school": await login("school"),
        "provider": await login("provider"),
        "city": await login("city"),
    }
    for who, client in clients.items():
        for method, path in paths:
            for body in NASTY:
                response = await getattr(client, method)(path, json=body)
                # Some are acceptable (an empty self-report is saved as incomplete); none may
                # fail on the server, and every refusal has the API's error shape.
                assert response.status_code < 500, (who, method, path, body, response.text)
                if response.status_code >= 400:
                    answer = response.json()
                    assert answer["status_code"] == response.status_code
                    assert isinstance(answer["errors"], list), (who, path, body)


async def test_ids_beyond_any_row_are_not_found(login: Login) -> None:
    huge = 2**40
    reviewer = await login("reviewer")
    for method, path, body in (
        ("get", f"/api/v1/cycles/{huge}", None),
        ("get", f"/api/v1/cycles/{huge}/results", None),
        ("post", f"/api/v1/cycles/{huge}/close", None),
        ("put", f"/api/v1/cycles/{huge}/inspections/{huge}", {"score": 80}),
        ("post", f"/api/v1/cycles/{huge}/results/{huge}/confirm", {}),
        ("get", f"/api/v1/cycles/{huge}/results/{huge}/report.pdf", None),
        ("get", f"/api/v1/cycles/{huge}/summary.xlsx", None),
        ("get", f"/api/v1/complaints/{huge}", None),
        ("post", f"/api/v1/complaints/{huge}/investigate", None),
        ("get", f"/api/v1/incidents/{huge}", None),
        ("get", f"/bureau/evaluation/{huge}", None),
        ("get", f"/bureau/complaints/{huge}", None),
        ("get", f"/providers/{huge}", None),
    ):
        options = {} if body is None else {"json": body}
        response = await getattr(reviewer, method)(path, **options)
        assert response.status_code in (400, 404), (path, response.status_code, response.text)
    complaint = await reviewer.post(
        "/api/v1/complaints", json={"listing_id": huge, "content": "内容" * 10}
    )
    assert complaint.status_code in (400, 404)


async def test_an_id_too_large_for_the_database_is_a_404_everywhere(
    login: Login, anonymous: Client
) -> None:
    huge = 2**40
    reviewer = await login("reviewer")
    for client, path in (
        (reviewer, f"/api/v1/listings/{huge}"),
        (reviewer, f"/api/v1/listings/{huge}/actions"),
        (anonymous, f"/providers/{huge}"),
        (anonymous, f"/verify/{huge}"),
    ):
        response = await client.get(path)
        assert response.status_code in (400, 404), (path, response.status_code, response.text)
