"""Evaluation results: one listing's result with its breakdown, the evidence behind it, manual
grading, the provider's hearing (陈述、申辩) and the reviewer's decision."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from registry.evaluation import cycles, decisions, hearings
from registry.pages.common import redirect, render
from registry.pages.evaluation.common import (
    DONE_MESSAGES,
    PAGE,
    SELF_REPORT_LABELS,
    errors_of,
    is_reviewer,
    result_view,
)
from registry.pages.evaluation.cycles import render_cycle
from registry.web.errors import status_of
from workflows import timesource
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import NotFound, Refused, TransitionError
from workflows.scoring import (
    EVIDENCE_LABELS,
    GRADE_LABELS,
    GRADE_ORDER,
    SEVERITY_LABELS,
    SOURCE_LABELS,
    TALLY_LABELS,
    Consequence,
)
from workflows.states import Role, exit_reason_label


def _inputs_text(line: dict[str, Any]) -> str:
    """What went into a breakdown line, in words a person can check against the records."""
    data = line.get("inputs") or {}
    source = line.get("source")
    if source == "school_feedback":
        if not data.get("schools"):
            return "无合作学校评价"
        means = "、".join(str(m) for m in data.get("school_means") or [])
        return f"{data['schools']}所学校评价，各校平均分：{means}"
    if source == "parent_satisfaction":
        counts = "、".join(f"{label}{data.get(k, 0)}份" for k, label in TALLY_LABELS.items())
        return f"家长问卷{data.get('responses', 0)}份（{counts}）"
    if source == "inspection":
        if data.get("inspection") is None:
            return "未进行现场检查"
        fee = "，查实违规收费" if data.get("fee_violation") else ""
        return f"现场检查{data['inspection']}分{fee}"
    if source == "self_report":
        return SELF_REPORT_LABELS.get(str(data.get("status") or ""), "未提交自查报告")
    if source == "upheld_complaints":
        return f"查实投诉{data.get('upheld', 0)}件"
    if source == "safety_incidents":
        return "、".join(f"{label}{data.get(k, 0)}起" for k, label in SEVERITY_LABELS.items())
    return json.dumps(data, ensure_ascii=False)


def _breakdown(row: dict[str, Any]) -> dict[str, Any]:
    body = row["breakdown"] or {}
    lines = [
        {**line, "source_label": SOURCE_LABELS.get(line.get("source"), ""),
         "inputs_text": _inputs_text(line)}
        for line in body.get("lines") or []
    ]  # fmt: skip
    return {
        "score": body.get("score"),
        "grade_label": GRADE_LABELS.get(body.get("grade") or "", "未评定"),
        "scored": [line for line in lines if line.get("kind") == "score"],
        "deductions": [line for line in lines if line.get("kind") == "deduction"],
        "vetoes": [
            {"label": exit_reason_label(v.get("exit_reason")), "text": v.get("text", "")}
            for v in body.get("vetoes") or []
        ],
        "explanation": body.get("explanation", ""),
        "consequence_label": (
            Consequence(body["consequence"]).label if body.get("consequence") else ""
        ),
        "exit_reason_label": exit_reason_label(body.get("exit_reason")),
        "rectified_last_cycle": bool(body.get("rectified_last_cycle")),
        "score_grade_label": GRADE_LABELS.get(body.get("score_grade") or "", ""),
        "evidence": _evidence_text(body.get("evidence") or {}),
        "evidence_gaps": body.get("evidence_gaps") or [],
    }


def _evidence_text(evidence: dict[str, Any]) -> list[str]:
    """The outside evidence a result rests on, one phrase per kind."""
    return [
        f"{EVIDENCE_LABELS['school_ratings']}{int(evidence.get('school_ratings') or 0)}所",
        f"{EVIDENCE_LABELS['parent_responses']}{int(evidence.get('parent_responses') or 0)}份",
        "现场检查：" + ("已检查" if evidence.get("inspection") else "未检查"),
    ]


async def _hearing_views(result_id: int) -> list[dict[str, Any]]:
    """The result's hearings, oldest first, with their stage and the answer's attachments."""
    rows = await hearings.hearings_of_result(result_id)
    ids = [d for h in rows for d in h["answer_documents"] or []]
    documents = {d["id"]: d for d in await hearings.answer_documents(ids)}
    today = timesource.local_today()
    return [
        {
            **h,
            "stage": hearings.stage_label(h, today),
            "documents": [
                documents[int(d)] for d in h["answer_documents"] or [] if int(d) in documents
            ],
            "may_decide": h["outcome"] == "" and hearings.may_decide(h, today),
        }
        for h in rows
    ]


async def _result_page(
    actor: Actor, cycle_id: int, listing_id: int, status_code: int = 200, **extra: Any
) -> Template:
    cycle = await cycles.staff_cycle(actor, cycle_id)
    row = result_view(await cycles.result_row(cycle_id, listing_id))
    heard = await _hearing_views(row["id"])
    current = next((h for h in heard if h["outcome"] == ""), None)
    return render(
        "evaluation/bureau_result.html",
        actor,
        status_code=status_code,
        cycle=cycle,
        result=row,
        breakdown=_breakdown(row),
        hearings=heard,
        current=current,
        grades=[(g, GRADE_LABELS[g]) for g in GRADE_ORDER],
        reviewer=is_reviewer(actor, cycle["district"]),
        grader=any(
            g.role in (Role.reviewer, Role.approver) and g.district_id == cycle["district"]
            for g in actor.grants
        ),
        errors=extra.pop("errors", {}),
        typed=extra.pop("typed", {}),
        **extra,
    )


@get(
    "/bureau/evaluation/{cycle_id:int}/results/{listing_id:int}",
    include_in_schema=False,
    dependencies=PAGE,
)
async def result_page(
    actor: NamedDependency[Actor],
    cycle_id: FromPath[int],
    listing_id: FromPath[int],
    done: FromQuery[str] = "",
) -> Template:
    """One listing's result with the breakdown behind it, and the confirm/adjust forms."""
    return await _result_page(actor, cycle_id, listing_id, flash=DONE_MESSAGES.get(done))


