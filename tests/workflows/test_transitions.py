"""Every transition, generated from the table: allowed from each source state for each of its
roles, refused from every other state and for every other role, with nothing written."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from registry.tables import AuditEvent
from tests.cast import CAST, T0, actor, listing_in, listing_row
from tests.factories import state_of
from workflows import engine
from workflows.states import ExitReason, Role, State
from workflows.transitions import TRANSITIONS, Transition

# The cast member who acts in each role on the cast's listing.
ACTOR_OF: dict[Role, str] = {
    Role.provider: "provider",
    Role.reviewer: "reviewer",
    Role.approver: "approver",
    Role.school: "school",
    Role.city: "city",
    Role.clock: "clock",
    Role.system: "system",
}

ALLOWED = [
    (t.name, source, role)
    for t in TRANSITIONS.values()
    for source in sorted(t.sources, key=list(State).index)
    for role in sorted(t.roles)
]


async def _arguments(transition: Transition, listing_id: int) -> dict[str, Any]:
    """Arguments that satisfy the transition's guards, as a real user would give them."""
    row = await listing_row(listing_id)
    now = T0 + timedelta(days=40)
    if transition.due:
        now = max(now, _morning_after(row[transition.due]))
    options: dict[str, Any] = {"now": now, "version": row["version"]}
    if transition.reason_required:
        options["reason"] = "经核查属实"
    if transition.name == "revoke":
        options["params"] = {"exit_reason": ExitReason.fee_violation.value}
    if transition.name in ("appeal", "resubmit"):
        options["now"] = T0  # within the appeal window / supplement deadline opened at T0
    return options


def _morning_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(9), ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(("action", "source", "role"), ALLOWED, ids=lambda v: str(v))
async def test_transition_allowed_from_source_for_role(
    db: object, action: str, source: State, role: Role
) -> None:
    transition = TRANSITIONS[action]
    listing_id = await listing_in(source)
    before_events = await AuditEvent.count()
    options = await _arguments(transition, listing_id)
    who = (
        "reviewer2"
        if action in ("reject", "recommend") and source == State.in_review
        else ACTOR_OF[role]
    )
    outcome = await engine.fire(listing_id, action, await actor(who), **options)
    state, version = await state_of(listing_id)
    assert state == transition.target.value == outcome.state
    assert version == options["version"] + 1
    assert await AuditEvent.count() == before_events + 1


@pytest.mark.parametrize("state", list(State), ids=str)
async def test_every_undeclared_move_is_refused_and_writes_nothing(
    db: object, state: State
) -> None:
    listing_id = await listing_in(state)
    row = await listing_row(listing_id)
    events = await AuditEvent.count()
    refusals = 0
    for transition in TRANSITIONS.values():
        for role in Role:
            if state in transition.sources and role in transition.roles:
                continue
            who = await actor(ACTOR_OF[role])
            with pytest.raises(engine.TransitionError) as refused:
                await engine.fire(
                    listing_id,
                    transition.name,
                    who,
                    version=row["version"],
                    reason="理由",
                    params={"exit_reason": "other"},
                    now=T0 + timedelta(days=400),
                )
            error = refused.value
            if not who.grants_seeing(row["organisation"], row["district"], state):
                assert isinstance(error, engine.NotFound), (transition.name, role)
            elif role not in transition.roles:
                assert isinstance(error, engine.Forbidden), (transition.name, role)
            else:
                assert isinstance(error, engine.Refused)
                assert error.errors[0].code == "invalid_state"
                assert State(state).label in error.errors[0].message
            refusals += 1
    assert refusals > 0
    assert await state_of(listing_id) == (row["state"], row["version"])
    assert await AuditEvent.count() == events


@pytest.mark.parametrize(
    ("who", "state"),
    [("provider_other", State.submitted), ("reviewer_binhai", State.in_review),
     ("approver_binhai", State.pending_approval), ("reviewer", State.draft),
     ("school_binhai", State.listed), ("school", State.in_review)],
)  # fmt: skip
async def test_out_of_scope_actor_gets_not_found(db: object, who: str, state: State) -> None:
    listing_id = await listing_in(state)
    _, version = await state_of(listing_id)
    for action in TRANSITIONS:
        with pytest.raises(engine.NotFound):
            await engine.fire(listing_id, action, await actor(who), version=version, now=T0)


async def test_unknown_action_is_refused_with_its_name(db: object) -> None:
    listing_id = await listing_in(State.draft)
    with pytest.raises(engine.Refused) as refused:
        await engine.fire(listing_id, "publish_now", await actor("provider"), version=1)
    assert refused.value.errors[0].field == "action"
    assert "publish_now" in refused.value.errors[0].message


async def test_missing_listing_is_not_found(db: object) -> None:
    with pytest.raises(engine.NotFound):
        await engine.fire(999_999, "submit", await actor("provider"))


async def test_reason_required_is_refused_when_blank(db: object) -> None:
    listing_id = await listing_in(State.in_review)
    _, version = await state_of(listing_id)
    with pytest.raises(engine.Refused) as refused:
        await engine.fire(
            listing_id, "reject", await actor("reviewer"), version=version, reason=" "
        )
    assert [e.field for e in refused.value.errors] == ["reason"]
    assert (await state_of(listing_id))[0] == State.in_review


async def test_stale_version_is_a_conflict(db: object) -> None:
    listing_id = await listing_in(State.submitted)
    _, version = await state_of(listing_id)
    with pytest.raises(engine.Conflict):
        await engine.fire(listing_id, "accept", await actor("reviewer"), version=version - 1)
    assert await state_of(listing_id) == (State.submitted, version)


def test_every_state_is_reachable_and_every_transition_has_a_label() -> None:
    targets = {t.target for t in TRANSITIONS.values()} | {State.draft}
    assert targets == set(State)
    assert all(t.label and t.roles and t.sources for t in TRANSITIONS.values())


def test_cast_ids_exist() -> None:
    assert CAST is not None
