"""The audit trail: a keyed hash chain over every transition and administrative change.

Each event's hash is an HMAC-SHA256, under the audit key, of its fields and its predecessor's
hash. The key lives outside the database (registry/keys.py), so whoever can write the database
still cannot rewrite an event and recompute the chain. Events written before the chain was keyed
have no key id and a plain SHA-256; from the first keyed event on, every event must be keyed.

Deleting the newest events leaves a shorter chain that is still consistent; the anchors catch
that (workflows/anchors.py). And since the chain records every state change, each listing's
state must be where its last state-changing event left it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workflows import anchors, storage, timesource
from workflows.actors import Actor
from workflows.anchors import Anchor
from workflows.states import State

GENESIS = "0" * 64
HASHED_FIELDS = (
    "occurred_at",
    "actor_id",
    "actor_name",
    "role",
    "listing",
    "action",
    "from_state",
    "to_state",
    "reason",
    "message",
    "payload",
)


def _normalise(name: str, value: Any) -> Any:
    if name == "occurred_at":
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if name == "payload" and isinstance(value, str):
        return json.loads(value)
    return value


def compute_hash(event: Mapping[str, Any], prev_hash: str, key: bytes | None = None) -> str:
    """The event's hash: HMAC-SHA256 under `key` (which covers its key id), else plain SHA-256.

    The plain form is how events were hashed before the chain was keyed; it is kept so that
    those events still verify.
    """
    body = {name: _normalise(name, event[name]) for name in HASHED_FIELDS}
    body["prev_hash"] = prev_hash
    if key is not None:
        body["key_id"] = event["key_id"]
    encoded = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    if key is None:
        return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
    return hmac.new(key, encoded.encode("utf-8"), hashlib.sha256).hexdigest()


async def append(
    *,
    action: str,
    role: str,
    actor_id: int | None,
    actor_name: str,
    listing: int | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str = "",
    message: str = "",
    payload: Mapping[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> int:
    """Add one event at the end of the chain; call inside the caller's write transaction."""
    await storage.lock_audit_chain()
    last_hash = await storage.last_audit_hash()
    prev_hash = GENESIS if last_hash is None else last_hash
    key_id, key = storage.audit_signing_key()
    event: dict[str, Any] = {
        "occurred_at": (occurred_at or timesource.now()).astimezone(UTC),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "role": role,
        "listing": listing,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
        "message": message,
        "payload": dict(payload or {}),
        "key_id": key_id,
    }
    digest = compute_hash(event, prev_hash, key)
    return await storage.insert_audit_event(event, prev_hash=prev_hash, digest=digest)


async def record(actor: Actor, *, action: str, role: str, **details: Any) -> int:
    """append() for an Actor's own act: who acted comes from the Actor."""
    return await append(
        action=action, role=role, actor_id=actor.user_id, actor_name=actor.username, **details
    )


@dataclass(frozen=True)
class Verification:
    """The outcome of the checks: the first problem found, or the head that checked out."""

    checked: int
    bad_event_id: int | None = None
    problem: str = ""
    bad_listing_id: int | None = None
    head: Anchor | None = None

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.problem


def _link_problem(row: Mapping[str, Any], expected_prev: str, keyed: bool) -> str:
    """What is wrong with one event given the chain before it ("" when nothing is)."""
    event_id = row["id"]
    if row["prev_hash"] != expected_prev:
        return (
            f"event {event_id} does not follow the previous event: "
            "an event before it was removed, inserted or reordered"
        )
    key: bytes | None = None
    key_id = row.get("key_id") or ""
    if key_id:
        key = storage.audit_key(key_id)
        if key is None:
            return (
                f"event {event_id} names audit key {key_id!r}, which the key ring does not hold: "
                "it was forged, or these are not this database's keys"
            )
    elif keyed:
        return f"event {event_id} was rewritten: it has a plain hash after keyed events"
    if compute_hash(row, row["prev_hash"], key) != row["hash"]:
        return f"event {event_id} was altered: its hash does not match"
    return ""


async def _walk(anchored: list[Anchor], batch_size: int) -> Verification:
    """Walk the chain in order, checking each link and each anchored event on the way."""
    due = anchors.by_event(anchored)
    pending = sorted(due)  # anchored ids in chain order, consumed as the walk passes them
    position = 0
    expected_prev = GENESIS
    keyed = False
    checked = 0
    last_id = 0
    while rows := await storage.audit_events_after(last_id, batch_size):
        for row in rows:
            problem = _link_problem(row, expected_prev, keyed)
            if problem:
                return Verification(checked, row["id"], problem)
            keyed = keyed or bool(row.get("key_id"))
            while position < len(pending) and pending[position] <= row["id"]:
                anchored_id = pending[position]
                found = row if anchored_id == row["id"] else None
                problem = anchors.mismatch(due[anchored_id], found, checked + 1, last_id)
                if problem:
                    return Verification(checked, anchored_id, problem)
                position += 1
            expected_prev = row["hash"]
            checked += 1
            last_id = row["id"]
    if position < len(pending):
        missing = pending[position]
        return Verification(checked, missing, anchors.mismatch(due[missing], None, 0, last_id))
    head = Anchor(event=last_id, hash=expected_prev, count=checked) if checked else None
    return Verification(checked, head=head)


async def verify(batch_size: int = 2000) -> Verification:
    """Check the chain, its anchors and every listing's state; report the first problem."""
    anchored, problem = anchors.load()
    if problem:
        return Verification(0, problem=problem)
    walked = await _walk(anchored, batch_size)
    if not walked.ok:
        return walked
    mismatch = await storage.first_state_mismatch(State.draft.value)
    if mismatch is not None:
        return Verification(
            walked.checked,
            problem=(
                f"listing {mismatch['listing']} is in state {mismatch['state']!r}, but its last "
                f"state change in the audit trail was to {mismatch['expected']!r}: "
                "its state was changed outside the workflow"
            ),
            bad_listing_id=mismatch["listing"],
        )
    return walked


def anchor_verified(result: Verification, by: str = "verify") -> Anchor | None:
    """Anchor the head a successful verify() checked; None when there was nothing to anchor."""
    if not result.ok or result.head is None:
        return None
    return anchors.write(result.head, by=by)


async def anchor_daily(now: datetime | None = None) -> bool:
    """Anchor the chain's head unless today has an anchor already (the clock calls it often)."""
    return await anchors.daily(now)
