"""Evaluation cycles: open (snapshot the rubric), close (score everyone), read the results.

Deciding the results (manual grading, the provider's hearing, confirmation and what fires)
is registry.evaluation.decisions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from registry.access.scope import RecordKind, visible
from registry.db import insert_rows, write_transaction
from registry.evaluation import deadlines
from registry.evaluation.gather import evaluated_listings, gather_inputs
from registry.evaluation.hearings import open_hearings
from registry.evaluation.rubrics import district_row, is_district_staff, rubric_in_force
from registry.tables import CycleStatus, EvaluationCycle, EvaluationResult, ResultStatus
from workflows import audit, timesource
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import Forbidden, NotFound, Refused
from workflows.scoring import Consequence, Evaluation, Inputs, evaluate
from workflows.states import Role

CYCLE_NAME_MAX = 64
CLOSE_REASON_MAX = 1000
TERM_MAX = 32


@dataclass(frozen=True)
class CycleIn:
    """What a district gives to open a cycle."""

    name: str
    term: str
    starts_on: date | None
    ends_on: date | None
    self_report_due: date | None


def _key(cycle_id: int, listing_id: int) -> str:
    return f"{cycle_id}:{listing_id}"


def staff_role(actor: Actor, district_id: int, *roles: Role) -> Role:
    for grant in actor.grants:
        if grant.role == Role.city and Role.city in roles:
            return Role.city
        if grant.role in roles and grant.district_id == district_id:
            return grant.role
    raise Forbidden("当前角色无权进行此操作")


def _cycles() -> Any:
    """Cycles with their district's code and name, JSON loaded."""
    return EvaluationCycle.select(
        *EvaluationCycle._meta.columns,
        EvaluationCycle.district.code.as_alias("district_code"),
        EvaluationCycle.district.name.as_alias("district_name"),
    ).output(load_json=True)


async def cycle_row(cycle_id: int) -> dict[str, Any]:
    """A cycle with its district's code and name, or 404."""
    row = await _cycles().where(EvaluationCycle.id == cycle_id).first()
    if row is None:
        raise NotFound("评估周期不存在")
    return row


async def staff_cycle(actor: Actor, cycle_id: int) -> dict[str, Any]:
    """A cycle its district's staff (or the city) may see; 404 for everyone else."""
    cycle = await cycle_row(cycle_id)
    if not is_district_staff(actor, cycle["district"]):
        raise NotFound("评估周期不存在")
    return cycle


def _cycle_problems(data: CycleIn) -> list[Refusal]:
    problems = []
    if not data.name.strip():
        problems.append(Refusal("name", "required", "请填写评估周期名称，如“2026年秋季学期”"))
    elif len(data.name.strip()) > CYCLE_NAME_MAX:
        problems.append(Refusal("name", "too_long", f"评估周期名称不能超过{CYCLE_NAME_MAX}个字"))
    if not data.term.strip():
        problems.append(
            Refusal("term", "required", "请填写评估的合作学期，如“2026-2027学年第一学期”")
        )
    elif len(data.term.strip()) > TERM_MAX:
        problems.append(Refusal("term", "too_long", f"学期不能超过{TERM_MAX}个字"))
    for field, label in (
        ("starts_on", "开始日期"),
        ("ends_on", "结束日期"),
        ("self_report_due", "自查报告截止日期"),
    ):
        if getattr(data, field) is None:
            problems.append(Refusal(field, "required", f"请填写{label}（YYYY-MM-DD）"))
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        problems.append(Refusal("ends_on", "before_start", "结束日期不能早于开始日期"))
    if data.starts_on and data.self_report_due and data.self_report_due < data.starts_on:
        problems.append(
            Refusal("self_report_due", "before_start", "自查报告截止日期不能早于开始日期")
        )
    return problems


