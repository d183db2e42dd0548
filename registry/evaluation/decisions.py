"""Deciding results: manual grading, confirmation (one or many), and the consequences firing.

The order a result goes through:

    computed ──confirm──▶ confirmed (renew fires)
    manual ──grade by hand──▶ computed, or provisional when the grade is adverse
    provisional ──provider answers or the deadline passes──▶ decide with a reason ──▶ confirmed

An adverse consequence (rectification, exit) never fires before the provider was heard on
it; a change at decision time that makes it harsher is heard again first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from registry.applications.inbox import zh
from registry.db import write_transaction
from registry.evaluation.cycles import cycle_results, result_row, staff_cycle, staff_role
from registry.evaluation.hearings import (
    is_adverse,
    may_decide,
    open_hearing_of,
    open_hearings,
)
from registry.public import projection
from registry.tables import District, EvaluationResult, Hearing, Listing, ResultStatus
from workflows import audit, engine, timesource
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import Refused
from workflows.scoring import (
    CONSEQUENCE_LABELS,
    GRADE_LABELS,
    GRADE_ORDER,
    Consequence,
    cents,
    consequence_for,
    grade_of,
)
from workflows.states import ExitReason, Role, State
from workflows.transitions import ON_WHITELIST

REASON_MAX = 2000
# How hard a consequence falls: a change to a harsher one is heard again before it fires.
SEVERITY = {
    Consequence.none: 0,
    Consequence.renew: 0,
    Consequence.rectification: 1,
    Consequence.exit: 2,
}
NO_ANSWER_REASON = "机构在陈述、申辩期限内未提出意见，维持拟定结果"


def _plan(consequence: Consequence, state: State) -> list[str]:
    """The engine transitions a confirmed consequence fires from the listing's state now."""
    if consequence == Consequence.exit:
        return ["fail_evaluation"] if state in ON_WHITELIST | {State.suspended} else []
    if consequence == Consequence.rectification:
        return ["put_under_rectification"] if state == State.listed else []
    if consequence == Consequence.renew:
        if state == State.under_rectification:
            return ["close_rectification", "renew"]
        return ["renew"] if state == State.listed else []
    return []


def _reason(text: object, field_name: str = "reason") -> str:
    reason = str(text or "").strip()
    if len(reason) > REASON_MAX:
        raise Refused("理由过长", [Refusal(field_name, "too_long", f"理由不能超过{REASON_MAX}字")])
    return reason


def _adjusted(
    cycle: Mapping[str, Any], result: Mapping[str, Any], score: object, reason: str
) -> dict[str, Any]:
    """The columns an adjusted score changes (grade and consequence follow the rubric)."""
    if not reason:
        raise Refused(
            "调整得分须说明理由", [Refusal("reason", "required", "调整得分时请填写调整理由")]
        )
    try:
        value = cents(Decimal(str(score)))
    except (InvalidOperation, ValueError):
        value = Decimal(-1)
    if not Decimal(0) <= value <= Decimal(100):
        raise Refused(
            "调整后的得分应在0到100之间",
            [Refusal("score", "range", "调整后的得分应为0到100之间的数字，最多两位小数")],
        )
    rubric = cycle["rubric"]
    breakdown = result["breakdown"] or {}
    vetoes = tuple(
        (ExitReason(v["exit_reason"]), str(v["text"])) for v in breakdown.get("vetoes", ())
    )
    grade = grade_of(value, rubric["grades"])
    consequence, exit_reason, _ = consequence_for(
        rubric, value, grade, vetoes, bool(breakdown.get("rectified_last_cycle"))
    )
    return {
        "score_centi": int(value * 100),
        "grade": grade,
        "consequence": consequence.value,
        "exit_reason": exit_reason.value if exit_reason else None,
        "adjusted": True,
        "adjust_reason": reason,
    }


async def reconsideration_notice(district_id: int) -> str:
    """The exit notice's words on the right to administrative reconsideration and to sue."""
    policy = await engine.district_policy(district_id)
    rules = policy["evaluation"]
    district = await District.select(District.name).where(District.id == district_id).first()
    body = str(rules["reconsideration_body"]).replace("{district}", district["name"])
    return (
        f"如不服本决定，可以自知道该决定之日起{rules['reconsideration_days']}日内"
        f"向{body}申请行政复议，或者自知道该决定之日起{rules['litigation_months']}个月内"
        "依法向人民法院提起行政诉讼。"
    )


