"""The district staff's evaluation pages: cycles, inspections, results and the rubric.

Every change goes through registry.evaluation (the same service the JSON API calls); a refusal
re-renders the page with each message next to its field and the typed values kept.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from registry import review
from registry.evaluation import cycles, inputs, preview, rubrics
from registry.evaluation.gather import evaluated_listings
from registry.pages.common import page_actor, redirect, render
from registry.tables import CycleStatus, EvaluationResult, Inspection, ResultStatus
from registry.web.errors import status_of
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import NotFound, Refused, TransitionError, local_today
from workflows.scoring import (
    GRADE_LABELS,
    SEVERITY_LABELS,
    SOURCE_LABELS,
    TALLY_LABELS,
    Consequence,
    Evaluation,
)
from workflows.states import Role, exit_reason_label

_PAGE = {"actor": Provide(page_actor)}
CYCLE_FIELDS = ("name", "term", "starts_on", "ends_on", "self_report_due")
SELF_REPORT_LABELS = {
    "on_time": "按时提交且内容完整",
    "late": "逾期提交",
    "incomplete": "内容不完整",
}
SCOPE_LABELS = {"city": "市级细则", "default": "默认（市级默认细则）"}
DONE_MESSAGES = {
    "opened": "评估周期已开启",
    "inspection": "现场检查结果已保存",
    "closed": "评估已结束，得分已计算，请逐条确认",
    "confirmed": "评估结果已确认",
    "adjusted": "得分已调整并确认",
    "saved": "评估细则已保存",
    "reset": "已恢复为市级细则",
}

Errors = dict[str, list[str]]


def _errors(error: TransitionError) -> Errors:
    """The refusal's messages by field (the detail alone when no field is named)."""
    found: Errors = {}
    for item in error.errors:
        found.setdefault(item.field or "_", []).append(item.message)
    return found or {"_": [error.detail]}


def _score_text(centi: int | None) -> str:
    return "—" if centi is None else f"{centi / 100:.2f}"


def _is_reviewer(actor: Actor, district_id: int) -> bool:
    # Inspections and confirmations are the district reviewers' (the service enforces it too).
    return any(g.role == Role.reviewer and g.district_id == district_id for g in actor.grants)


