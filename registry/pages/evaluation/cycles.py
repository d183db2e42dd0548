"""Evaluation cycles: a district's cycles, opening one, its inputs and inspections, closing it.

A cycle closes only after its input deadlines; before them, only from the close page, which
lists what each provider still lacks and asks for a reason. A closed cycle's page lists its
results with their status and the grade distribution; the decisions themselves are in
registry.pages.evaluation.results and .confirm.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from registry.evaluation import cycles, deadlines, inputs
from registry.evaluation.decisions import batch_plan
from registry.evaluation.distribution import distribution, warning_line
from registry.evaluation.gather import evaluated_listings
from registry.pages.common import redirect, render
from registry.pages.evaluation.common import (
    DONE_MESSAGES,
    PAGE,
    SELF_REPORT_LABELS,
    STATUS_LABELS,
    district_query,
    errors_of,
    is_reviewer,
    parse_day,
    result_view,
    staff_district,
)
from registry.pages.paging import paged
from registry.tables import CycleStatus, EvaluationResult, Inspection, ResultStatus
from registry.web.errors import status_of
from workflows import timesource
from workflows.actors import Actor
from workflows.engine import NotFound, TransitionError, district_policy, local_today
from workflows.scoring import Consequence

CYCLE_FIELDS = ("name", "term", "starts_on", "ends_on", "self_report_due")


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
            total = sum(counted[(cycle["id"], status.value)] for status in ResultStatus)
            text[cycle["id"]] = f"结果 {total} 条，已确认 {done} 条"
    return text


async def _cycles_page(actor: Actor, code: str, status_code: int = 200, **extra: Any) -> Template:
    district, districts = await staff_district(actor, code)
    rows = await cycles.district_cycles(actor, district["code"])
    return render(
        "evaluation/bureau_cycles.html",
        actor,
        status_code=status_code,
        district=district,
        districts=districts,
        query=district_query(district, districts),
        cycles=rows,
        counts=await _cycle_counts(rows, district["id"]),
        has_open=any(c["status"] == CycleStatus.open.value for c in rows),
        values=extra.pop("values", dict.fromkeys(CYCLE_FIELDS, "")),
        errors=extra.pop("errors", {}),
        **extra,
    )


@get("/bureau/evaluation", include_in_schema=False, dependencies=PAGE)
async def cycles_page(
    actor: NamedDependency[Actor], district: FromQuery[str] = "", done: FromQuery[str] = ""
) -> Template:
    """A district's cycles and the form to open the next one."""
    return await _cycles_page(actor, district, flash=DONE_MESSAGES.get(done))


