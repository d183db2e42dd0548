"""What a cycle is fed: schools' feedback and parent tallies, inspections, self-reports.

Each input is tied to the cycle and can be changed until the cycle closes; who may give it is
checked here, and anything outside the giver's scope is a 404 (as if it did not exist).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from piccolo.table import Table

from registry.db import write_transaction
from registry.evaluation.cycles import cycle_row
from registry.evaluation.gather import EVALUATED_STATES
from registry.schools.engagements import school_grant
from registry.tables import (
    CycleStatus,
    Engagement,
    Inspection,
    Listing,
    SchoolFeedback,
    SelfReport,
)
from schemas import FEEDBACK, SELF_REPORT, FieldError, validate
from workflows import audit, timesource
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import Forbidden, NotFound, Refused, local_today
from workflows.states import Role

# Problems that make a self-report incomplete rather than refused (it can be finished later).
_INCOMPLETE = frozenset({"required", "minLength", "const"})


def _key(cycle_id: int, other_id: int) -> str:
    return f"{cycle_id}:{other_id}"


def _require_open(cycle: Mapping[str, Any]) -> None:
    if cycle["status"] != CycleStatus.open.value:
        raise Refused(
            "评估周期已结束",
            [Refusal("cycle", "closed", f"“{cycle['name']}”已结束，不能再提交或修改")],
        )


async def _upsert(table: type[Table], key: str, values: Mapping[str, Any], **identity: Any) -> bool:
    """Replace the row with this key, or insert it; True when it existed (inputs are per key)."""
    column = table._meta.get_column_by_name("key")
    if await table.exists().where(column == key):
        await table.update({table._meta.get_column_by_name(k): v for k, v in values.items()}).where(
            column == key
        )
        return True
    await table.insert(table(key=key, **identity, **values))
    return False


def _refuse(problems: list[FieldError] | list[Refusal]) -> Refused:
    return Refused("；".join(p.message for p in problems[:5]), list(problems))


# --- school feedback ---------------------------------------------------------------------


def _questions(cycle: Mapping[str, Any]) -> dict[str, str]:
    for item in cycle["rubric"].get("items", []):
        if item.get("source") == "school_feedback":
            return {q["key"]: q["label"] for q in item.get("questions", [])}
    return {}


async def feedback_engagements(actor: Actor, cycle_id: int) -> list[dict[str, Any]]:
    """The school's engagements this cycle evaluates, each with its feedback (or None)."""
    grant = school_grant(actor)
    cycle = await cycle_row(cycle_id)
    if cycle["district"] != grant.school_district_id:
        raise NotFound("评估周期不存在")
    engagements = (
        await Engagement.select(
            Engagement.id,
            Engagement.listing,
            Engagement.courses,
            Engagement.students,
            Engagement.term,
            Engagement.listing.organisation.name.as_alias("organisation_name"),
        )
        .where(
            (Engagement.school == grant.school_id)
            & (Engagement.term == cycle["term"])
            & (Engagement.listing.district == cycle["district"])
        )
        .output(load_json=True)
    )
    given = {
        row["engagement"]: row
        for row in await SchoolFeedback.select()
        .where((SchoolFeedback.cycle == cycle_id) & (SchoolFeedback.school == grant.school_id))
        .output(load_json=True)
    }
    return [{**e, "feedback": given.get(e["id"])} for e in engagements]


async def _engagement_in_cycle(
    actor: Actor, cycle: Mapping[str, Any], engagement_id: int
) -> dict[str, Any]:
    grant = school_grant(actor)
    row = (
        await Engagement.select(
            Engagement.id,
            Engagement.school,
            Engagement.listing,
            Engagement.term,
            Engagement.students,
            Engagement.listing.district.as_alias("district"),
        )
        .where(Engagement.id == engagement_id)
        .first()
    )
    # Feedback only from a school that engaged this listing in the cycle's term: else 404.
    if (
        row is None
        or row["school"] != grant.school_id
        or row["district"] != cycle["district"]
        or row["term"] != cycle["term"]
    ):
        raise NotFound("本评估周期内没有该合作记录")
    return row


