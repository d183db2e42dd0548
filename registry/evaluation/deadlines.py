"""A cycle's input deadlines, and what each provider is still missing before they pass.

A cycle closes only after every input deadline: school feedback, parent surveys and
inspections run to the cycle's end, the providers' self-reports to their own due date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from registry.applications.inbox import zh
from registry.evaluation.gather import evaluated_listings, gather_inputs
from workflows.scoring import Inputs


def deadlines(cycle: Mapping[str, Any]) -> list[tuple[str, date]]:
    """The cycle's input deadlines, each with what it is for (last day inclusive)."""
    return [
        ("学校评价、家长问卷和现场检查（周期结束日期）", cycle["ends_on"]),
        ("机构自查报告", cycle["self_report_due"]),
    ]


def last_deadline(cycle: Mapping[str, Any]) -> date:
    return max(day for _, day in deadlines(cycle))


def pending(cycle: Mapping[str, Any], today: date) -> list[str]:
    """The deadlines not passed yet, as a sentence each (empty: the cycle may close)."""
    return [f"{what}截止{zh(day)}" for what, day in deadlines(cycle) if today <= day]


def missing_of(inputs: Inputs, self_report_due: date) -> list[str]:
    """What one provider's result would lack if the cycle closed now."""
    missing = []
    if not inputs.school_ratings:
        missing.append("学校评价")
    if not inputs.tally.total:
        missing.append("家长问卷")
    if inputs.inspection is None:
        missing.append("现场检查")
    if inputs.self_report is None:
        missing.append(f"自查报告（截止{zh(self_report_due)}）")
    return missing


async def missing_inputs(cycle: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every evaluated provider still missing an input, by name (the early-close check)."""
    listings = await evaluated_listings(cycle["district"])
    inputs = await gather_inputs(cycle, listings)
    rows = []
    for listing in sorted(listings, key=lambda row: row["id"]):
        missing = missing_of(inputs[listing["id"]], cycle["self_report_due"])
        if missing:
            rows.append(
                {
                    "listing_id": listing["id"],
                    "organisation_name": listing["organisation_name"],
                    "missing": missing,
                }
            )
    return rows