@post("/bureau/evaluation", include_in_schema=False, dependencies=PAGE)
async def open_cycle(
    actor: NamedDependency[Actor], request: Request[Any, Any, Any]
) -> Template | Redirect:
    """Open a cycle; the rubric in force is snapshotted by the service."""
    form = await request.form()
    code = str(form.get("district", "")).strip()
    values = {k: str(form.get(k, "")).strip() for k in CYCLE_FIELDS}
    district, _ = await staff_district(actor, code)
    given = cycles.CycleIn(
        values["name"],
        values["term"],
        parse_day(values["starts_on"]),
        parse_day(values["ends_on"]),
        parse_day(values["self_report_due"]),
    )
    try:
        cycle = await cycles.open_cycle(actor, district["code"], given)
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        return await _cycles_page(
            actor, district["code"], status_of(error), values=values, errors=errors_of(error)
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


async def closed_context(
    actor: Actor, cycle: dict[str, Any], consequence: str, status: str, page: str
) -> dict[str, Any]:
    """A closed cycle's results (filtered, one page), their statuses and grade spread."""
    rows = await cycles.cycle_results(actor, cycle["id"])
    results = [result_view(r) for r in rows]
    counts = Counter(r["consequence"] for r in results)
    statuses = Counter(r["status"] for r in results)
    shown = [
        r
        for r in results
        if (not consequence or r["consequence"] == consequence)
        and (not status or r["status"] == status)
    ]
    base = f"/bureau/evaluation/{cycle['id']}"
    page_rows, pager = paged(
        shown, page, base, {"consequence": consequence, "status": status}, anchor="results"
    )
    policy = await district_policy(cycle["district"])
    plan = await batch_plan(actor, cycle["id"], rows)
    return {
        "filters": [
            (c.value, c.label, counts.get(c.value, 0)) for c in Consequence if counts.get(c.value)
        ],
        "status_filters": [
            (value, label, statuses[value]) for value, label in STATUS_LABELS.items()
        ],
        "results": page_rows,
        "pager": pager,
        "total": len(results),
        "waiting": sum(1 for r in results if not r["confirmed"]),
        "statuses": statuses,
        "batch_count": plan.count,
        "spread": distribution(results, warning_line(policy)),
    }


async def render_cycle(
    actor: Actor, cycle_id: int, status_code: int = 200, **extra: Any
) -> Template:
    """The cycle page: an open cycle's progress, or a closed one's results (filtered)."""
    cycle = await cycles.staff_cycle(actor, cycle_id)
    is_open = cycle["status"] == CycleStatus.open.value
    consequence = extra.pop("consequence", "")
    status = extra.pop("status", "")
    page = extra.pop("page", "1")
    context: dict[str, Any] = {}
    if is_open:
        progress, pager = paged(
            await _progress(cycle), page, f"/bureau/evaluation/{cycle_id}", anchor="progress"
        )
        context.update(
            progress=progress,
            pager=pager,
            pending=deadlines.pending(cycle, timesource.local_today()),
        )
    else:
        context.update(await closed_context(actor, cycle, consequence, status, page))
    return render(
        "evaluation/bureau_cycle.html",
        actor,
        status_code=status_code,
        cycle=cycle,
        is_open=is_open,
        consequence=consequence,
        status=status,
        reviewer=is_reviewer(actor, cycle["district"]),
        # The service refuses inspection dates after the registry's local today.
        today=local_today().isoformat(),
        errors=extra.pop("errors", {}),
        failed=extra.pop("failed", None),
        typed=extra.pop("typed", {}),
        **context,
        **extra,
    )


@get("/bureau/evaluation/{cycle_id:int}", include_in_schema=False, dependencies=PAGE)
async def cycle_page(
    actor: NamedDependency[Actor],
    cycle_id: FromPath[int],
    done: FromQuery[str] = "",
    consequence: FromQuery[str] = "",
    status: FromQuery[str] = "",
    page: FromQuery[str] = "1",
) -> Template:
    """An open cycle's inputs and inspections, or a closed one's results to decide."""
    return await render_cycle(
        actor,
        cycle_id,
        flash=DONE_MESSAGES.get(done),
        consequence=consequence if consequence in Consequence.__members__ else "",
        status=status if status in STATUS_LABELS else "",
        page=page,
    )


@post(
    "/bureau/evaluation/{cycle_id:int}/inspections/{listing_id:int}",
    include_in_schema=False,
    dependencies=PAGE,
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
        return await render_cycle(
            actor,
            cycle_id,
            status_of(error),
            errors=errors_of(error),
            failed=listing_id,
            typed=typed,
            flash=f"现场检查结果未保存：{error.detail}",
            flash_kind="error",
        )
    return redirect(f"/bureau/evaluation/{cycle_id}?done=inspection#listing-{listing_id}")


async def _close_page(
    actor: Actor, cycle_id: int, status_code: int = 200, **extra: Any
) -> Template:
    cycle = await cycles.staff_cycle(actor, cycle_id)
    if cycle["status"] != CycleStatus.open.value:
        return await render_cycle(actor, cycle_id)
    pending = deadlines.pending(cycle, timesource.local_today())
    missing = await deadlines.missing_inputs(cycle)
    rows, pager = paged(
        missing, extra.pop("page", "1"), f"/bureau/evaluation/{cycle_id}/close", anchor="missing"
    )
    return render(
        "evaluation/bureau_close.html",
        actor,
        status_code=status_code,
        cycle=cycle,
        pending=pending,
        deadlines=deadlines.deadlines(cycle),
        missing=rows,
        missing_total=len(missing),
        evaluated=len(await evaluated_listings(cycle["district"])),
        pager=pager,
        errors=extra.pop("errors", {}),
        typed=extra.pop("typed", {}),
        **extra,
    )


@get("/bureau/evaluation/{cycle_id:int}/close", include_in_schema=False, dependencies=PAGE)
async def close_page(
    actor: NamedDependency[Actor], cycle_id: FromPath[int], page: FromQuery[str] = "1"
) -> Template:
    """Before closing: the deadlines, what each provider still lacks, and the close form
    (before the deadlines have passed, it asks for the reason to close early)."""
    return await _close_page(actor, cycle_id, page=page)


@post("/bureau/evaluation/{cycle_id:int}/close", include_in_schema=False, dependencies=PAGE)
async def close_cycle(
    actor: NamedDependency[Actor], request: Request[Any, Any, Any], cycle_id: FromPath[int]
) -> Template | Redirect:
    """Close the cycle and score everyone, once the person has ticked that inputs then lock;
    before the deadlines only with a reason (the service refuses it otherwise)."""
    form = await request.form()
    typed = {"early_reason": str(form.get("early_reason", "")).strip()}
    if str(form.get("confirm", "")) != "1":
        await cycles.staff_cycle(actor, cycle_id)
        return await _close_page(
            actor,
            cycle_id,
            422,
            typed=typed,
            errors={"confirm": ["请勾选确认：结束后学校评价、现场检查和自查报告将不能再修改"]},
        )
    try:
        summary = await cycles.close_cycle(actor, cycle_id, typed["early_reason"])
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        return await _close_page(
            actor,
            cycle_id,
            status_of(error),
            typed=typed,
            errors=errors_of(error),
            flash="评估周期未结束，请按提示修改",
            flash_kind="error",
        )
    done = "closed_early" if summary.closed_early else "closed"
    return redirect(f"/bureau/evaluation/{cycle_id}?done={done}")


ROUTES: list[Any] = [
    cycles_page,
    open_cycle,
    cycle_page,
    save_inspection,
    close_page,
    close_cycle,
]