def _feedback_problems(
    data: Mapping[str, Any], questions: Mapping[str, str], students: int
) -> list[FieldError]:
    problems = validate(FEEDBACK, data)
    scores = data.get("scores") if isinstance(data.get("scores"), dict) else {}
    for key in scores or {}:
        if key not in questions:
            problems.append(
                FieldError(f"scores.{key}", "unknown_question", f"评估细则中没有题目“{key}”")
            )
    tallies = data.get("tallies")
    if not scores and not isinstance(tallies, dict):
        problems.append(
            FieldError("scores", "required", "请至少填写评价得分或家长满意度问卷中的一项")
        )
    if isinstance(tallies, dict) and not problems:
        total = sum(int(v) for v in tallies.values())
        if total > students:
            problems.append(
                FieldError(
                    "tallies",
                    "too_many",
                    f"问卷合计{total}份，超过该合作的学生人数{students}人",
                )
            )
    return problems


async def give_feedback(
    actor: Actor, cycle_id: int, engagement_id: int, data: Mapping[str, Any]
) -> dict[str, Any]:
    """A school's feedback for one engagement: once per cycle, replaced until the cycle closes."""
    cycle = await cycle_row(cycle_id)
    engagement = await _engagement_in_cycle(actor, cycle, engagement_id)
    _require_open(cycle)
    questions = _questions(cycle)
    problems = _feedback_problems(data, questions, engagement["students"])
    if problems:
        raise _refuse(problems)
    tallies = data.get("tallies") or {}
    values = {
        "scores": {k: int(v) for k, v in (data.get("scores") or {}).items()},
        "comment": str(data.get("comment") or "").strip(),
        "very_satisfied": tallies.get("very_satisfied"),
        "satisfied": tallies.get("satisfied"),
        "neutral": tallies.get("neutral"),
        "dissatisfied": tallies.get("dissatisfied"),
        "updated_by": actor.user_id,
        "updated_at": timesource.now(),
    }
    key = _key(cycle_id, engagement_id)
    async with write_transaction(SchoolFeedback._meta.db):
        _require_open(await cycle_row(cycle_id))
        replaced = await _upsert(
            SchoolFeedback,
            key,
            values,
            cycle=cycle_id,
            engagement=engagement_id,
            listing=engagement["listing"],
            school=engagement["school"],
        )
        await audit.record(
            actor,
            action="feedback.saved",
            role=Role.school.value,
            payload={"cycle": cycle_id, "engagement": engagement_id, "updated": replaced},
        )
    return (await SchoolFeedback.select().where(SchoolFeedback.key == key).output(load_json=True))[
        0
    ]


# --- inspections -------------------------------------------------------------------------


async def _evaluated_listing(cycle: Mapping[str, Any], listing_id: int) -> dict[str, Any]:
    row = (
        await Listing.select(Listing.id, Listing.state, Listing.district, Listing.organisation)
        .where(Listing.id == listing_id)
        .first()
    )
    if row is None or row["district"] != cycle["district"]:
        raise NotFound("该机构不在本区白名单上")
    if row["state"] not in {s.value for s in EVALUATED_STATES}:
        raise NotFound("该机构不在本区白名单上")
    return row