async def _district(actor: Actor, code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The chosen district (the first the actor covers by default) and all it may choose."""
    districts = await review.staff_districts(actor)
    if not districts:
        raise NotFoundException()
    chosen = next((d for d in districts if d["code"] == code), None)
    if code and chosen is None:
        raise NotFoundException()
    return chosen or districts[0], districts


def _district_query(district: dict[str, Any], districts: list[dict[str, Any]]) -> str:
    return f"?district={district['code']}" if len(districts) > 1 else ""


# --- cycles --------------------------------------------------------------------------------


async def _cycle_counts(cycle_rows: list[dict[str, Any]], district_id: int) -> dict[int, str]:
    """Per cycle: results and how many are confirmed; the listings being evaluated if open."""
    ids = [c["id"] for c in cycle_rows]
    rows = await EvaluationResult.select(EvaluationResult.cycle, EvaluationResult.status).where(
        EvaluationResult.cycle.is_in(ids or [-1])
    )
    counted = Counter((r["cycle"], r["status"]) for r in rows)
    text: dict[int, str] = {}
    for cycle in cycle_rows:
        if cycle["status"] == CycleStatus.open.value:
            text[cycle["id"]] = f"评估机构 {len(await evaluated_listings(district_id))} 家"
        else:
            done = counted[(cycle["id"], ResultStatus.confirmed.value)]
            total = done + counted[(cycle["id"], ResultStatus.computed.value)]
            text[cycle["id"]] = f"结果 {total} 条，已确认 {done} 条"
    return text


async def _cycles_page(actor: Actor, code: str, status_code: int = 200, **extra: Any) -> Template:
    district, districts = await _district(actor, code)
    rows = await cycles.district_cycles(actor, district["code"])
    return render(
        "evaluation/bureau_cycles.html",
        actor,
        status_code=status_code,
        district=district,
        districts=districts,
        query=_district_query(district, districts),
        cycles=rows,
        counts=await _cycle_counts(rows, district["id"]),
        has_open=any(c["status"] == CycleStatus.open.value for c in rows),
        values=extra.pop("values", dict.fromkeys(CYCLE_FIELDS, "")),
        errors=extra.pop("errors", {}),
        **extra,
    )


@get("/bureau/evaluation", include_in_schema=False, dependencies=_PAGE)
async def cycles_page(
    actor: NamedDependency[Actor], district: FromQuery[str] = "", done: FromQuery[str] = ""
) -> Template:
    """A district's cycles and the form to open the next one."""
    return await _cycles_page(actor, district, flash=DONE_MESSAGES.get(done))


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@post("/bureau/evaluation", include_in_schema=False, dependencies=_PAGE)
async def open_cycle(
    actor: NamedDependency[Actor], request: Request[Any, Any, Any]
) -> Template | Redirect:
    """Open a cycle; the rubric in force is snapshotted by the service."""
    form = await request.form()
    code = str(form.get("district", "")).strip()
    values = {k: str(form.get(k, "")).strip() for k in CYCLE_FIELDS}
    district, _ = await _district(actor, code)
    given = cycles.CycleIn(
        values["name"],
        values["term"],
        _day(values["starts_on"]),
        _day(values["ends_on"]),
        _day(values["self_report_due"]),
    )
    try:
        cycle = await cycles.open_cycle(actor, district["code"], given)
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        return await _cycles_page(
            actor, district["code"], status_of(error), values=values, errors=_errors(error)
        )
    return redirect(f"/bureau/evaluation/{cycle['id']}?done=opened")


@dataclass(frozen=True)
class Progress:
    """What has come in so far for one listing of an open cycle."""

    listing: dict[str, Any]
    schools: int
    parents: int
    inspection: dict[str, Any] | None
    self_report: str


async def _progress(cycle: dict[str, Any]) -> list[Progress]:
    inspected = {
        r["listing"]: r for r in await Inspection.select().where(Inspection.cycle == cycle["id"])
    }
    rows = []
    for listing, data in await cycles.cycle_inputs(cycle):
        status = data.self_report.value if data.self_report else ""
        rows.append(
            Progress(
                listing=listing,
                schools=len(
                    [s for s in data.school_scores if any(v is not None for v in s.values())]
                ),
                parents=data.tally.total,
                inspection=inspected.get(listing["id"]),
                self_report=SELF_REPORT_LABELS.get(status, "未提交"),
            )
        )
    return sorted(rows, key=lambda p: p.listing["id"])


def _result_view(row: dict[str, Any]) -> dict[str, Any]:
    """A result row with its labels, as the tables show it."""
    return {
        **row,
        "score_text": _score_text(row["score_centi"]),
        "grade_label": GRADE_LABELS.get(row["grade"] or "", "未评定"),
        "consequence_label": Consequence(row["consequence"]).label,
        "exit_reason_label": exit_reason_label(row["exit_reason"]),
        "confirmed": row["status"] == ResultStatus.confirmed.value,
    }


async def _cycle_page(
    actor: Actor, cycle_id: int, status_code: int = 200, **extra: Any
) -> Template:
    cycle = await cycles.staff_cycle(actor, cycle_id)
    is_open = cycle["status"] == CycleStatus.open.value
    consequence = extra.pop("consequence", "")
    context: dict[str, Any] = {}
    if is_open:
        context["progress"] = await _progress(cycle)
    else:
        results = [_result_view(r) for r in await cycles.cycle_results(actor, cycle_id)]
        counts = Counter(r["consequence"] for r in results)
        context["filters"] = [
            (c.value, c.label, counts.get(c.value, 0)) for c in Consequence if counts.get(c.value)
        ]
        shown = [r for r in results if not consequence or r["consequence"] == consequence]
        context.update(
            results=shown,
            total=len(results),
            waiting=sum(1 for r in results if not r["confirmed"]),
        )
    return render(
        "evaluation/bureau_cycle.html",
        actor,
        status_code=status_code,
        cycle=cycle,
        is_open=is_open,
        consequence=consequence,
        reviewer=_is_reviewer(actor, cycle["district"]),
        # The service refuses inspection dates after the registry's local today.
        today=local_today().isoformat(),
        errors=extra.pop("errors", {}),
        failed=extra.pop("failed", None),
        typed=extra.pop("typed", {}),
        **context,
        **extra,
    )


@get("/bureau/evaluation/{cycle_id:int}", include_in_schema=False, dependencies=_PAGE)
async def cycle_page(
    actor: NamedDependency[Actor],
    cycle_id: FromPath[int],
    done: FromQuery[str] = "",
    consequence: FromQuery[str] = "",
) -> Template:
    """An open cycle's inputs and inspections, or a closed one's results to confirm."""
    if consequence not in Consequence.__members__:
        consequence = ""
    return await _cycle_page(
        actor, cycle_id, flash=DONE_MESSAGES.get(done), consequence=consequence
    )


@post(
    "/bureau/evaluation/{cycle_id:int}/inspections/{listing_id:int}",
    include_in_schema=False,
    dependencies=_PAGE,
)
async def save_inspection(
    actor: NamedDependency[Actor],
    request: Request[Any, Any, Any],
    cycle_id: FromPath[int],
    listing_id: FromPath[int],
) -> Template | Redirect:
    """Record (or replace) a listing's on-site inspection."""
    form = await request.form()
    typed = {k: str(form.get(k, "")).strip() for k in ("score", "inspected_on", "note")}
    typed["fee_violation"] = "1" if form.get("fee_violation") else ""
    score: object = int(typed["score"]) if typed["score"].isdigit() else typed["score"]
    data = {
        "score": score,
        "inspected_on": typed["inspected_on"],
        "fee_violation": bool(typed["fee_violation"]),
        "note": typed["note"],
    }
    try:
        await inputs.record_inspection(actor, cycle_id, listing_id, data)
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        return await _cycle_page(
            actor,
            cycle_id,
            status_of(error),
            errors=_errors(error),
            failed=listing_id,
            typed=typed,
            flash=f"现场检查结果未保存：{error.detail}",
            flash_kind="error",
        )
    return redirect(f"/bureau/evaluation/{cycle_id}?done=inspection#listing-{listing_id}")


@post("/bureau/evaluation/{cycle_id:int}/close", include_in_schema=False, dependencies=_PAGE)
async def close_cycle(
    actor: NamedDependency[Actor], request: Request[Any, Any, Any], cycle_id: FromPath[int]
) -> Template | Redirect:
    """Close the cycle and score everyone, once the person has ticked that inputs then lock."""
    form = await request.form()
    if str(form.get("confirm", "")) != "1":
        await cycles.staff_cycle(actor, cycle_id)
        return await _cycle_page(
            actor,
            cycle_id,
            422,
            errors={"confirm": ["请勾选确认：结束后学校评价、现场检查和自查报告将不能再修改"]},
        )
    try:
        await cycles.close_cycle(actor, cycle_id)
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        return await _cycle_page(
            actor,
            cycle_id,
            status_of(error),
            flash="；".join(m for ms in _errors(error).values() for m in ms),
            flash_kind="error",
        )
    return redirect(f"/bureau/evaluation/{cycle_id}?done=closed")


# --- results -------------------------------------------------------------------------------


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
    }


