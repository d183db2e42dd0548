"""What schools and providers feed an evaluation cycle, as pages: feedback and self-reports.

The school gives each engagement's feedback (rubric questions scored 0–100, a comment, the
parent survey tallies); the provider fills in its self-report from the schema. Both see the
confirmed results that concern them; nothing unconfirmed is shown outside the bureau.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from registry.applications.ownership import provider_grant
from registry.evaluation.cycles import cycle_row
from registry.evaluation.inputs import (
    feedback_engagements,
    give_feedback,
    self_report_of,
    self_report_problems,
    submit_self_report,
)
from registry.evaluation.published import (
    open_cycles_of_district,
    open_cycles_of_organisation,
    results_for_organisation,
    results_for_school,
)
from registry.pages.common import by_field, page_actor, redirect, render
from registry.pages.formrender import build, parse_fields
from registry.schools.engagements import school_grant
from registry.tables import CycleStatus, School
from schemas import SELF_REPORT, load_schema
from workflows.actors import Actor
from workflows.engine import NotFound, Refused, local_today
from workflows.scoring import TALLY_LABELS

_ACTOR = {"actor": Provide(page_actor)}
SELF_REPORT_SCHEMA = load_schema(SELF_REPORT)
_WHOLE_NUMBER = re.compile(r"^-?\d+$")
DONE = {"saved": "评价已保存", "report_saved": "自查报告已保存"}


def _number(text: object) -> int | str | None:
    """A posted whole number; blank is None; anything else stays as typed (refused with its
    message by the schema, and shown back in the field)."""
    value = str(text or "").strip()
    if not value:
        return None
    return int(value) if _WHOLE_NUMBER.fullmatch(value) else value


# --- school: feedback ----------------------------------------------------------------------


def _questions(cycle: Mapping[str, Any]) -> list[dict[str, str]]:
    for item in (cycle.get("rubric") or {}).get("items", []):
        if item.get("source") == "school_feedback":
            return [{"key": q["key"], "label": q["label"]} for q in item.get("questions", [])]
    return []


async def _school_name(actor: Actor) -> str:
    row = await School.select(School.name).where(School.id == school_grant(actor).school_id)
    return str(row[0]["name"]) if row else ""


@get("/school/evaluation", dependencies=_ACTOR, include_in_schema=False)
async def school_evaluation(actor: NamedDependency[Actor]) -> Template:
    """The district's open cycles with each engagement they evaluate, and confirmed results."""
    grant = school_grant(actor)
    cycles = []
    for cycle in await open_cycles_of_district(grant.school_district_id or 0):
        rows = await feedback_engagements(actor, cycle["id"])
        cycles.append({**cycle, "engagements": rows})
    return render(
        "evaluation/school_index.html",
        actor,
        school_name=await _school_name(actor),
        cycles=cycles,
        results=await results_for_school(grant.school_id or 0),
    )


async def _feedback_form(
    actor: Actor,
    cycle_id: int,
    engagement_id: int,
    *,
    values: Mapping[str, Any] | None = None,
    problems: list[Any] | None = None,
    status: int = 200,
    flash: str | None = None,
) -> Template:
    # feedback_engagements answers 404 for another district's cycle.
    rows = await feedback_engagements(actor, cycle_id)
    engagement = next((row for row in rows if row["id"] == engagement_id), None)
    if engagement is None:
        raise NotFound("本评估周期内没有该合作记录")
    cycle = await cycle_row(cycle_id)
    if values is None:
        saved = engagement["feedback"] or {}
        values = {
            "scores": saved.get("scores") or {},
            "comment": saved.get("comment") or "",
            "tallies": {key: saved.get(key) for key in TALLY_LABELS},
        }
    errors = by_field(problems or [])
    shown = {"scores", "comment", "tallies"}
    shown |= {f"scores.{q['key']}" for q in _questions(cycle)}
    shown |= {f"tallies.{key}" for key in TALLY_LABELS}
    return render(
        "evaluation/school_feedback.html",
        actor,
        status_code=status,
        cycle=cycle,
        engagement=engagement,
        questions=_questions(cycle),
        tally_labels=TALLY_LABELS,
        values=values,
        errors=errors,
        # Problems with no field of their own on the page still need to be read.
        other_errors=[m for field, ms in errors.items() if field not in shown for m in ms],
        editable=cycle["status"] == CycleStatus.open.value,
        flash=flash,
        flash_kind="error" if problems else None,
    )


@get(
    "/school/evaluation/{cycle_id:int}/engagements/{engagement_id:int}",
    dependencies=_ACTOR,
    include_in_schema=False,
)
async def feedback_page(
    actor: NamedDependency[Actor],
    cycle_id: FromPath[int],
    engagement_id: FromPath[int],
    done: FromQuery[str] = "",
) -> Template:
    """One engagement's feedback form (read-only once the cycle has closed)."""
    return await _feedback_form(actor, cycle_id, engagement_id, flash=DONE.get(done))


