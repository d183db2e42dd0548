"""Confirming many results at once: first what would happen, then the confirmation.

The plan page lists the counts per consequence, the providers that would exit by name, what
is left out (manual grading, hearings still open or answered) and the grade distribution.
The form carries a fingerprint of the listed results: if anything changed meanwhile (another
reviewer decided one), the confirmation is refused and the new plan shown.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from registry.evaluation import cycles, decisions
from registry.evaluation.distribution import distribution, warning_line
from registry.pages.common import redirect, render
from registry.pages.evaluation.common import PAGE, errors_of, is_reviewer
from registry.pages.evaluation.cycles import render_cycle
from registry.tables import CycleStatus
from registry.web.errors import status_of
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import NotFound, Refused, TransitionError, district_policy


def fingerprint(listing_ids: Iterable[int]) -> str:
    """What the reviewer was shown, compactly: the sorted listing ids, hashed."""
    text = ",".join(str(i) for i in sorted(listing_ids))
    return hashlib.sha256(text.encode()).hexdigest()


async def _plan_page(actor: Actor, cycle_id: int, status_code: int = 200, **extra: Any) -> Template:
    cycle = await cycles.staff_cycle(actor, cycle_id)
    if cycle["status"] == CycleStatus.open.value:
        return await render_cycle(actor, cycle_id)
    rows = await cycles.cycle_results(actor, cycle_id)
    plan = await decisions.batch_plan(actor, cycle_id, rows)
    policy = await district_policy(cycle["district"])
    return render(
        "evaluation/bureau_confirm.html",
        actor,
        status_code=status_code,
        cycle=cycle,
        plan=plan.as_dict(),
        fingerprint=fingerprint(r["listing"] for r in plan.included),
        spread=distribution(rows, warning_line(policy)),
        reviewer=is_reviewer(actor, cycle["district"]),
        errors=extra.pop("errors", {}),
        **extra,
    )


@get("/bureau/evaluation/{cycle_id:int}/confirm", include_in_schema=False, dependencies=PAGE)
async def plan_page(actor: NamedDependency[Actor], cycle_id: FromPath[int]) -> Template:
    """What confirming all at once would do, and the form that does it."""
    return await _plan_page(actor, cycle_id)


@post("/bureau/evaluation/{cycle_id:int}/confirm", include_in_schema=False, dependencies=PAGE)
async def confirm_all(
    actor: NamedDependency[Actor], request: Request[Any, Any, Any], cycle_id: FromPath[int]
) -> Template | Redirect:
    """Confirm the results the plan page listed, once the reviewer has ticked that they read it."""
    form = await request.form()
    try:
        if str(form.get("confirm", "")) != "1":
            raise Refused(
                "请勾选确认",
                [Refusal("confirm", "required", "请勾选确认：已核对上列处理结果和退出名单")],
            )
        plan = await decisions.batch_plan(actor, cycle_id)
        ids = [r["listing"] for r in plan.included]
        if str(form.get("plan", "")) != fingerprint(ids):
            raise Refused(
                "待确认的结果已变化",
                [
                    Refusal(
                        "plan",
                        "changed",
                        "确认清单已变化（可能有人刚刚处理过），请核对下面更新后的清单再确认",
                    )
                ],
            )
        await decisions.confirm_batch(actor, cycle_id, ids)
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        return await _plan_page(
            actor,
            cycle_id,
            status_of(error),
            errors=errors_of(error),
            flash=error.detail,
            flash_kind="error",
        )
    return redirect(f"/bureau/evaluation/{cycle_id}?done=batch#results")


ROUTES: list[Any] = [plan_page, confirm_all]