async def _result_page(
    actor: Actor, cycle_id: int, listing_id: int, status_code: int = 200, **extra: Any
) -> Template:
    cycle = await cycles.staff_cycle(actor, cycle_id)
    row = _result_view(await cycles.result_row(cycle_id, listing_id))
    return render(
        "evaluation/bureau_result.html",
        actor,
        status_code=status_code,
        cycle=cycle,
        result=row,
        breakdown=_breakdown(row),
        reviewer=_is_reviewer(actor, cycle["district"]),
        errors=extra.pop("errors", {}),
        typed=extra.pop("typed", {}),
        **extra,
    )


@get(
    "/bureau/evaluation/{cycle_id:int}/results/{listing_id:int}",
    include_in_schema=False,
    dependencies=_PAGE,
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
    dependencies=_PAGE,
)
async def confirm_result(
    actor: NamedDependency[Actor],
    request: Request[Any, Any, Any],
    cycle_id: FromPath[int],
    listing_id: FromPath[int],
) -> Template | Redirect:
    """Confirm a result as computed, or with an adjusted score and its reason."""
    form = await request.form()
    back = "result" if str(form.get("back", "")) == "result" else "cycle"
    adjust = str(form.get("adjust", "")) == "1"
    typed = {k: str(form.get(k, "")).strip() for k in ("score", "reason")}
    try:
        if adjust and not typed["score"]:
            raise Refused(
                "请填写调整后的得分",
                [Refusal("score", "required", "请填写调整后的得分（0到100）")],
            )
        await cycles.confirm_result(
            actor,
            cycle_id,
            listing_id,
            score=typed["score"] if adjust else None,
            reason=typed["reason"] if adjust else "",
        )
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        flash = "评估结果未确认，请按提示修改" if adjust else error.detail
        common: dict[str, Any] = {
            "errors": _errors(error) if adjust else {},
            "typed": typed,
            "flash": flash,
            "flash_kind": "error",
        }
        if back == "result":
            return await _result_page(actor, cycle_id, listing_id, status_of(error), **common)
        return await _cycle_page(actor, cycle_id, status_of(error), failed=listing_id, **common)
    done = "adjusted" if adjust else "confirmed"
    if back == "result":
        return redirect(f"/bureau/evaluation/{cycle_id}/results/{listing_id}?done={done}")
    return redirect(f"/bureau/evaluation/{cycle_id}?done={done}#result-{listing_id}")


