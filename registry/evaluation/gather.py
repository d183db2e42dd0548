"""Everything a cycle knows about its listings, read in a few set-wise queries.

One query per source (not per listing), so closing a cycle of ten thousand listings costs a
handful of round trips; the scoring itself is pure (workflows.scoring).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from registry.settings import get_settings
from registry.tables import (
    Complaint,
    ComplaintStatus,
    EvaluationCycle,
    EvaluationResult,
    Incident,
    Inspection,
    Listing,
    ResultStatus,
    SchoolFeedback,
    SelfReport,
)
from workflows import timesource
from workflows.scoring import Consequence, Inputs, SelfReportStatus, Tally
from workflows.states import State

# Who a cycle scores: on the whitelist, or suspended while an incident is looked into.
EVALUATED_STATES = (State.listed, State.under_rectification, State.suspended)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(get_settings().timezone))


async def evaluated_listings(district_id: int) -> list[dict[str, Any]]:
    """The district's listings a cycle scores, with their organisation's name."""
    return await Listing.select(
        Listing.id,
        Listing.state,
        Listing.version,
        Listing.organisation.name.as_alias("organisation_name"),
    ).where(
        (Listing.district == district_id) & Listing.state.is_in([s.value for s in EVALUATED_STATES])
    )


async def _previous_rectifications(cycle: Mapping[str, Any]) -> set[int]:
    earlier = (
        await EvaluationCycle.select(EvaluationCycle.id)
        .where(
            (EvaluationCycle.district == cycle["district"])
            & (EvaluationCycle.id != cycle["id"])
            & (EvaluationCycle.starts_on < cycle["starts_on"])
            & (EvaluationCycle.status == "closed")
        )
        .order_by(EvaluationCycle.starts_on, ascending=False)
        .first()
    )
    if earlier is None:
        return set()
    rows = await EvaluationResult.select(EvaluationResult.listing).where(
        (EvaluationResult.cycle == earlier["id"])
        & (EvaluationResult.consequence == Consequence.rectification.value)
        & (EvaluationResult.status == ResultStatus.confirmed.value)
    )
    return {r["listing"] for r in rows}


def _self_report_status(row: Mapping[str, Any], due: date) -> SelfReportStatus:
    if not row["complete"]:
        return SelfReportStatus.incomplete
    submitted = row["submitted_at"]
    local_day = submitted.astimezone(ZoneInfo(get_settings().timezone)).date()
    return SelfReportStatus.on_time if local_day <= due else SelfReportStatus.late


async def gather_inputs(
    cycle: Mapping[str, Any], listings: list[dict[str, Any]]
) -> dict[int, Inputs]:
    """Each listing's inputs for the cycle."""
    district = cycle["district"]
    starts = _local_midnight(cycle["starts_on"])
    ends = _local_midnight(cycle["ends_on"] + timedelta(days=1))

    scores: dict[int, list[dict[str, int]]] = defaultdict(list)
    tallies: dict[int, Tally] = defaultdict(Tally)
    for row in (
        await SchoolFeedback.select(
            SchoolFeedback.listing,
            SchoolFeedback.scores,
            SchoolFeedback.very_satisfied,
            SchoolFeedback.satisfied,
            SchoolFeedback.neutral,
            SchoolFeedback.dissatisfied,
        )
        .where(SchoolFeedback.cycle == cycle["id"])
        .output(load_json=True)
    ):
        if row["scores"]:
            scores[row["listing"]].append(row["scores"])
        tallies[row["listing"]] += Tally(
            row["very_satisfied"] or 0,
            row["satisfied"] or 0,
            row["neutral"] or 0,
            row["dissatisfied"] or 0,
        )

    upheld: Counter[int] = Counter()
    fee_complaints: Counter[int] = Counter()
    for row in await Complaint.select(Complaint.listing, Complaint.fee_violation).where(
        (Complaint.listing.district == district)
        & (Complaint.status == ComplaintStatus.upheld.value)
        & (Complaint.submitted_at >= starts)
        & (Complaint.submitted_at < ends)
    ):
        upheld[row["listing"]] += 1
        fee_complaints[row["listing"]] += bool(row["fee_violation"])

    incidents: dict[int, Counter[str]] = defaultdict(Counter)
    for row in await Incident.select(Incident.listing, Incident.severity).where(
        (Incident.listing.district == district)
        & (Incident.occurred_on >= cycle["starts_on"])
        & (Incident.occurred_on <= cycle["ends_on"])
    ):
        incidents[row["listing"]][row["severity"]] += 1

    inspections = {
        row["listing"]: row
        for row in await Inspection.select(
            Inspection.listing, Inspection.score, Inspection.fee_violation
        ).where(Inspection.cycle == cycle["id"])
    }
    reports = {
        row["listing"]: _self_report_status(row, cycle["self_report_due"])
        for row in await SelfReport.select(
            SelfReport.listing, SelfReport.complete, SelfReport.submitted_at
        ).where(SelfReport.cycle == cycle["id"])
    }
    rectified = await _previous_rectifications(cycle)
    today = timesource.local_today()

    result = {}
    for listing in listings:
        lid = listing["id"]
        inspection = inspections.get(lid)
        result[lid] = Inputs(
            listing_id=lid,
            school_scores=tuple(scores.get(lid, ())),
            tally=tallies.get(lid, Tally()),
            upheld_complaints=upheld[lid],
            complaint_fee_violations=fee_complaints[lid],
            incidents=dict(incidents.get(lid, {})),
            inspection=inspection["score"] if inspection else None,
            inspection_fee_violation=bool(inspection and inspection["fee_violation"]),
            self_report=reports.get(lid),
            self_report_overdue=lid not in reports and today > cycle["self_report_due"],
            rectified_last_cycle=(
                lid in rectified or listing["state"] == State.under_rectification.value
            ),
        )
    return result