async def record_inspection(
    actor: Actor, cycle_id: int, listing_id: int, data: Mapping[str, Any]
) -> dict[str, Any]:
    """A reviewer's on-site inspection score (0–100) for a listing; replaced until close."""
    cycle = await cycle_row(cycle_id)
    if not any(
        g.role == Role.reviewer and g.district_id == cycle["district"] for g in actor.grants
    ):
        raise NotFound("评估周期不存在")
    await _evaluated_listing(cycle, listing_id)
    _require_open(cycle)
    problems: list[Refusal] = []
    score = data.get("score")
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 100:
        problems.append(Refusal("score", "range", "检查得分应为0到100之间的整数"))
    inspected_on = _date(data.get("inspected_on"))
    if inspected_on is None:
        problems.append(Refusal("inspected_on", "invalid", "请填写检查日期（YYYY-MM-DD）"))
    elif inspected_on > local_today():
        problems.append(Refusal("inspected_on", "future", "检查日期不能晚于今天"))
    note = str(data.get("note") or "").strip()
    if len(note) > 1000:
        problems.append(Refusal("note", "too_long", "检查记录不能超过1000个字"))
    if problems:
        raise _refuse(problems)
    key = _key(cycle_id, listing_id)
    values = {
        "score": score,
        "fee_violation": bool(data.get("fee_violation")),
        "inspected_on": inspected_on,
        "note": note,
        "inspector": actor.user_id,
        "updated_at": timesource.now(),
    }
    async with write_transaction(Inspection._meta.db):
        _require_open(await cycle_row(cycle_id))
        await _upsert(Inspection, key, values, cycle=cycle_id, listing=listing_id)
        await audit.record(
            actor,
            action="inspection.saved",
            role=Role.reviewer.value,
            listing=listing_id,
            payload={"cycle": cycle_id, "score": score, "fee_violation": values["fee_violation"]},
        )
    return (await Inspection.select().where(Inspection.key == key))[0]


def _date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


# --- self-reports ------------------------------------------------------------------------


async def _own_listing_in_cycle(
    actor: Actor, cycle_id: int, listing_id: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    organisations = {
        g.organisation_id for g in actor.grants if g.role == Role.provider and g.organisation_id
    }
    if not organisations:
        raise Forbidden("仅机构账号可以提交自查报告")
    cycle = await cycle_row(cycle_id)
    listing = await _evaluated_listing(cycle, listing_id)
    if listing["organisation"] not in organisations:
        raise NotFound("该机构不在本区白名单上")
    return cycle, listing


async def self_report_of(actor: Actor, cycle_id: int, listing_id: int) -> dict[str, Any] | None:
    """The provider's self-report for a cycle (None before the first save)."""
    await _own_listing_in_cycle(actor, cycle_id, listing_id)
    return (
        await SelfReport.select()
        .where(SelfReport.key == _key(cycle_id, listing_id))
        .output(load_json=True)
        .first()
    )


def self_report_problems(body: object) -> tuple[list[FieldError], list[FieldError]]:
    """(refused, missing): a wrong shape is refused; a gap only marks the report incomplete."""
    found = validate(SELF_REPORT, body)
    refused = [p for p in found if p.code not in _INCOMPLETE]
    missing = [p for p in found if p.code in _INCOMPLETE]
    return refused, missing


async def submit_self_report(
    actor: Actor, cycle_id: int, listing_id: int, body: Mapping[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    """Save the provider's self-report; returns it and what keeps it from being complete."""
    cycle, _ = await _own_listing_in_cycle(actor, cycle_id, listing_id)
    _require_open(cycle)
    refused, missing = self_report_problems(body)
    if refused:
        raise _refuse(refused)
    key = _key(cycle_id, listing_id)
    now = timesource.now()
    async with write_transaction(SelfReport._meta.db):
        _require_open(await cycle_row(cycle_id))
        existing = await SelfReport.select().where(SelfReport.key == key).first()
        late = local_today(now) > cycle["self_report_due"]
        if existing and existing["complete"] and late:
            message = (
                f"自查报告已于截止日期{cycle['self_report_due'].isoformat()}前完整提交，"
                "截止后不能修改"
            )
            raise Refused(message, [Refusal("body", "locked", message)])
        values = {
            "body": dict(body),
            "complete": not missing,
            "submitted_by": actor.user_id,
            "submitted_at": now,
        }
        await _upsert(SelfReport, key, values, cycle=cycle_id, listing=listing_id)
        await audit.record(
            actor,
            action="self_report.saved",
            role=Role.provider.value,
            listing=listing_id,
            payload={"cycle": cycle_id, "complete": not missing, "late": late},
        )
    row = await SelfReport.select().where(SelfReport.key == key).output(load_json=True).first()
    assert row is not None
    return row, missing