async def open_cycle(actor: Actor, district_code: str, data: CycleIn) -> dict[str, Any]:
    """Open a district's cycle with a snapshot of the rubric in force; one open cycle at a time."""
    district = await district_row(district_code)
    role = staff_role(actor, district["id"], Role.reviewer, Role.approver, Role.city)
    problems = _cycle_problems(data)
    if problems:
        raise Refused("；".join(p.message for p in problems), problems)
    rubric, scope = await rubric_in_force(district_code)
    async with write_transaction(EvaluationCycle._meta.db):
        running = await EvaluationCycle.select(EvaluationCycle.name).where(
            (EvaluationCycle.district == district["id"])
            & (EvaluationCycle.status == CycleStatus.open.value)
        )
        if running:
            message = f"{district['name']}已有进行中的评估周期“{running[0]['name']}”，请先结束"
            raise Refused(message, [Refusal("name", "cycle_open", message)])
        rows = await EvaluationCycle.insert(
            EvaluationCycle(
                district=district["id"],
                name=data.name.strip(),
                term=data.term.strip(),
                starts_on=data.starts_on,
                ends_on=data.ends_on,
                self_report_due=data.self_report_due,
                rubric=rubric,
                opened_by=actor.user_id,
                opened_at=timesource.now(),
            )
        ).returning(EvaluationCycle.id)
        cycle_id = int(rows[0]["id"])
        await audit.record(
            actor,
            action="cycle.opened",
            role=role.value,
            payload={"cycle": cycle_id, "district": district_code, "rubric_scope": scope},
        )
    return await cycle_row(cycle_id)


async def district_cycles(actor: Actor, district_code: str) -> list[dict[str, Any]]:
    """A district's cycles, newest first (staff only)."""
    district = await district_row(district_code)
    if not is_district_staff(actor, district["id"]):
        raise NotFound(f"未知的区代码：{district_code}")
    return await (
        _cycles()
        .where(EvaluationCycle.district == district["id"])
        .order_by(EvaluationCycle.starts_on, ascending=False)
    )


async def cycle_inputs(cycle: Mapping[str, Any]) -> list[tuple[dict[str, Any], Inputs]]:
    """Every evaluated listing of a cycle with its inputs."""
    listings = await evaluated_listings(cycle["district"])
    inputs = await gather_inputs(cycle, listings)
    return [(listing, inputs[listing["id"]]) for listing in listings]


async def score_cycle(cycle: Mapping[str, Any]) -> list[tuple[dict[str, Any], Evaluation, bool]]:
    """Score every evaluated listing of a cycle with the cycle's own rubric."""
    return [
        (listing, evaluate(cycle["rubric"], data), data.rectified_last_cycle)
        for listing, data in await cycle_inputs(cycle)
    ]


RESULT_INSERT = (
    "key",
    "cycle",
    "listing",
    "score_centi",
    "grade",
    "consequence",
    "exit_reason",
    "breakdown",
    "school_responses",
    "parent_responses",
    "status",
    "adjusted",
    "adjust_reason",
)


def _result_values(
    cycle_id: int, listing_id: int, evaluation: Evaluation, rectified: bool
) -> tuple[Any, ...]:
    breakdown = evaluation.breakdown()
    breakdown["rectified_last_cycle"] = rectified
    return (
        _key(cycle_id, listing_id),
        cycle_id,
        listing_id,
        evaluation.score_centi,
        evaluation.grade,
        evaluation.consequence.value,
        evaluation.exit_reason.value if evaluation.exit_reason else None,
        json.dumps(breakdown, ensure_ascii=False),
        evaluation.school_responses,
        evaluation.parent_responses,
        (ResultStatus.manual if evaluation.needs_manual_grading else ResultStatus.computed).value,
        False,
        "",
    )


@dataclass(frozen=True)
class CloseSummary:
    cycle_id: int
    scored: int
    by_grade: dict[str, int]
    by_consequence: dict[str, int]
    sent_for_hearing: int = 0
    closed_early: bool = False