async def _fire(
    actor: Actor, cycle: Mapping[str, Any], listing_id: int, final: Mapping[str, Any]
) -> None:
    """The confirmed consequence's transitions, with the provider's message."""
    listing = await Listing.select(Listing.state).where(Listing.id == listing_id).first()
    consequence = Consequence(final["consequence"])
    grade_label = GRADE_LABELS.get(final["grade"] or "", "未评定")
    score_text = "—" if final["score_centi"] is None else f"{final['score_centi'] / 100:.2f}"
    explanation = (final["breakdown"] or {}).get("explanation", "")
    message = f"{cycle['name']}评估结果：得分{score_text}，等级{grade_label}，{consequence.label}"
    if final.get("decision_reason"):
        message += f"。复核意见：{final['decision_reason']}"
    if consequence == Consequence.exit:
        message += "。" + await reconsideration_notice(cycle["district"])
    plan = _plan(consequence, State(listing["state"]))
    for action in plan:
        params = {"exit_reason": final["exit_reason"]} if action == "fail_evaluation" else {}
        await engine.fire(
            listing_id,
            action,
            actor,
            reason=f"{cycle['name']}评估：{explanation}" if explanation else cycle["name"],
            message=message,
            params=params,
        )
    if not plan:
        # The public grade changed with no transition to carry it (e.g. a suspended
        # listing): the engine's own refresh, as a fired transition would have run it.
        await projection.refresh(listing_id)


async def _confirm(
    actor: Actor,
    cycle: Mapping[str, Any],
    result: Mapping[str, Any],
    changes: Mapping[str, Any],
    decision_reason: str = "",
) -> None:
    """Store the final result, close its hearing, record it and fire what follows."""
    final = {**result, **changes, "decision_reason": decision_reason}
    now = timesource.now()
    await EvaluationResult.update(
        {
            **{getattr(EvaluationResult, k): v for k, v in changes.items()},
            EvaluationResult.decision_reason: decision_reason,
            EvaluationResult.status: ResultStatus.confirmed.value,
            EvaluationResult.confirmed_by: actor.user_id,
            EvaluationResult.confirmed_at: now,
        }
    ).where(EvaluationResult.id == result["id"])
    hearing = await open_hearing_of(result["id"])
    if hearing is not None:
        same = hearing["consequence"] == final["consequence"]
        await Hearing.update(
            {
                Hearing.outcome: "confirmed" if same else "changed",
                Hearing.decided_by: actor.user_id,
                Hearing.decided_at: now,
                Hearing.decision_reason: decision_reason,
            }
        ).where(Hearing.id == hearing["id"])
    score_text = "—" if final["score_centi"] is None else f"{final['score_centi'] / 100:.2f}"
    await audit.record(
        actor,
        action="evaluation.confirmed",
        role=Role.reviewer.value,
        listing=result["listing"],
        reason=decision_reason or (final["adjust_reason"] if final["adjusted"] else ""),
        payload={
            "cycle": cycle["id"],
            "cycle_name": cycle["name"],
            "score": score_text,
            "grade": GRADE_LABELS.get(final["grade"] or "") if final["grade"] else None,
            "grade_code": final["grade"],
            "consequence": final["consequence"],
            "adjusted": bool(final["adjusted"]),
            "heard": hearing is not None,
            "answered": bool(hearing and hearing["answered_at"] is not None),
        },
    )
    await _fire(actor, cycle, result["listing"], final)


async def _send_for_hearing(
    actor: Actor, cycle: Mapping[str, Any], result: Mapping[str, Any], changes: Mapping[str, Any]
) -> None:
    if changes:
        await EvaluationResult.update(
            {getattr(EvaluationResult, k): v for k, v in changes.items()}
        ).where(EvaluationResult.id == result["id"])
    await open_hearings(actor, cycle, [{**result, **changes}])


@dataclass(frozen=True)
class Decision:
    """What a confirm call did: confirmed it, or sent it to the provider to be heard first."""

    outcome: str  # "confirmed" or "sent_for_hearing"
    result: dict[str, Any]