@post("/bureau/evaluation/{cycle_id:int}/confirm", include_in_schema=False, dependencies=_PAGE)
async def confirm_all(
    actor: NamedDependency[Actor], cycle_id: FromPath[int]
) -> Template | Redirect:
    """Confirm every result still waiting, as computed."""
    try:
        await cycles.confirm_all(actor, cycle_id)
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        return await _cycle_page(
            actor, cycle_id, status_of(error), flash=error.detail, flash_kind="error"
        )
    return redirect(f"/bureau/evaluation/{cycle_id}?done=confirmed")


# --- the rubric ----------------------------------------------------------------------------


def _rubric_view(body: dict[str, Any]) -> dict[str, Any]:
    """The rubric's parts as the page's tables show them (tolerant of odd stored data)."""
    items = []
    for item in body.get("items") or []:
        source = item.get("source", "")
        if source == "upheld_complaints":
            rule = f"每件扣{item.get('per_complaint')}分，最多扣{item.get('cap')}分"
        elif source == "safety_incidents":
            per = item.get("per_severity") or {}
            rule = "、".join(f"{SEVERITY_LABELS.get(k, k)}每起扣{v}分" for k, v in per.items())
            rule += f"，最多扣{item.get('cap')}分"
        else:
            rule = (
                "缺少数据时按0分计"
                if item.get("when_missing") == "zero"
                else "缺少数据时本项不计，权重按比例分给其他评分项"
            )
            if source == "parent_satisfaction":
                points = item.get("points") or {}
                rule += "；每份问卷：" + "、".join(
                    f"{TALLY_LABELS.get(k, k)}{v}分" for k, v in points.items()
                )
            if source == "self_report":
                rule += f"；按时完整100分，逾期{item.get('late_score')}分，不完整0分"
        items.append(
            {
                **item,
                "source_label": SOURCE_LABELS.get(source, source),
                "rule": rule,
                "scored": "weight" in item,
            }
        )
    questions = [q for item in items for q in item.get("questions") or []]
    return {
        "name": body.get("name", ""),
        "items": items,
        "questions": questions,
        "grades": body.get("grades") or {},
        "satisfaction": body.get("satisfaction") or {},
        "rectification_below": body.get("rectification_below"),
        "veto": body.get("veto") or {},
    }