async def close_cycle(actor: Actor, cycle_id: int, early_reason: str = "") -> CloseSummary:
    """Close an open cycle: compute and store every listing's result.

    Only after every input deadline has passed; before that, only with a reason (closing
    early), which the audit log keeps with what was still missing. Results that need manual
    grading wait for it; adverse ones are sent to their providers to be heard first.
    """
    cycle = await staff_cycle(actor, cycle_id)
    role = staff_role(actor, cycle["district"], Role.reviewer, Role.approver, Role.city)
    not_passed = deadlines.pending(cycle, timesource.local_today())
    reason = (early_reason or "").strip()
    if not_passed and not reason:
        message = (
            "输入截止日期未到，不能结束评估周期："
            + "；".join(not_passed)
            + "。如确需提前结束，请填写提前结束的理由（记入审计日志）"
        )
        raise Refused(message, [Refusal("early_reason", "deadlines_not_passed", message)])
    if len(reason) > CLOSE_REASON_MAX:
        message = f"提前结束的理由不能超过{CLOSE_REASON_MAX}字"
        raise Refused(message, [Refusal("early_reason", "too_long", message)])
    early = bool(not_passed)
    missing = await deadlines.missing_inputs(cycle) if early else []
    async with write_transaction(EvaluationCycle._meta.db):
        # Claim the close first: on PostgreSQL a second close waits on this row's lock, then
        # finds it closed (a re-read alone let both score the cycle, and the second insert of
        # the results failed on their unique key: a 500).
        claimed = (
            await EvaluationCycle.update(
                {
                    EvaluationCycle.status: CycleStatus.closed.value,
                    EvaluationCycle.closed_by: actor.user_id,
                    EvaluationCycle.closed_at: timesource.now(),
                    EvaluationCycle.closed_early: early,
                    EvaluationCycle.close_reason: reason if early else "",
                }
            )
            .where(
                (EvaluationCycle.id == cycle_id)
                & (EvaluationCycle.status == CycleStatus.open.value)
            )
            .returning(EvaluationCycle.id)
        )
        if not claimed:
            raise Refused(
                "评估周期已结束",
                [Refusal("cycle", "closed", "该评估周期已经结束，结果已计算")],
            )
        scored = await score_cycle(cycle)
        rows = [_result_values(cycle_id, listing["id"], ev, rect) for listing, ev, rect in scored]
        await insert_rows(EvaluationResult, RESULT_INSERT, rows)
        by_grade: dict[str, int] = {}
        by_consequence: dict[str, int] = {}
        for _, ev, _ in scored:
            by_grade[ev.grade or "none"] = by_grade.get(ev.grade or "none", 0) + 1
            by_consequence[ev.consequence.value] = by_consequence.get(ev.consequence.value, 0) + 1
        await audit.record(
            actor,
            action="cycle.closed_early" if early else "cycle.closed",
            role=role.value,
            reason=reason if early else "",
            payload={
                "cycle": cycle_id,
                "scored": len(rows),
                "by_consequence": by_consequence,
                "deadlines_not_passed": not_passed,
                "providers_missing_inputs": len(missing),
                "missing": missing[:200],
            },
        )
        adverse = await (
            EvaluationResult.select(*EvaluationResult._meta.columns)
            .where(
                (EvaluationResult.cycle == cycle_id)
                & EvaluationResult.consequence.is_in(
                    [Consequence.rectification.value, Consequence.exit.value]
                )
            )
            .order_by(EvaluationResult.listing)
            .output(load_json=True)
        )
        sent = await open_hearings(actor, cycle, adverse)
    return CloseSummary(cycle_id, len(rows), by_grade, by_consequence, sent, early)


RESULT_COLUMNS = (
    *EvaluationResult._meta.columns,
    EvaluationResult.listing.organisation.name.as_alias("organisation_name"),
    EvaluationResult.listing.organisation.id.as_alias("organisation_id"),
    EvaluationResult.listing.state.as_alias("listing_state"),
)


async def cycle_results(actor: Actor, cycle_id: int) -> list[dict[str, Any]]:
    """All results of a cycle, for its district's staff."""
    await staff_cycle(actor, cycle_id)
    where = visible(RecordKind.result, actor)
    if where is None:
        return []
    return (
        await EvaluationResult.select(*RESULT_COLUMNS)
        .where((EvaluationResult.cycle == cycle_id) & where)
        .order_by(EvaluationResult.listing)
        .output(load_json=True)
    )


async def result_row(cycle_id: int, listing_id: int) -> dict[str, Any]:
    """One result, or 404."""
    row = (
        await EvaluationResult.select(*RESULT_COLUMNS)
        .where(EvaluationResult.key == _key(cycle_id, listing_id))
        .output(load_json=True)
        .first()
    )
    if row is None:
        raise NotFound("该机构在本评估周期没有评估结果")
    return row
