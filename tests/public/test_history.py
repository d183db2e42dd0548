"""Public history, the whitelist as of a date, and the change feed, all from the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from registry.public.history import end_of_day, on_whitelist_on, organisation_history, step_of
from tests.cast import BINHAI, CAST, HEPING, T0, actor, listing_in
from tests.factories import at, new_listing, state_of
from workflows import engine
from workflows.states import State


async def fire(listing_id: int, action: str, who: str, **options: Any) -> None:
    """One transition at the listing's current version."""
    _, version = await state_of(listing_id)
    await engine.fire(listing_id, action, await actor(who), version=version, **options)


async def walked_listing() -> int:
    """Listed 2026-04-01, rectified, suspended, reinstated, revoked 2026-04-16 (违规收费)."""
    listing_id = await listing_in(State.listed)
    await fire(
        listing_id,
        "put_under_rectification",
        "reviewer",
        reason="内部：家长投诉迟到",
        now=T0 + timedelta(days=31),
    )
    await fire(listing_id, "close_rectification", "reviewer", now=T0 + timedelta(days=33))
    await fire(
        listing_id, "suspend", "reviewer", reason="内部：安全检查", now=T0 + timedelta(days=35)
    )
    await fire(listing_id, "reinstate", "reviewer", reason="检查通过", now=T0 + timedelta(days=40))
    await fire(
        listing_id,
        "revoke",
        "reviewer",
        reason="内部：多收费用",
        params={"exit_reason": "fee_violation"},
        now=T0 + timedelta(days=45),
    )
    return listing_id  # fmt: skip


async def test_history_walks_the_public_steps_with_dates(db: object) -> None:
    listing_id = await walked_listing()
    [history] = await organisation_history(CAST.organisations["feiyue"])
    assert history.listing_id == listing_id and history.district_code == HEPING
    steps = [(s.kind, s.on) for s in history.steps]
    assert steps == [
        ("applied", date(2026, 3, 2)),
        ("listed", date(2026, 4, 1)),
        ("rectification", date(2026, 4, 2)),
        ("rectification_closed", date(2026, 4, 4)),
        ("suspended", date(2026, 4, 6)),
        ("reinstated", date(2026, 4, 11)),
        ("exited", date(2026, 4, 16)),
    ]
    exited = history.steps[-1]
    assert exited.exit_reason == "fee_violation" and exited.detail == "违规收费"
    assert "有效期至" in history.steps[1].detail
    # Internal notes never reach the public history.
    assert not any("内部" in s.label + s.detail for s in history.steps)


async def test_applications_never_listed_leave_no_public_history(db: object) -> None:
    await listing_in(State.rejected)
    assert await organisation_history(CAST.organisations["feiyue"]) == []


def test_day_ends_at_midnight_in_beijing() -> None:
    assert end_of_day(date(2026, 4, 16)) == at("2026-04-17T00:00:00")


async def test_as_of_across_a_listing_and_an_exit(db: object) -> None:
    heping = await listing_in(State.listed)  # listed 2026-04-01 10:00
    binhai = await listing_in(State.listed, organisation="other", district=BINHAI)
    # 00:30 on 17 April in Beijing is still 16 April in UTC: the day is Beijing's.
    await fire(heping, "revoke", "reviewer", reason="x", params={"exit_reason": "fee_violation"},
               now=at("2026-04-17T00:30:00"))  # fmt: skip
    assert await on_whitelist_on(date(2026, 3, 31)) == []
    on_first = await on_whitelist_on(date(2026, 4, 1))
    assert {e.listing_id for e in on_first} == {heping, binhai}
    entry = next(e for e in on_first if e.listing_id == heping)
    assert entry.state == "listed" and entry.courses == ["少儿篮球"]
    assert entry.categories == ["sports"] and entry.valid_until is not None
    assert {e.listing_id for e in await on_whitelist_on(date(2026, 4, 16))} == {heping, binhai}
    assert {e.listing_id for e in await on_whitelist_on(date(2026, 4, 17))} == {binhai}
    only_heping = await on_whitelist_on(date(2026, 4, 16), districts=[HEPING])
    assert [e.listing_id for e in only_heping] == [heping]
    assert await on_whitelist_on(date(2026, 4, 16), categories=["arts"]) == []
    assert len(await on_whitelist_on(date(2026, 4, 16), categories=["sports", "arts"])) == 2


async def test_as_of_counts_rectification_as_public(db: object) -> None:
    listing_id = await listing_in(State.under_rectification)  # 2026-04-02
    [entry] = await on_whitelist_on(date(2026, 4, 2))
    assert entry.listing_id == listing_id and entry.state == "under_rectification"


async def test_as_of_api(anonymous: httpx.AsyncClient) -> None:
    heping = await listing_in(State.listed)
    await listing_in(State.listed, organisation="other", district=BINHAI)
    response = await anonymous.get(
        "/api/v1/whitelist/as-of", params={"date": "2026-04-01", "district": [HEPING]}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["date"] == "2026-04-01" and body["total"] == 1
    [item] = body["items"]
    assert item["id"] == heping and item["organisation_id"] == CAST.organisations["feiyue"]
    assert item["district"] == HEPING and item["state"] == "listed"
    assert item["courses"] == ["少儿篮球"] and item["categories"] == ["sports"]
    both = await anonymous.get(
        "/api/v1/whitelist/as-of",
        params={"date": "2026-04-01", "district": [HEPING, BINHAI], "category": ["sports"]},
    )
    assert both.json()["total"] == 2
    for bad in ({}, {"date": "2026-13-01"}, {"date": "yesterday"}):
        refused = await anonymous.get("/api/v1/whitelist/as-of", params=bad)
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["field"] == "date"


async def test_change_feed_lists_entries_and_exits_oldest_first(
    anonymous: httpx.AsyncClient,
) -> None:
    listed = await listing_in(State.listed)
    await fire(
        listed, "put_under_rectification", "reviewer", reason="x", now=T0 + timedelta(days=31)
    )
    await fire(listed, "revoke", "reviewer", reason="x", params={"exit_reason": "fee_violation"},
               now=T0 + timedelta(days=32))  # fmt: skip
    imported = await new_listing(CAST.organisations["other"], CAST.districts[BINHAI])
    await fire(imported, "import", "system", now=T0 + timedelta(days=40))
    response = await anonymous.get(
        "/api/v1/whitelist/changes", params={"since": "2026-03-01T00:00:00+08:00"}
    )
    assert response.status_code == 200
    items = response.json()["items"]
    assert [(i["id"], i["change"], i["state"]) for i in items] == [
        (listed, "entered", "listed"),
        (listed, "left", "exited"),
        (imported, "entered", "listed"),
    ]
    assert items[1]["reason"] == "fee_violation" and items[0]["reason"] is None
    assert items[2]["district"] == BINHAI and items[2]["name"] == "天津滨海墨香书法培训中心"
    # Naive times are Beijing time; only what happened after `since` is listed.
    later = await anonymous.get("/api/v1/whitelist/changes", params={"since": "2026-04-05T00:00"})
    assert [i["id"] for i in later.json()["items"]] == [imported]
    for bad in ({}, {"since": "last week"}):
        refused = await anonymous.get("/api/v1/whitelist/changes", params=bad)
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["field"] == "since"


def test_an_evaluation_step_shows_the_grade_in_words() -> None:
    event = {
        "listing": 1,
        "action": "evaluation.confirmed",
        "occurred_at": datetime(2026, 7, 1, 2, tzinfo=UTC),
        "payload": {"params": {"grade": "good"}},
    }
    step = step_of(event)
    assert step is not None and step.detail == "评估等级：良好"
