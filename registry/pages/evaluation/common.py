"""What the evaluation pages share: the district chosen, refusal messages, result labels."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar.di import Provide
from litestar.exceptions import NotFoundException

from registry import review
from registry.evaluation.summary import STATUS_LABELS
from registry.pages.common import page_actor
from registry.tables import ResultStatus
from workflows.actors import Actor
from workflows.engine import TransitionError
from workflows.scoring import GRADE_LABELS, Consequence
from workflows.states import Role, exit_reason_label

PAGE = {"actor": Provide(page_actor)}
SELF_REPORT_LABELS = {
    "on_time": "按时提交且内容完整",
    "late": "逾期提交",
    "incomplete": "内容不完整",
}
DONE_MESSAGES = {
    "opened": "评估周期已开启",
    "inspection": "现场检查结果已保存",
    "closed": "评估已结束，得分已计算；拟责令整改或退出的结果已告知机构，证据不足的结果待人工评定",
    "confirmed": "评估结果已确认",
    "adjusted": "得分已调整并确认",
    "closed_early": "评估已提前结束，得分已计算；提前结束的理由和当时缺少的数据已记入审计日志",
    "graded": "人工评定已保存",
    "sent": "拟定结果已告知机构，待其陈述、申辩",
    "batch": "批量确认已完成",
    "saved": "评估细则已保存",
    "reset": "已恢复为市级细则",
}

Errors = dict[str, list[str]]
STATUS_BADGES = {
    ResultStatus.computed.value: "warn",
    ResultStatus.manual.value: "bad",
    ResultStatus.provisional.value: "warn",
    ResultStatus.confirmed.value: "good",
}


def errors_of(error: TransitionError) -> Errors:
    """The refusal's messages by field (the detail alone when no field is named)."""
    found: Errors = {}
    for item in error.errors:
        found.setdefault(item.field or "_", []).append(item.message)
    return found or {"_": [error.detail]}


def score_text(centi: int | None) -> str:
    """A score in hundredths as the tables show it (a dash when there is none)."""
    return "—" if centi is None else f"{centi / 100:.2f}"


def parse_day(value: str) -> date | None:
    """A YYYY-MM-DD date typed in a form, or None when blank or malformed."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def is_reviewer(actor: Actor, district_id: int) -> bool:
    """Whether the actor reviews for the district (the forms only reviewers may use)."""
    # Inspections and confirmations are the district reviewers' (the service enforces it too).
    return any(g.role == Role.reviewer and g.district_id == district_id for g in actor.grants)


async def staff_district(actor: Actor, code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The chosen district (the first the actor covers by default) and all it may choose."""
    districts = await review.staff_districts(actor)
    if not districts:
        raise NotFoundException()
    chosen = next((d for d in districts if d["code"] == code), None)
    if code and chosen is None:
        raise NotFoundException()
    return chosen or districts[0], districts


def district_query(district: dict[str, Any], districts: list[dict[str, Any]]) -> str:
    """The query string that keeps the chosen district (none when there is only one)."""
    return f"?district={district['code']}" if len(districts) > 1 else ""


def result_view(row: dict[str, Any]) -> dict[str, Any]:
    """A result row with its labels, as the tables show it."""
    return {
        **row,
        "score_text": score_text(row["score_centi"]),
        "grade_label": GRADE_LABELS.get(row["grade"] or "", "未评定"),
        "consequence_label": Consequence(row["consequence"]).label,
        "exit_reason_label": exit_reason_label(row["exit_reason"]),
        "confirmed": row["status"] == ResultStatus.confirmed.value,
        "status_label": STATUS_LABELS.get(row["status"], row["status"]),
        "status_badge": STATUS_BADGES.get(row["status"], ""),
    }
