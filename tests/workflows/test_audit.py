"""The audit chain: every transition is an event; tampering is found and named."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

from piccolo.engine.base import Engine

from registry.app import run_clock
from registry.keys import keyring, rotate
from registry.settings import get_settings
from registry.tables import AuditEvent, Listing
from tests.cast import BINHAI, CAST, NOW, listing_in
from tests.cli_runner import database_url, registry
from tests.factories import new_listing
from workflows import audit
from workflows.audit import GENESIS, anchor_daily, anchor_verified, compute_hash, verify
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


# --- the keyed chain ------------------------------------------------------------------------


async def _rewrite_from(
    events: list[dict],
    index: int,
    key: bytes | None,
    key_id: str,
    reason: str | None = "改过的理由",
) -> None:
    """What an attacker with the database does: change one reason, recompute every later link."""
    prev = events[index]["prev_hash"]
    for number, event in enumerate(events[index:]):
        event = {**event, "key_id": key_id}
        if number == 0 and reason is not None:
            event["reason"] = reason
        digest = compute_hash(event, prev, key)
        await AuditEvent.update(
            {
                AuditEvent.reason: event["reason"],
                AuditEvent.key_id: key_id,
                AuditEvent.prev_hash: prev,
                AuditEvent.hash: digest,
            }
        ).where(AuditEvent.id == event["id"])
        prev = digest


async def test_events_are_keyed_with_the_audit_key(db: object) -> None:
    events = await _chain(db)
    kid = keyring("audit").current_id
    assert {e["key_id"] for e in events} == {kid}
    # The stored hash is not what anyone could compute without the key.
    assert all(compute_hash(e, e["prev_hash"]) != e["hash"] for e in events)


async def test_rewritten_event_with_recomputed_plain_hashes_is_found(db: object) -> None:
    events = await _chain(db)
    await _rewrite_from(events, 2, None, "")
    result = await verify()
    assert not result.ok and result.bad_event_id == events[2]["id"]
    assert "plain hash after keyed events" in result.problem
    run = await registry(db, "audit", "verify")
    assert run.code != 0 and f"event {events[2]['id']} was rewritten" in run.err


async def test_rewritten_event_with_a_guessed_key_is_found(db: object) -> None:
    events = await _chain(db)
    kid = keyring("audit").current_id
    for guess in (secrets.token_bytes(32), get_settings().secret_key.encode()):
        await _rewrite_from(events, 2, guess, kid)
        result = await verify()
        assert result.bad_event_id == events[2]["id"] and result.checked == 2
        assert "was altered" in result.problem
    # Nor does naming a key the ring does not hold help.
    await _rewrite_from(events, 2, secrets.token_bytes(32), "k999")
    result = await verify()
    assert result.bad_event_id == events[2]["id"] and "'k999'" in result.problem


async def test_old_style_chain_still_verifies_and_is_keyed_from_then_on(db: object) -> None:
    events = await _chain(db)
    # A chain written before keys: no key id, plain SHA-256 (the migration left key_id empty).
    await _rewrite_from(events, 0, None, "", reason=None)
    assert (await verify()).ok
    listing_id = await listing_in(State.listed, organisation="other")
    result = await verify()
    assert result.ok and result.checked == 10
    chain = await AuditEvent.select().order_by(AuditEvent.id).output(load_json=True)
    assert [bool(e["key_id"]) for e in chain] == [False] * 5 + [True] * 5
    assert chain[5]["listing"] == listing_id
    # A plain event after the first keyed one is a rewrite.
    await _rewrite_from(chain, 7, None, "")
    result = await verify()
    assert result.bad_event_id == chain[7]["id"] and "rewritten" in result.problem


async def test_key_rotation_keeps_old_events_verifying(db: object) -> None:
    await _chain(db)
    old = keyring("audit").current_id
    new = rotate("audit")
    await listing_in(State.listed, organisation="other")
    chain = await AuditEvent.select(AuditEvent.key_id).order_by(AuditEvent.id)
    assert [e["key_id"] for e in chain] == [old] * 5 + [new] * 5
    result = await verify()
    assert result.ok and result.checked == 10
    run = await registry(db, "audit", "verify")
    assert run.code == 0 and run.out.strip() == "10 events verified", run.err


# --- listing states against the trail -------------------------------------------------------


async def test_state_changed_in_the_database_is_found(db: object) -> None:
    listed = await listing_in(State.listed)
    in_review = await listing_in(State.in_review, organisation="other")
    draft = await new_listing(CAST.organisations["feiyue"], CAST.districts[BINHAI])
    assert (await verify()).ok  # a draft with no events yet is where it was created
    await Listing.raw("UPDATE listing SET state = {} WHERE id = {}", "listed", in_review)
    result = await verify()
    assert not result.ok and result.bad_listing_id == in_review and result.checked == 7
    assert "'listed'" in result.problem and "'in_review'" in result.problem
    run = await registry(db, "audit", "verify")
    assert run.code != 0 and f"listing {in_review} is in state 'listed'" in run.err
    await Listing.raw("UPDATE listing SET state = {} WHERE id = {}", "in_review", in_review)
    await Listing.raw("UPDATE listing SET state = {} WHERE id = {}", "listed", draft)
    assert (await verify()).bad_listing_id == draft
    await Listing.raw("UPDATE listing SET state = {} WHERE id = {}", "draft", draft)
    await Listing.raw("UPDATE listing SET state = {} WHERE id = {}", "suspended", listed)
    assert (await verify()).bad_listing_id == listed


async def test_form_saves_and_logins_do_not_count_as_state_changes(db: object) -> None:
    listing_id = await listing_in(State.in_review)
    await audit.append(
        action="application.form_saved", role="provider", actor_id=None, actor_name="x",
        listing=listing_id, payload={"changed": ["name"]},
    )  # fmt: skip
    await audit.append(action="auth.login", role="provider", actor_id=None, actor_name="x")
    assert (await verify()).ok


# --- anchors outside the database -----------------------------------------------------------


def _anchors() -> list[dict]:
    path = Path(os.environ["REGISTRY_AUDIT_ANCHOR_FILE"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_verify_anchors_the_head_outside_the_database(db: object) -> None:
    events = await _chain(db)
    assert _anchors() == []
    run = await registry(db, "audit", "verify")
    assert run.code == 0, run.err
    [anchor] = _anchors()
    assert anchor["event"] == events[-1]["id"] and anchor["hash"] == events[-1]["hash"]
    assert anchor["count"] == 5 and anchor["by"] == "verify"
    assert anchor["at"].startswith(NOW.isoformat()[:16])
    # The file is append-only: each verify adds a line, none is rewritten.
    await listing_in(State.submitted, organisation="other")
    assert (await registry(db, "audit", "verify")).code == 0
    assert [a["count"] for a in _anchors()] == [5, 6]


async def test_deleting_the_newest_events_is_found(db: object) -> None:
    events = await _chain(db)
    assert (await registry(db, "audit", "verify")).code == 0
    # Delete the last two events (and put the listing back where they found it).
    await AuditEvent.delete().where(AuditEvent.id >= events[3]["id"])
    await Listing.raw(
        "UPDATE listing SET state = {} WHERE id = {}", "pending_approval", events[0]["listing"]
    )
    result = await verify()
    assert not result.ok and result.checked == 3
    assert f"events after event {events[2]['id']} were deleted" in result.problem
    run = await registry(db, "audit", "verify")
    assert run.code != 0 and "were deleted" in run.err
    assert len(_anchors()) == 1  # a failed verify anchors nothing
    # New events after the deletion do not hide it (SQLite may even reuse the ids).
    await listing_in(State.listed, organisation="other")
    result = await verify()
    assert not result.ok and "were deleted" in result.problem


async def test_deleting_every_event_is_found(db: object) -> None:
    await _chain(db)
    anchor_verified(await verify())
    await AuditEvent.delete().where(AuditEvent.id > 0)
    await Listing.raw("UPDATE listing SET state = {}", "draft")
    result = await verify()
    assert "events after the start of the chain were deleted" in result.problem


async def test_a_damaged_anchor_file_fails_verification(db: object) -> None:
    await _chain(db)
    anchor_verified(await verify())
    with Path(os.environ["REGISTRY_AUDIT_ANCHOR_FILE"]).open("a") as handle:
        handle.write("not an anchor\n")
    result = await verify()
    assert not result.ok and "line 2 of the audit anchor file" in result.problem


async def test_the_clock_anchors_once_a_day(db: object) -> None:
    assert not await anchor_daily()  # an empty chain: nothing to anchor
    await _chain(db)
    assert await anchor_daily()
    assert not await anchor_daily()
    assert not await anchor_daily(NOW + timedelta(hours=1))
    assert await anchor_daily(NOW + timedelta(days=1))
    assert [(a["count"], a["by"]) for a in _anchors()] == [(5, "clock"), (5, "clock")]
    assert (await verify()).ok


async def test_the_app_clock_loop_writes_the_daily_anchor(db: object) -> None:
    await _chain(db)
    task = asyncio.create_task(run_clock(3600))
    try:
        for _ in range(200):
            if _anchors():
                break
            await asyncio.sleep(0.02)
    finally:
        task.cancel()
    assert [a["by"] for a in _anchors()] == ["clock"]


async def test_registry_tick_writes_the_daily_anchor_for_cron_setups(db: object) -> None:
    await _chain(db)
    for _ in range(2):
        assert (await registry(db, "tick")).code == 0
    assert [(a["count"], a["by"]) for a in _anchors()] == [(5, "clock")]


async def test_a_key_rotated_by_another_process_verifies_here(db: Engine) -> None:
    await _chain(db)
    keyring("audit")  # this process has read the ring before the other one rotates it
    script = (
        "import asyncio\n"
        "from registry.keys import rotate\n"
        "from workflows import audit\n"
        "rotate('audit')\n"
        "asyncio.run(audit.append(action='test.elsewhere', role='system', actor_id=None,"
        " actor_name='other'))\n"
    )
    env = {**os.environ, "REGISTRY_DATABASE_URL": database_url(db)}
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", script, env=env)
    assert await process.wait() == 0
    chain = await AuditEvent.select(AuditEvent.key_id).order_by(AuditEvent.id)
    assert len(chain) == 6 and chain[5]["key_id"] != chain[0]["key_id"]
    assert (await verify()).ok