def _outcome(evaluation: Evaluation) -> dict[str, str]:
    return {
        "score": _score_text(evaluation.score_centi),
        "grade": evaluation.grade_label,
        "consequence": evaluation.consequence.label,
        "exit_reason": exit_reason_label(
            evaluation.exit_reason.value if evaluation.exit_reason else None
        ),
    }


async def _rubric_page(actor: Actor, code: str, status_code: int = 200, **extra: Any) -> Template:
    district, districts = await _district(actor, code)
    body, scope = await rubrics.rubric_in_force(district["code"])
    scope_label = "本区细则" if scope == district["code"] else SCOPE_LABELS.get(scope, scope)
    return render(
        "evaluation/bureau_rubric.html",
        actor,
        status_code=status_code,
        district=district,
        districts=districts,
        query=_district_query(district, districts),
        rubric=_rubric_view(body),
        scope=scope,
        scope_label=scope_label,
        own=scope == district["code"],
        may_edit=rubrics.may_edit(actor, district["id"]),
        text=extra.pop("text", None) or json.dumps(body, ensure_ascii=False, indent=2),
        errors=extra.pop("errors", []),
        **extra,
    )


@get("/bureau/rubric", include_in_schema=False, dependencies=_PAGE)
async def rubric_page(
    actor: NamedDependency[Actor], district: FromQuery[str] = "", done: FromQuery[str] = ""
) -> Template:
    """The rubric in force for the district, and for its editors the form to change it."""
    return await _rubric_page(actor, district, flash=DONE_MESSAGES.get(done))


def _parsed(text: str) -> object:
    """The textarea's JSON, or a refusal saying where it stops being JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        message = f"JSON 格式有误：第{error.lineno}行第{error.colno}列附近（{error.msg}）"
        raise Refused(message, [Refusal("body", "json", message)]) from error


@post("/bureau/rubric", include_in_schema=False, dependencies=_PAGE)
async def rubric_post(
    actor: NamedDependency[Actor], request: Request[Any, Any, Any]
) -> Template | Redirect:
    """Save, preview or reset the district's rubric (the button pressed says which)."""
    form = await request.form()
    district, _ = await _district(actor, str(form.get("district", "")).strip())
    code = district["code"]
    action = str(form.get("action", ""))
    text = str(form.get("body", ""))
    back = "/bureau/rubric?" + urlencode(
        {"district": code, "done": "saved" if action == "save" else "reset"}
    )
    try:
        if action == "reset":
            await rubrics.reset_rubric(actor, code)
            return redirect(back)
        body = _parsed(text)
        if action == "preview":
            found = await preview.preview_rubric(actor, code, body)
            changes = [
                {
                    "listing_id": c.listing_id,
                    "organisation_name": c.organisation_name,
                    "current": _outcome(c.current),
                    "candidate": _outcome(c.candidate),
                    "would_exit": c.candidate.consequence == Consequence.exit,
                }
                for c in found.changes
            ]
            return await _rubric_page(
                actor,
                code,
                text=text,
                preview={"cycle": found.cycle, "evaluated": found.evaluated, "changes": changes},
            )
        await rubrics.save_rubric(actor, code, body)
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        problems = [(e.field, e.message) for e in error.errors] or [("", error.detail)]
        return await _rubric_page(
            actor,
            code,
            status_of(error),
            text=text,
            errors=problems,
            flash=error.detail,
            flash_kind="error",
        )
    return redirect(back)


ROUTES: list[Any] = [
    cycles_page, open_cycle, cycle_page, save_inspection, close_cycle,
    result_page, confirm_result, confirm_all, rubric_page, rubric_post,
]  # fmt: skip
