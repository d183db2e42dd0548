"""The evaluation rubric: the one in force for a district, previewing, saving or resetting it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from registry.evaluation import preview, rubric_form, rubric_json, rubrics
from registry.pages.common import by_field, redirect, render
from registry.pages.evaluation.common import (
    DONE_MESSAGES,
    PAGE,
    district_query,
    score_text,
    staff_district,
)
from registry.web.errors import status_of
from workflows.actors import Actor
from workflows.engine import NotFound, TransitionError
from workflows.scoring import (
    GRADE_LABELS,
    GRADE_ORDER,
    SCORE_SOURCES,
    SEVERITY_LABELS,
    SOURCE_LABELS,
    TALLY_LABELS,
    Consequence,
    Evaluation,
)
from workflows.states import exit_reason_label

SCOPE_LABELS = {"city": "市级细则", "default": "默认（市级默认细则）"}


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
            # The schema allows only "unscored": a missing input is never a zero.
            rule = "缺少数据时本项不计分（不按0分计），其余评分项的权重按比例调整并在明细中列明"
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
        "score": score_text(evaluation.score_centi),
        "grade": evaluation.grade_label,
        "consequence": evaluation.consequence.label,
        "exit_reason": exit_reason_label(
            evaluation.exit_reason.value if evaluation.exit_reason else None
        ),
    }


async def rubric_page_for(
    actor: Actor, code: str, status_code: int = 200, **extra: Any
) -> Template:
    """The rubric page: the rubric in force, its form (filled, or as typed) and the JSON."""
    district, districts = await staff_district(actor, code)
    body, scope = await rubrics.rubric_in_force(district["code"])
    scope_label = "本区细则" if scope == district["code"] else SCOPE_LABELS.get(scope, scope)
    values = extra.pop("values", None)
    if values is None:
        values = rubric_form.form_values(body)
        blank = max(1, len(SOURCE_LABELS) - len(body.get("items") or []))
        rows = rubric_form.form_rows(values, blank_rows=blank)
    else:
        rows = rubric_form.form_rows(values)
    problems = sorted(extra.pop("form_problems", []), key=lambda p: rubric_form.order(p.field))
    return render(
        "evaluation/bureau_rubric.html",
        actor,
        status_code=status_code,
        district=district,
        districts=districts,
        query=district_query(district, districts),
        rubric=_rubric_view(body),
        scope=scope,
        scope_label=scope_label,
        own=scope == district["code"],
        may_edit=rubrics.may_edit(actor, district["id"]),
        text=extra.pop("text", None) or rubric_json.export_text(body),
        errors=extra.pop("errors", []),
        values=values,
        rows=rows,
        form_errors=by_field(problems),
        form_summary=[(rubric_form.where(p.field, values), p.message) for p in problems],
        sources=SOURCE_LABELS,
        score_sources=SCORE_SOURCES,
        grade_labels={g: GRADE_LABELS[g] for g in GRADE_ORDER},
        **extra,
    )


def preview_context(found: preview.Preview) -> dict[str, Any]:
    """The preview's figures and changed listings as the page's table shows them."""
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
    return {"cycle": found.cycle, "evaluated": found.evaluated, "changes": changes}


@get("/bureau/rubric", include_in_schema=False, dependencies=PAGE)
async def rubric_page(
    actor: NamedDependency[Actor], district: FromQuery[str] = "", done: FromQuery[str] = ""
) -> Template:
    """The rubric in force for the district, and for its editors the form to change it."""
    return await rubric_page_for(actor, district, flash=DONE_MESSAGES.get(done))


async def _imported_text(form: Any) -> str:
    """The JSON to import: an uploaded file when one was chosen, else the textarea."""
    file = form.get("file")
    if isinstance(file, UploadFile) and file.filename:
        data = await file.read()
        if data:
            return rubric_json.decode_file(data)
    return str(form.get("body", ""))


@post("/bureau/rubric", include_in_schema=False, dependencies=PAGE)
async def rubric_post(
    actor: NamedDependency[Actor], request: Request[Any, Any, Any]
) -> Template | Redirect:
    """Save, preview or reset the district's rubric (the button pressed says which)."""
    form = await request.form()
    district, _ = await staff_district(actor, str(form.get("district", "")).strip())
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
        text = await _imported_text(form)
        body = rubric_json.parse_object(text)
        if action == "preview":
            found = await preview.preview_rubric(actor, code, body)
            return await rubric_page_for(actor, code, text=text, preview=preview_context(found))
        await rubrics.save_rubric(actor, code, body)
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        problems = [(e.field, e.message) for e in error.errors] or [("", error.detail)]
        return await rubric_page_for(
            actor,
            code,
            status_of(error),
            text=text,
            errors=problems,
            flash=error.detail,
            flash_kind="error",
        )
    return redirect(back)


ROUTES: list[Any] = [rubric_page, rubric_post]
