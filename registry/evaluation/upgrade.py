"""Stored rubrics of the earlier format brought to today's (a migration's data step)."""

from __future__ import annotations

import json
from typing import Any

from registry.tables import CycleStatus, EvaluationCycle, Rubric
from schemas import city_default_rubric
from workflows.scoring import upgraded_rubric


def _loaded(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, dict) else None


async def upgrade_stored_rubrics() -> int:
    """Upgrade every saved rubric and the snapshot of every open cycle; returns how many.

    Closed cycles keep the rubric they were scored with: their results stand as computed.
    """
    evidence = city_default_rubric()["evidence"]
    changed = 0
    for row in await Rubric.select(Rubric.id, Rubric.body):
        body = _loaded(row["body"])
        if body is None or "evidence" in body:
            continue
        await Rubric.update({Rubric.body: upgraded_rubric(body, evidence)}).where(
            Rubric.id == row["id"]
        )
        changed += 1
    for row in await EvaluationCycle.select(EvaluationCycle.id, EvaluationCycle.rubric).where(
        EvaluationCycle.status == CycleStatus.open.value
    ):
        body = _loaded(row["rubric"])
        if body is None or "evidence" in body:
            continue
        await EvaluationCycle.update(
            {EvaluationCycle.rubric: upgraded_rubric(body, evidence)}
        ).where(EvaluationCycle.id == row["id"])
        changed += 1
    return changed