@post(
    "/bureau/evaluation/{cycle_id:int}/results/{listing_id:int}/confirm",
    include_in_schema=False,
    dependencies=PAGE,
)
async def confirm_result(
    actor: NamedDependency[Actor],
    request: Request[Any, Any, Any],
    cycle_id: FromPath[int],
    listing_id: FromPath[int],
) -> Template | Redirect:
    """Confirm a result as computed, or with an adjusted score and its reason; for a heard
    result, the decision with its reason (an adverse one not yet heard is sent to be heard)."""
    form = await request.form()
    back = "result" if str(form.get("back", "")) == "result" else "cycle"
    decide = str(form.get("decide", "")) == "1"
    typed = {k: str(form.get(k, "")).strip() for k in ("score", "reason")}
    adjust = str(form.get("adjust", "")) == "1" or (decide and bool(typed["score"]))
    try:
        if adjust and not typed["score"]:
            raise Refused(
                "请填写调整后的得分",
                [Refusal("score", "required", "请填写调整后的得分（0到100）")],
            )
        decision = await decisions.confirm_result(
            actor,
            cycle_id,
            listing_id,
            score=typed["score"] if adjust else None,
            reason=typed["reason"],
        )
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        errors = errors_of(error)
        # Refusals of the result as a whole (not of a typed field) are said at the top.
        general = "；".join(m for k in ("status", "grade", "_") for m in errors.get(k, []))
        if adjust or decide:
            flash = general or "评估结果未确认，请按提示修改"
        else:
            flash = "；".join(m for ms in errors.values() for m in ms)
        common: dict[str, Any] = {
            "errors": errors if adjust or decide else {},
            "typed": typed,
            "flash": flash,
            "flash_kind": "error",
        }
        if back == "result":
            return await _result_page(actor, cycle_id, listing_id, status_of(error), **common)
        return await render_cycle(actor, cycle_id, status_of(error), failed=listing_id, **common)
    if decision.outcome == "sent_for_hearing":
        done = "sent"
    else:
        done = "adjusted" if adjust else "confirmed"
    if back == "result":
        return redirect(f"/bureau/evaluation/{cycle_id}/results/{listing_id}?done={done}")
    return redirect(f"/bureau/evaluation/{cycle_id}?done={done}#result-{listing_id}")


@post(
    "/bureau/evaluation/{cycle_id:int}/results/{listing_id:int}/grade",
    include_in_schema=False,
    dependencies=PAGE,
)
async def grade_result(
    actor: NamedDependency[Actor],
    request: Request[Any, Any, Any],
    cycle_id: FromPath[int],
    listing_id: FromPath[int],
) -> Template | Redirect:
    """An evaluator grades a result the evidence could not carry, with a reason."""
    form = await request.form()
    typed = {k: str(form.get(k, "")).strip() for k in ("grade", "reason")}
    typed["rectification"] = "1" if form.get("rectification") else ""
    try:
        decision = await decisions.grade_manually(
            actor,
            cycle_id,
            listing_id,
            grade=typed["grade"],
            reason=typed["reason"],
            rectification=bool(typed["rectification"]),
        )
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        return await _result_page(
            actor,
            cycle_id,
            listing_id,
            status_of(error),
            errors=errors_of(error),
            typed=typed,
            flash="人工评定未保存，请按提示修改",
            flash_kind="error",
        )
    done = "sent" if decision.outcome == "sent_for_hearing" else "graded"
    return redirect(f"/bureau/evaluation/{cycle_id}/results/{listing_id}?done={done}")


ROUTES: list[Any] = [result_page, confirm_result, grade_result]
