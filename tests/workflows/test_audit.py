"""The audit chain: every transition is an event; tampering is found and named."""

from __future__ import annotations

import itertools

from registry.tables import AuditEvent
from tests.cast import listing_in
from tests.cli_runner import registry
from workflows.audit import GENESIS, verify
from workflows.states import State


async def _chain(db: object) -> list[dict]:
    await listing_in(State.listed)
    return await AuditEvent.select().order_by(AuditEvent.id).output(load_json=True)


async def test_every_transition_is_an_event_linked_to_the_previous(db: object) -> None:
    events = await _chain(db)
    assert [e["action"] for e in events] == [
        "submit", "accept", "recommend", "approve", "end_notice",
    ]  # fmt: skip
    assert events[0]["prev_hash"] == GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(events))
    assert events[3]["payload"]["set"]["notice_end"] == "2026-03-09"
    assert events[4]["role"] == "clock" and events[4]["actor_name"] == "clock"
    result = await verify()
    assert result.ok and result.checked == 5


async def test_audit_verify_command_counts_events(db: object) -> None:
    await _chain(db)
    run = await registry(db, "audit", "verify")
    assert run.code == 0, run.err
    assert run.out.strip() == "5 events verified"


async def test_altered_event_is_named(db: object) -> None:
    events = await _chain(db)
    await AuditEvent.update({AuditEvent.reason: "改过的理由"}).where(
        AuditEvent.id == events[2]["id"]
    )
    result = await verify()
    assert result.bad_event_id == events[2]["id"] and result.checked == 2
    run = await registry(db, "audit", "verify")
    assert run.code != 0
    assert f"event {events[2]['id']} was altered" in run.err


async def test_removed_event_is_named(db: object) -> None:
    events = await _chain(db)
    await AuditEvent.delete().where(AuditEvent.id == events[1]["id"])
    result = await verify()
    assert result.bad_event_id == events[2]["id"]
    run = await registry(db, "audit", "verify")
    assert run.code != 0 and f"event {events[2]['id']} does not follow" in run.err


async def test_reordered_events_are_found(db: object) -> None:
    events = await _chain(db)
    first, second = events[1], events[2]

    def content(event: dict) -> dict:
        return {AuditEvent._meta.get_column_by_name(k): v for k, v in event.items() if k != "id"}

    # Swap the two rows' contents, ids kept (the hash column is unique: park one first).
    await AuditEvent.update({AuditEvent.hash: "parked"}).where(AuditEvent.id == first["id"])
    await AuditEvent.update(content(first)).where(AuditEvent.id == second["id"])
    await AuditEvent.update(content(second)).where(AuditEvent.id == first["id"])
    result = await verify()
    assert result.bad_event_id == first["id"]
    assert "does not follow" in result.problem
