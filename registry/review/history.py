"""A listing's history as the bureau reads it: every event, its internal note and its message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry.access.people import display_names
from registry.labels import actor_label, event_label, role_label, state_label
from registry.tables import AuditEvent
from workflows.states import Role

# The one table of labels is registry/labels.py; kept under this name for its callers.
action_label = event_label


def _detail(action: str, payload: Mapping[str, Any], names: Mapping[int, str]) -> str:
    # A one-line summary of what a non-transition event changed.
    if action == "review.assign":
        assignee = payload.get("assigned_to")
        if not assignee:
            return "取消分配"
        return f"分配给 {names.get(assignee) or payload.get('assignee') or '审核员'}"
    if action == "review.course_decision":
        verdict = "通过" if payload.get("approved") else "删去"
        return f"课程「{payload.get('name', '')}」：{verdict}"
    if action == "personal_data.revealed":
        return f"查看项目：{payload.get('field', '')}"  # the field, never the number
    if action == "review.expert_score":
        role = "裁定评分" if payload.get("moderator") else "独立评分"
        return f"{role}，总分 {payload.get('total')}"
    due = (payload.get("set") or {}).get("supplement_due")
    return f"补正期限：{due}" if due else ""


@dataclass(frozen=True)
class HistoryEntry:
    """One event of a listing's history."""

    occurred_at: datetime
    action: str
    label: str
    actor: str
    role: str
    from_state: str
    to_state: str
    reason: str
    message: str
    detail: str


def _actor(row: Mapping[str, Any], names: Mapping[int, str]) -> str:
    # A person by their display name now (the event recorded their username then); the clock,
    # jobs and the public in words.
    name = names.get(row["actor_id"]) if row["actor_id"] is not None else None
    if row["role"] == Role.system.value and name:
        return f"{name}（系统）"
    if name and row["role"] != Role.clock.value:
        return name
    return actor_label(row["actor_name"], row["role"])


async def history(listing_id: int) -> list[HistoryEntry]:
    """Every audited event of the listing, oldest first."""
    rows = await (
        AuditEvent.select()
        .where(AuditEvent.listing == listing_id)
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )
    people = {row["actor_id"] for row in rows}
    people |= {(row["payload"] or {}).get("assigned_to") for row in rows}
    names = await display_names(i for i in people if isinstance(i, int))
    return [
        HistoryEntry(
            occurred_at=row["occurred_at"],
            action=row["action"],
            label=event_label(row["action"]),
            actor=_actor(row, names),
            role=role_label(row["role"]),
            from_state=state_label(row["from_state"]),
            to_state=state_label(row["to_state"]),
            reason=row["reason"],
            message=row["message"],
            detail=_detail(row["action"], row["payload"] or {}, names),
        )
        for row in rows
    ]


def recommendation(listing: Mapping[str, Any], events: list[HistoryEntry]) -> HistoryEntry | None:
    """The recommendation the approver decides on (the latest, while one stands)."""
    if listing["recommended_by"] is None:
        return None
    return next((e for e in reversed(events) if e.action == "recommend"), None)
