"""The bureau's review API: queues, assignment, per-course decisions, expert review, diffs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from registry.access.accounts import Scope, create_user
from registry.tables import AuditEvent, District, Listing, WhitelistEntry
from tests.api.conftest import Client
from tests.cast import BINHAI, CAST, HEPING, PASSWORD, PATHS, T0, actor, listing_in
from tests.factories import new_listing, state_of, step, valid_application
from workflows.audit import verify
from workflows.states import Role, State

FULL_MARKS = {"compliance": 25, "course_quality": 25, "staff": 20, "safety": 20, "experience": 10}


def _scores(total_off: int) -> dict[str, int]:
    """Full marks less `total_off` points taken from the first item."""
    return {**FULL_MARKS, "compliance": 25 - total_off}


async def _ids(client: Client, **params: Any) -> list[int]:
    response = await client.get("/api/v1/review/listings", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def _with_two_courses(state: State) -> int:
    """A listing of feiyue in Heping whose form offers basketball and calligraphy."""
    form = valid_application()
    second = {**form["courses"][0], "name": "硬笔书法", "category": "arts"}
    form["courses"].append(second)
    form["categories"] = ["sports", "arts"]
    listing_id = await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING], form)
    for action, who, options in PATHS[state]:
        await step(listing_id, action, await actor(who), **{"now": T0, **options})
    return listing_id


async def _require_expert_review(tolerance: int = 10) -> None:
    row = await (
        District.select(District.policy)
        .where(District.code == HEPING)
        .output(load_json=True)
        .first()
    )
    policy = {**row["policy"], "expert_review": {"required": True, "tolerance": tolerance}}
    await District.update({District.policy: policy}).where(District.code == HEPING)


async def _recommend(client: Client, listing_id: int) -> Any:
    _, version = await state_of(listing_id)
    return await client.post(
        f"/api/v1/listings/{listing_id}/transitions",
        json={"action": "recommend", "version": version},
    )


async def test_console_counts_and_filters_for_a_reviewer(login, db: object) -> None:
    submitted = await listing_in(State.submitted)
    in_review = await listing_in(State.in_review, organisation="other")
    elsewhere = await listing_in(State.submitted, district=BINHAI)
    form = valid_application()
    form["categories"] = ["arts"]
    await Listing.update({Listing.form: form}).where(Listing.id == in_review)
    reviewer = await login("reviewer")
    queues = (await reviewer.get("/api/v1/review/queues")).json()
    counts = {q["state"]: q["count"] for q in queues["queues"]}
    assert counts == {
        "submitted": 1,
        "in_review": 1,
        "needs_supplement": 0,
        "pending_approval": 0,
        "in_public_notice": 0,
    }
    assert queues["total"] == 2 and queues["queues"][0]["label"] == "已提交"
    assert await _ids(reviewer) == [submitted, in_review]
    assert await _ids(reviewer, state="in_review") == [in_review]
    assert await _ids(reviewer, category="arts") == [in_review]
    assert await _ids(reviewer, category="sports") == [submitted]
    assert await _ids(reviewer, submitted_from="2026-03-02", submitted_to="2026-03-02") == [
        submitted,
        in_review,
    ]
    assert await _ids(reviewer, submitted_from="2026-03-03") == []
    assert await _ids(reviewer, submitted_to="2026-03-01") == []
    put = await reviewer.put(
        f"/api/v1/listings/{in_review}/assignee", json={"reviewer_id": CAST.users["reviewer"]}
    )
    assert put.status_code == 200
    assert await _ids(reviewer, assigned="mine") == [in_review]
    assert await _ids(reviewer, assigned="unassigned") == [submitted]
    assert await _ids(reviewer, assigned=str(CAST.users["reviewer2"])) == []
    item = (await reviewer.get("/api/v1/review/listings", params={"assigned": "mine"})).json()
    assert item["items"][0]["assigned_to"]["username"] == "reviewer"
    assert item["items"][0]["categories"] == ["arts"]
    assert elsewhere not in await _ids(reviewer, state="all")
    bad = await reviewer.get("/api/v1/review/listings", params={"state": "nonsense"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "state"
    bad = await reviewer.get("/api/v1/review/listings", params={"assigned": "someone"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "assigned"


async def test_review_is_404_outside_the_district_and_for_providers(login, db: object) -> None:
    listing_id = await listing_in(State.in_review)
    for who in ("reviewer_binhai", "provider", "school"):
        client = await login(who)
        for path in ("diff", "expert-scores", "courses"):
            response = await client.get(f"/api/v1/listings/{listing_id}/{path}")
            assert response.status_code == 404, (who, path)
        put = await client.put(
            f"/api/v1/listings/{listing_id}/assignee", json={"reviewer_id": None}
        )
        assert put.status_code == 404
    binhai = await login("reviewer_binhai")
    assert (await binhai.get("/api/v1/review/queues")).json()["total"] == 0
    provider = await login("provider")
    assert (await provider.get("/api/v1/review/queues")).status_code == 404
    assert (await provider.get("/api/v1/review/listings")).status_code == 404


async def test_city_reads_every_district_but_cannot_decide(login, db: object) -> None:
    heping = await listing_in(State.in_review)
    binhai = await listing_in(State.submitted, district=BINHAI)
    city = await login("city")
    assert set(await _ids(city)) == {heping, binhai}
    assert await _ids(city, district=BINHAI) == [binhai]
    assert (await city.get(f"/api/v1/listings/{heping}/diff")).status_code == 200
    put = await city.put(f"/api/v1/listings/{heping}/assignee", json={"reviewer_id": None})
    assert put.status_code == 403
    strike = await city.put(
        f"/api/v1/listings/{heping}/courses/0", json={"approved": False, "reason": "x"}
    )
    assert strike.status_code == 403


async def test_assignment_to_a_reviewer_of_the_district_is_audited(login, db: object) -> None:
    listing_id = await listing_in(State.submitted)
    url = f"/api/v1/listings/{listing_id}/assignee"
    reviewer = await login("reviewer")
    response = await reviewer.put(url, json={"reviewer_id": CAST.users["reviewer2"]})
    assert response.status_code == 200
    assert response.json()["assigned_to"] == {
        "id": CAST.users["reviewer2"],
        "username": "reviewer2",
        "name": "reviewer2",  # no name recorded: shown by username
    }
    row = await Listing.select(Listing.assigned_to, Listing.version).where(Listing.id == listing_id)
    assert row[0] == {"assigned_to": CAST.users["reviewer2"], "version": 2}  # not a transition
    for outsider in ("approver", "reviewer_binhai"):
        refused = await reviewer.put(url, json={"reviewer_id": CAST.users[outsider]})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["code"] == "not_a_reviewer"
    approver = await login("approver")
    cleared = await approver.put(url, json={"reviewer_id": None})
    assert cleared.status_code == 200 and cleared.json()["assigned_to"] is None
    events = await AuditEvent.select(AuditEvent.action, AuditEvent.actor_name).where(
        (AuditEvent.listing == listing_id) & (AuditEvent.action == "review.assign")
    )
    assert [e["actor_name"] for e in events] == ["reviewer", "approver"]
    assert (await verify()).ok


async def test_course_strike_needs_a_reason_and_leaves_one_course(login, db: object) -> None:
    listing_id = await _with_two_courses(State.in_review)
    reviewer = await login("reviewer")
    url = f"/api/v1/listings/{listing_id}/courses"
    no_reason = await reviewer.put(f"{url}/1", json={"approved": False, "reason": "  "})
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    struck = await reviewer.put(
        f"{url}/1", json={"approved": False, "reason": "场地不适合书法教学"}
    )
    assert struck.status_code == 200
    assert [c["approved"] for c in struck.json()["courses"]] == [True, False]
    last = await reviewer.put(f"{url}/0", json={"approved": False, "reason": "都不要"})
    assert last.status_code == 422 and last.json()["errors"][0]["code"] == "last_course"
    assert (await reviewer.put(f"{url}/5", json={"approved": True})).status_code == 404
    event = (
        await AuditEvent.select(AuditEvent.reason, AuditEvent.payload)
        .where((AuditEvent.listing == listing_id) & (AuditEvent.action == "review.course_decision"))
        .output(load_json=True)
    )
    assert event == [
        {
            "reason": "场地不适合书法教学",
            "payload": {"course": 1, "name": "硬笔书法", "approved": False},
        }
    ]


async def test_struck_course_is_not_on_the_whitelist(login, db: object) -> None:
    listing_id = await _with_two_courses(State.pending_approval)
    url = f"/api/v1/listings/{listing_id}/courses/1"
    reviewer = await login("reviewer")
    late = await reviewer.put(url, json={"approved": False, "reason": "场地不适合"})
    assert late.status_code == 422 and late.json()["errors"][0]["code"] == "invalid_state"
    approver = await login("approver")
    assert (await approver.put(url, json={"approved": False, "reason": "场地不适合"})).is_success
    await step(listing_id, "approve", await actor("approver"), now=T0)
    await step(listing_id, "end_notice", await actor("clock"), now=T0 + timedelta(days=30))
    entry = await WhitelistEntry.select(WhitelistEntry.courses).where(
        WhitelistEntry.listing == listing_id
    )
    assert entry == [{"courses": "少儿篮球"}]


async def test_recommend_waits_for_two_scores_and_a_moderator(login, db: object) -> None:
    await _require_expert_review(tolerance=10)
    await create_user("reviewer3", PASSWORD, Role.reviewer, Scope(district_code=HEPING))
    listing_id = await listing_in(State.in_review)
    url = f"/api/v1/listings/{listing_id}/expert-scores"
    reviewer, reviewer2 = await login("reviewer"), await login("reviewer2")
    refused = await _recommend(reviewer, listing_id)
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "incomplete"
    first = await reviewer.post(url, json={"scores": _scores(0), "comment": "材料齐全"})
    assert first.status_code == 201 and first.json()["scores"][0]["total"] == 100
    blind = (await reviewer2.get(url)).json()
    assert blind["hidden"] == 1 and blind["scores"] == [] and blind["can_score"]
    again = await reviewer.post(url, json={"scores": _scores(0)})
    assert again.status_code == 422 and again.json()["errors"][0]["code"] == "already_scored"
    assert (await _recommend(reviewer, listing_id)).status_code == 422
    second = await reviewer2.post(url, json={"scores": _scores(20)})
    assert second.status_code == 201 and second.json()["cannot_score"]["code"] == "already_scored"
    refused = await _recommend(reviewer, listing_id)
    assert refused.json()["errors"][0]["code"] == "needs_moderator"
    approver = await login("approver")
    assert (await approver.post(url, json={"scores": _scores(5)})).status_code == 403
    moderator = await login("reviewer3")
    waiting = (await moderator.get(url)).json()
    assert waiting["moderator_next"] is True and waiting["can_score"] is True
    assert [s["total"] for s in waiting["scores"]] == [100, 80]  # the moderator sees both
    third = await moderator.post(url, json={"scores": _scores(10), "comment": "裁定"})
    assert third.status_code == 201
    body = third.json()
    assert body["complete"] is True and body["problems"] == []
    assert [(s["reviewer"]["username"], s["moderator"]) for s in body["scores"]] == [
        ("reviewer", False),
        ("reviewer2", False),
        ("reviewer3", True),
    ]
    assert (await _recommend(reviewer, listing_id)).status_code == 200
    actions = await AuditEvent.count().where(
        (AuditEvent.listing == listing_id) & (AuditEvent.action == "review.expert_score")
    )
    assert actions == 3


async def test_third_score_refused_when_the_two_agree(login, db: object) -> None:
    await _require_expert_review(tolerance=10)
    await create_user("reviewer3", PASSWORD, Role.reviewer, Scope(district_code=HEPING))
    listing_id = await listing_in(State.in_review)
    url = f"/api/v1/listings/{listing_id}/expert-scores"
    await (await login("reviewer")).post(url, json={"scores": _scores(0)})
    await (await login("reviewer2")).post(url, json={"scores": _scores(10)})
    third = await (await login("reviewer3")).post(url, json={"scores": _scores(3)})
    assert third.status_code == 422
    assert third.json()["errors"][0]["code"] == "no_moderator_needed"
    assert (await (await login("reviewer")).get(url)).json()["complete"] is True


async def test_expert_scores_are_checked_against_the_rubric(login, db: object) -> None:
    listing_id = await listing_in(State.in_review)
    url = f"/api/v1/listings/{listing_id}/expert-scores"
    reviewer = await login("reviewer")
    not_required = await reviewer.post(url, json={"scores": FULL_MARKS})
    assert not_required.json()["errors"][0]["code"] == "not_required"
    assert (await reviewer.get(url)).json()["required"] is False
    await _require_expert_review()
    bad = await reviewer.post(url, json={"scores": {**FULL_MARKS, "safety": 21, "luck": 3}})
    assert bad.status_code == 422
    errors = {(e["field"], e["code"]) for e in bad.json()["errors"]}
    assert errors == {("scores.luck", "unknown_item"), ("scores.safety", "range")}
    missing = await reviewer.post(url, json={"scores": {"compliance": 20}})
    assert {e["field"] for e in missing.json()["errors"]} == {
        f"scores.{item}" for item in FULL_MARKS if item != "compliance"
    }
    rubric = (await reviewer.get(url)).json()["rubric"]
    assert (rubric[0]["label"], rubric[0]["max_points"]) == ("资质与合规", 25)


async def test_diff_lists_the_fee_changed_in_a_supplement(login, db: object) -> None:
    listing_id = await listing_in(State.needs_supplement)
    form = valid_application()
    form["courses"][0]["fee_per_student_month"] = 170
    form["staff"][1]["role"] = "助理教练"
    await Listing.update({Listing.form: form}).where(Listing.id == listing_id)
    reviewer = await login("reviewer")
    unsent = (await reviewer.get(f"/api/v1/listings/{listing_id}/diff")).json()
    assert unsent["head_version"] is None and unsent["base_version"] == 2
    await step(listing_id, "resubmit", await actor("provider"), now=T0 + timedelta(days=1))
    body = (await reviewer.get(f"/api/v1/listings/{listing_id}/diff")).json()
    assert body["base_version"] == 2 and body["head_version"] == 4
    # Each change also says where it is in words (the schema's titles), for people.
    assert body["changes"] == [
        {"path": "courses[0].fee_per_student_month", "kind": "changed", "old": 150, "new": 170,
         "label": "课程 1 · 收费标准"},
        {"path": "staff[1].role", "kind": "changed", "old": "助教", "new": "助理教练",
         "label": "从业人员 2 · 岗位"},
    ]  # fmt: skip


async def test_diff_names_added_and_removed_paths(db: object) -> None:
    from registry.review import diff_forms

    changes = diff_forms(
        {"courses": [{"name": "篮球", "staff": [0]}], "note": "x"},
        {"courses": [{"name": "篮球", "staff": [0, 1]}], "extra": {"a": True}},
    )
    assert [(c.path, c.kind, c.old, c.new) for c in changes] == [
        ("courses[0].staff[1]", "added", None, 1),
        ("extra.a", "added", None, True),
        ("note", "removed", "x", None),
    ]


async def test_unknown_listings_and_drafts_are_404(login, db: object) -> None:
    reviewer = await login("reviewer")
    assert (await reviewer.get("/api/v1/listings/999999/diff")).status_code == 404
    draft = await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING])
    assert (await reviewer.get(f"/api/v1/listings/{draft}/courses")).status_code == 404
    city = await login("city")
    assert (await city.get(f"/api/v1/listings/{draft}/diff")).status_code == 404


async def test_a_page_past_the_last_is_empty_not_an_error(login, db: object) -> None:
    """Page 2**63 became an OFFSET past the database's integers: a 500 (schemathesis)."""
    await listing_in(State.in_review)
    reviewer = await login("reviewer")
    huge = str(2**63)
    found = await reviewer.get("/api/v1/review/listings", params={"page": huge})
    assert found.status_code == 200, found.text
    assert (found.json()["items"], found.json()["total"]) == ([], 1)
    assert (await reviewer.get("/bureau", params={"page": huge})).status_code == 200
    first = await reviewer.get("/api/v1/review/listings")
    assert [item["state"] for item in first.json()["items"]] == ["in_review"]