async def confirm_result(
    actor: Actor,
    cycle_id: int,
    listing_id: int,
    *,
    score: object = None,
    reason: str = "",
) -> Decision:
    """A reviewer confirms one result, optionally adjusting its score (with a reason).

    An adverse result not yet heard is sent to the provider instead; a heard one is decided
    once the provider answered or the deadline passed, with a reason answering the answer.
    """
    cycle = await staff_cycle(actor, cycle_id)
    staff_role(actor, cycle["district"], Role.reviewer)
    today = timesource.local_today()
    text = _reason(reason)
    async with write_transaction(EvaluationResult._meta.db):
        result = await result_row(cycle_id, listing_id)
        status = ResultStatus(result["status"])
        if status == ResultStatus.confirmed:
            raise Refused(
                "该评估结果已确认",
                [Refusal("status", "confirmed", "该评估结果已经确认，不能再次确认")],
            )
        if status == ResultStatus.manual:
            raise Refused(
                "该结果需人工评定",
                [Refusal("grade", "manual", "该结果证据不足或没有可评分的数据，请先人工评定等级")],
            )
        changes: dict[str, Any] = {}
        if score is not None and str(score).strip() != "":
            changes = _adjusted(cycle, result, score, text)
        consequence = Consequence(changes.get("consequence", result["consequence"]))
        if status == ResultStatus.computed:
            if is_adverse(consequence):
                await _send_for_hearing(actor, cycle, result, changes)
                return Decision("sent_for_hearing", await result_row(cycle_id, listing_id))
            await _confirm(actor, cycle, result, changes)
            return Decision("confirmed", await result_row(cycle_id, listing_id))
        hearing = await open_hearing_of(result["id"])
        if hearing is None:  # provisional without a hearing cannot happen; hear it now
            await _send_for_hearing(actor, cycle, result, changes)
            return Decision("sent_for_hearing", await result_row(cycle_id, listing_id))
        if not may_decide(hearing, today):
            raise Refused(
                "陈述申辩期未满",
                [
                    Refusal(
                        "status",
                        "hearing_open",
                        f"机构陈述、申辩期限至{zh(hearing['answer_due'])}，"
                        "期满或机构提交意见后才能作出决定",
                    )
                ],
            )
        answered = hearing["answered_at"] is not None
        if answered and not text:
            raise Refused(
                "请填写复核决定理由",
                [
                    Refusal(
                        "reason",
                        "required",
                        "机构已提交陈述、申辩意见，请填写复核决定理由并回应其意见",
                    )
                ],
            )
        if SEVERITY[consequence] > SEVERITY[Consequence(hearing["consequence"])]:
            await _send_for_hearing(actor, cycle, result, changes)
            return Decision("sent_for_hearing", await result_row(cycle_id, listing_id))
        await _confirm(actor, cycle, result, changes, text or NO_ANSWER_REASON)
    return Decision("confirmed", await result_row(cycle_id, listing_id))


async def grade_manually(
    actor: Actor,
    cycle_id: int,
    listing_id: int,
    *,
    grade: str,
    reason: str,
    rectification: bool = False,
) -> Decision:
    """An evaluator grades a result the evidence could not carry, with a reason.

    The grade decides the consequence (不合格: exit; otherwise renewal, or rectification when
    the evaluator says so for 合格); an adverse one is sent to the provider to be heard.
    """
    cycle = await staff_cycle(actor, cycle_id)
    staff_role(actor, cycle["district"], Role.reviewer, Role.approver)
    text = _reason(reason)
    problems = []
    if grade not in GRADE_ORDER:
        problems.append(Refusal("grade", "invalid", "请选择等级：优秀、良好、合格或不合格"))
    if not text:
        problems.append(Refusal("reason", "required", "请填写人工评定的理由和依据"))
    if rectification and grade != "pass":
        problems.append(Refusal("rectification", "invalid", "只有评定为合格时才能责令整改"))
    if problems:
        raise Refused("；".join(p.message for p in problems), problems)
    async with write_transaction(EvaluationResult._meta.db):
        result = await result_row(cycle_id, listing_id)
        if result["status"] != ResultStatus.manual.value:
            raise Refused(
                "该结果不需要人工评定",
                [Refusal("status", "not_manual", "该结果已有等级，不需要人工评定")],
            )
        if grade == "fail":
            consequence, exit_reason = Consequence.exit, ExitReason.evaluation_failed.value
        elif rectification:
            consequence, exit_reason = Consequence.rectification, None
        else:
            consequence, exit_reason = Consequence.renew, None
        changes = {
            "grade": grade,
            "consequence": consequence.value,
            "exit_reason": exit_reason,
            "graded_by": actor.user_id,
            "graded_at": timesource.now(),
            "grade_reason": text,
            "status": ResultStatus.computed.value,
        }
        await EvaluationResult.update(
            {getattr(EvaluationResult, k): v for k, v in changes.items()}
        ).where(EvaluationResult.id == result["id"])
        await audit.record(
            actor,
            action="evaluation.graded",
            role=staff_role(actor, cycle["district"], Role.reviewer, Role.approver).value,
            listing=listing_id,
            reason=text,
            payload={"cycle": cycle_id, "grade": grade, "consequence": consequence.value},
        )
        if is_adverse(consequence):
            await open_hearings(actor, cycle, [{**result, **changes}])
            return Decision("sent_for_hearing", await result_row(cycle_id, listing_id))
    return Decision("graded", await result_row(cycle_id, listing_id))


