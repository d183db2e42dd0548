"""Rubric preview: score the current cycle's data with a candidate rubric; nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from registry.evaluation.cycles import cycle_inputs
from registry.evaluation.rubrics import check, district_row, is_district_staff
from registry.tables import EvaluationCycle
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import NotFound, Refused
from workflows.scoring import Evaluation, evaluate


@dataclass(frozen=True)
class Change:
    listing_id: int
    organisation_name: str
    state: str
    current: Evaluation
    candidate: Evaluation


@dataclass(frozen=True)
class Preview:
    cycle: dict[str, Any]
    evaluated: int
    changes: list[Change]


async def preview_rubric(actor: Actor, district_code: str, candidate: object) -> Preview:
    """Who would change grade or consequence under the candidate, for the current cycle."""
    district = await district_row(district_code)
    if not is_district_staff(actor, district["id"]):
        raise NotFound(f"未知的区代码：{district_code}")
    rubric = check(candidate)
    # The open cycle if there is one, else the latest: the data the district has now.
    cycle = (
        await EvaluationCycle.select()
        .where(EvaluationCycle.district == district["id"])
        .order_by(EvaluationCycle.status, ascending=False)
        .order_by(EvaluationCycle.starts_on, ascending=False)
        .output(load_json=True)
        .first()
    )
    if cycle is None:
        message = "本区还没有评估周期，没有可用于预览的数据"
        raise Refused(message, [Refusal("cycle", "no_cycle", message)])
    changes = []
    data = await cycle_inputs(cycle)
    for listing, inputs in data:
        now = evaluate(cycle["rubric"], inputs)
        then = evaluate(rubric, inputs)
        if (now.grade, now.consequence, now.exit_reason) != (
            then.grade,
            then.consequence,
            then.exit_reason,
        ):
            changes.append(
                Change(listing["id"], listing["organisation_name"], listing["state"], now, then)
            )
    return Preview(cycle, len(data), changes)