def parse_feedback(posted: Any, questions: Iterable[str]) -> dict[str, Any]:
    """The feedback as the form posted it: blank scores left out; the tallies only when any
    of the four was filled in (then all four are needed)."""
    scores = {}
    for key in questions:
        value = _number(posted.get(f"scores.{key}"))
        if value is not None:
            scores[key] = value
    tallies = {key: _number(posted.get(f"tallies.{key}")) for key in TALLY_LABELS}
    data: dict[str, Any] = {"scores": scores, "comment": str(posted.get("comment") or "").strip()}
    if any(value is not None for value in tallies.values()):
        data["tallies"] = {k: v for k, v in tallies.items() if v is not None}
    return data


@post(
    "/school/evaluation/{cycle_id:int}/engagements/{engagement_id:int}",
    dependencies=_ACTOR,
    include_in_schema=False,
)
async def save_feedback(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    cycle_id: FromPath[int],
    engagement_id: FromPath[int],
) -> Template | Redirect:
    """Save (or replace) the feedback; on problems, the form again with the typed values."""
    await feedback_engagements(actor, cycle_id)  # another district's cycle: 404 first
    cycle = await cycle_row(cycle_id)
    posted = await request.form()
    data = parse_feedback(posted, [q["key"] for q in _questions(cycle)])
    try:
        await give_feedback(actor, cycle_id, engagement_id, data)
    except Refused as refused:
        typed = {
            "scores": data["scores"],
            "comment": data["comment"],
            "tallies": data.get("tallies") or {},
        }
        return await _feedback_form(
            actor,
            cycle_id,
            engagement_id,
            values=typed,
            problems=refused.errors,
            status=422,
            flash="评价未保存，请按提示修改。",
        )
    return redirect(f"/school/evaluation/{cycle_id}/engagements/{engagement_id}?done=saved")


# --- provider: self-reports and results ----------------------------------------------------


def _titles(problems: Iterable[Any]) -> list[str]:
    """The self-report's fields a list of problems names, as their titles in form order."""
    properties = SELF_REPORT_SCHEMA.get("properties", {})
    named = {p.field.split(".")[0] for p in problems}
    titles = [str(node.get("title") or key) for key, node in properties.items() if key in named]
    return titles + sorted(named - set(properties))


async def _provider_page(
    actor: Actor,
    *,
    typed: Mapping[int, dict[str, Any]] | None = None,
    problems: Mapping[int, list[Any]] | None = None,
    status: int = 200,
    flash: str | None = None,
    flash_kind: str | None = None,
) -> Template:
    organisation_id = provider_grant(actor).organisation_id or 0
    today = local_today()
    reports = []
    for row in await open_cycles_of_organisation(organisation_id):
        cycle, listing_id = row["cycle"], row["id"]
        saved = await self_report_of(actor, cycle["id"], listing_id)
        body = (saved or {}).get("body") or {}
        missing = self_report_problems(body)[1] if saved else []
        if typed and listing_id in typed:
            shown_body = typed[listing_id]
            refused, gaps = self_report_problems(shown_body)
            # The service's refusal plus what the typed report still lacks, each said once.
            fields = {p.field for p in [*refused, *gaps]}
            extra = [p for p in (problems or {}).get(listing_id, []) if p.field not in fields]
            shown_problems = [*extra, *refused, *gaps]
        else:
            # The saved report shows what it still lacks next to each field.
            shown_body, shown_problems = body, missing
        submitted_on = local_today(saved["submitted_at"]) if saved else None
        due = cycle["self_report_due"]
        reports.append(
            {
                "listing_id": listing_id,
                "district_name": row["district_name"],
                "cycle": cycle,
                "saved": saved,
                "missing": _titles(missing),
                "late": submitted_on is not None and submitted_on > due,
                "overdue": saved is None and today > due,
                # After the due date a complete report is final (the service refuses changes).
                "locked": bool(saved and saved["complete"] and today > due),
                "tree": build(SELF_REPORT_SCHEMA, shown_body, by_field(shown_problems)),
            }
        )
    return render(
        "evaluation/provider_index.html",
        actor,
        status_code=status,
        reports=reports,
        results=await results_for_organisation(organisation_id),
        flash=flash,
        flash_kind=flash_kind,
    )


@get("/provider/evaluation", dependencies=_ACTOR, include_in_schema=False)
async def provider_evaluation(actor: NamedDependency[Actor], done: FromQuery[str] = "") -> Template:
    """Self-reports for each listing in a district with an open cycle, and confirmed results."""
    return await _provider_page(actor, flash=DONE.get(done))


@post(
    "/provider/evaluation/{cycle_id:int}/self-report/{listing_id:int}",
    dependencies=_ACTOR,
    include_in_schema=False,
)
async def save_self_report(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    cycle_id: FromPath[int],
    listing_id: FromPath[int],
) -> Template | Redirect:
    """Save the self-report at any stage; an incomplete one is kept and says what it lacks."""
    posted = await request.form()
    body = parse_fields(posted.multi_items(), SELF_REPORT_SCHEMA)
    try:
        await submit_self_report(actor, cycle_id, listing_id, body)
    except Refused as refused:
        return await _provider_page(
            actor,
            typed={listing_id: body},
            problems={listing_id: refused.errors},
            status=422,
            flash=f"自查报告未保存：{refused.detail}",
            flash_kind="error",
        )
    return redirect(f"/provider/evaluation?done=report_saved#report-{listing_id}")


ROUTES: list[Any] = [
    school_evaluation,
    feedback_page,
    save_feedback,
    provider_evaluation,
    save_self_report,
]