# --- many at once -----------------------------------------------------------------------------


@dataclass
class BatchPlan:
    """What confirming many results at once would do, shown before anyone confirms."""

    included: list[Mapping[str, Any]] = field(default_factory=list)
    by_consequence: dict[str, int] = field(default_factory=dict)
    exits: list[Mapping[str, Any]] = field(default_factory=list)
    skipped_manual: int = 0
    skipped_waiting: int = 0
    skipped_answered: int = 0

    @property
    def count(self) -> int:
        return len(self.included)

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "by_consequence": [
                {"consequence": k, "label": CONSEQUENCE_LABELS[Consequence(k)], "count": n}
                for k, n in self.by_consequence.items()
            ],
            "exits": [
                {"listing_id": r["listing"], "organisation_name": r["organisation_name"]}
                for r in self.exits
            ],
            "skipped": {
                "manual": self.skipped_manual,
                "waiting_for_answer": self.skipped_waiting,
                "answered": self.skipped_answered,
            },
            "listing_ids": [r["listing"] for r in self.included],
        }


async def batch_plan(
    actor: Actor, cycle_id: int, rows: Sequence[Mapping[str, Any]] | None = None
) -> BatchPlan:
    """Results a batch confirms: computed ones, and provisional ones whose provider did not
    answer by the deadline. Never one that needs manual grading, is still waiting for the
    provider, or was answered (that answer needs its own reasoned decision).

    `rows` are the cycle's results when the caller has read them already with
    `cycle_results` (which checks the actor's access); the plan is the same either way."""
    today = timesource.local_today()
    if rows is None:
        rows = await cycle_results(actor, cycle_id)
    waiting_ids = [r["id"] for r in rows if r["status"] == ResultStatus.provisional.value]
    hearings: dict[int, dict[str, Any]] = {}
    if waiting_ids:
        for hearing in await Hearing.select().where(
            Hearing.result.is_in(waiting_ids) & (Hearing.outcome == "")
        ):
            hearings[hearing["result"]] = hearing
    plan = BatchPlan()
    for row in rows:
        status = row["status"]
        if status == ResultStatus.manual.value:
            plan.skipped_manual += 1
            continue
        if status == ResultStatus.provisional.value:
            hearing = hearings.get(row["id"])
            if hearing is None or not may_decide(hearing, today):
                plan.skipped_waiting += 1
                continue
            if hearing["answered_at"] is not None:
                plan.skipped_answered += 1
                continue
        elif status != ResultStatus.computed.value:
            continue
        if status == ResultStatus.computed.value and is_adverse(row["consequence"]):
            plan.skipped_waiting += 1  # not heard yet: confirming it would send it
            continue
        plan.included.append(row)
        plan.by_consequence[row["consequence"]] = plan.by_consequence.get(row["consequence"], 0) + 1
        if row["consequence"] == Consequence.exit.value:
            plan.exits.append(row)
    return plan


async def confirm_batch(actor: Actor, cycle_id: int, expected: list[int]) -> int:
    """Confirm what the plan the reviewer saw lists; refused if the plan changed meanwhile."""
    plan = await batch_plan(actor, cycle_id)
    ids = [r["listing"] for r in plan.included]
    if sorted(ids) != sorted(expected):
        raise Refused(
            "待确认的结果已变化",
            [
                Refusal(
                    "listing_ids",
                    "changed",
                    "确认前列出的结果与现在不一致（可能有人刚刚处理过），请重新查看后再确认",
                )
            ],
        )
    for listing_id in ids:
        await confirm_result(actor, cycle_id, listing_id)
    return len(ids)
