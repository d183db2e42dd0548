"""The audit trail: a SHA-256 hash chain over every transition and administrative change."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from workflows import storage, timesource
from workflows.actors import Actor

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


def compute_hash(event: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 over a canonical JSON encoding of the event's fields and its predecessor's hash."""
    body = {name: _normalise(name, event[name]) for name in HASHED_FIELDS}
    body["prev_hash"] = prev_hash
    encoded = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


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
    }
    digest = compute_hash(event, prev_hash)
    return await storage.insert_audit_event(event, prev_hash=prev_hash, digest=digest)


async def record(actor: Actor, *, action: str, role: str, **details: Any) -> int:
    """append() for an Actor's own act: who acted comes from the Actor."""
    return await append(
        action=action, role=role, actor_id=actor.user_id, actor_name=actor.username, **details
    )


@dataclass(frozen=True)
class Verification:
    """The outcome of walking the chain."""

    checked: int
    bad_event_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """True when every event checked out."""
        return self.bad_event_id is None


async def verify(batch_size: int = 2000) -> Verification:
    """Walk the chain in order; report the first event altered, removed or reordered."""
    expected_prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = await storage.audit_events_after(last_id, batch_size)
        if not rows:
            return Verification(checked=checked)
        for row in rows:
            if row["prev_hash"] != expected_prev:
                return Verification(
                    checked,
                    row["id"],
                    f"event {row['id']} does not follow the previous event: "
                    "an event before it was removed, inserted or reordered",
                )
            if compute_hash(row, row["prev_hash"]) != row["hash"]:
                return Verification(
                    checked, row["id"], f"event {row['id']} was altered: its hash does not match"
                )
            expected_prev = row["hash"]
            checked += 1
            last_id = row["id"]
