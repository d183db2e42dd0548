"""A listing's history as the bureau reads it: every event, its internal note and its message."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry.tables import AuditEvent
from workflows.states import ROLE_LABELS, Role, State
from workflows.transitions import TRANSITIONS

# Events that are not transitions (the transitions' labels come from the table).
REVIEW_ACTION_LABELS: dict[str, str] = {
    "review.assign": "分配审核员",
    "review.course_decision": "课程审核",
    "review.expert_score": "专家评分",
    "personal_data.revealed": "查看完整个人信息",
}


def action_label(action: str) -> str:
    """The Chinese name of an audited action."""
    if action in TRANSITIONS:
        return TRANSITIONS[action].label
    return REVIEW_ACTION_LABELS.get(action, action)


def _detail(action: str, payload: Mapping[str, Any]) -> str:
    # A one-line summary of what a non-transition event changed.
    if action == "review.assign":
        return f"分配给 {payload.get('assignee')}" if payload.get("assigned_to") else "取消分配"
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


def _state_label(value: str | None) -> str:
    return State(value).label if value in State.__members__ else ""


async def history(listing_id: int) -> list[HistoryEntry]:
    """Every audited event of the listing, oldest first."""
    rows = await (
        AuditEvent.select()
        .where(AuditEvent.listing == listing_id)
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )
    return [
        HistoryEntry(
            occurred_at=row["occurred_at"],
            action=row["action"],
            label=action_label(row["action"]),
            actor=row["actor_name"],
            role=ROLE_LABELS[Role(row["role"])] if row["role"] in Role.__members__ else row["role"],
            from_state=_state_label(row["from_state"]),
            to_state=_state_label(row["to_state"]),
            reason=row["reason"],
            message=row["message"],
            detail=_detail(row["action"], row["payload"] or {}),
        )
        for row in rows
    ]


def recommendation(listing: Mapping[str, Any], events: list[HistoryEntry]) -> HistoryEntry | None:
    """The recommendation the approver decides on (the latest, while one stands)."""
    if listing["recommended_by"] is None:
        return None
    return next((e for e in reversed(events) if e.action == "recommend"), None)
