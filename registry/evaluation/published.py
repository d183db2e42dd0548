"""Read-side queries for the evaluation pages: open cycles, and CONFIRMED results only.

A computed result can still change before a reviewer confirms it, so nothing here returns
one: the public, schools and providers only ever see what the bureau has signed off.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from registry.access.scope import RecordKind, grant_clause, visible
from registry.evaluation.gather import EVALUATED_STATES
from registry.tables import CycleStatus, EvaluationCycle, EvaluationResult, Listing
from workflows.actors import Grant
from workflows.scoring import CONSEQUENCE_LABELS, GRADE_LABELS, Consequence
from workflows.states import Role

# Below either of these a grade rests on too few voices to compare with others.
SMALL_SAMPLE_SCHOOLS = 3
SMALL_SAMPLE_PARENTS = 30

_RESULT_COLUMNS = (
    EvaluationResult.id,
    EvaluationResult.cycle,
    EvaluationResult.listing,
    EvaluationResult.score_centi,
    EvaluationResult.grade,
    EvaluationResult.consequence,
    EvaluationResult.exit_reason,
    EvaluationResult.school_responses,
    EvaluationResult.parent_responses,
    EvaluationResult.confirmed_at,
    EvaluationResult.cycle.name.as_alias("cycle_name"),
    EvaluationResult.cycle.term.as_alias("cycle_term"),
    EvaluationResult.listing.organisation.as_alias("organisation_id"),
    EvaluationResult.listing.organisation.name.as_alias("organisation_name"),
    EvaluationResult.listing.district.name.as_alias("district_name"),
)


def _described(row: dict[str, Any]) -> dict[str, Any]:
    """A result row with the labels and figures the pages show."""
    centi = row["score_centi"]
    consequence = row["consequence"]
    schools, parents = row["school_responses"] or 0, row["parent_responses"] or 0
    return {
        **row,
        "score": None if centi is None else f"{Decimal(centi) / 100:.2f}",
        "grade_label": GRADE_LABELS.get(row["grade"] or "", "未评定"),
        "consequence_label": (
            CONSEQUENCE_LABELS[Consequence(consequence)]
            if consequence in Consequence.__members__
            else consequence
        ),
        "small_sample": schools < SMALL_SAMPLE_SCHOOLS or parents < SMALL_SAMPLE_PARENTS,
    }


async def _results(where: Any | None) -> list[dict[str, Any]]:
    """Results newest first (by confirmation), described for the pages; None: none."""
    if where is None:
        return []
    rows = await (
        EvaluationResult.select(*_RESULT_COLUMNS)
        .where(where)
        .order_by(EvaluationResult.confirmed_at, ascending=False)
        .order_by(EvaluationResult.id, ascending=False)
    )
    return [_described(row) for row in rows]


async def latest_confirmed_by_listing(listing_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Each whitelisted listing's latest confirmed result (never confirmed: absent)."""
    ids = sorted(set(listing_ids))
    public = visible(RecordKind.result, None)
    if not ids or public is None:
        return {}
    rows = await (
        EvaluationResult.select(*_RESULT_COLUMNS)
        .where(public & EvaluationResult.listing.is_in(ids))
        .order_by(EvaluationResult.confirmed_at, ascending=False)
        .order_by(EvaluationResult.id, ascending=False)
    )
    latest: dict[int, dict[str, Any]] = {}
    for row in rows:
        latest.setdefault(row["listing"], _described(row))
    return latest


async def results_for_organisation(organisation_id: int) -> list[dict[str, Any]]:
    """An organisation's confirmed results in every district, newest first."""
    # What the organisation's own login sees (registry.access.scope): confirmed ones only.
    grant = Grant(Role.provider, organisation_id=organisation_id)
    return await _results(grant_clause(RecordKind.result, grant))


async def results_for_school(school_id: int) -> list[dict[str, Any]]:
    """Confirmed results of the providers a school engages (any term), newest first."""
    grant = Grant(Role.school, school_id=school_id)
    return await _results(grant_clause(RecordKind.result, grant))


async def open_cycles_of_district(district_id: int) -> list[dict[str, Any]]:
    """A district's open cycles (one at most, but a list reads the same either way)."""
    return await (
        EvaluationCycle.select()
        .where(
            (EvaluationCycle.district == district_id)
            & (EvaluationCycle.status == CycleStatus.open.value)
        )
        .order_by(EvaluationCycle.id)
        .output(load_json=True)
    )


async def open_cycles_of_organisation(organisation_id: int) -> list[dict[str, Any]]:
    """(listing, cycle) pairs: the organisation's evaluated listings whose district has an open
    cycle; each row is the listing with its district name and the cycle under `cycle`."""
    listings = await (
        Listing.select(
            Listing.id,
            Listing.district,
            Listing.state,
            Listing.district.name.as_alias("district_name"),
        )
        .where(
            (Listing.organisation == organisation_id)
            & Listing.state.is_in([s.value for s in EVALUATED_STATES])
        )
        .order_by(Listing.id)
    )
    if not listings:
        return []
    cycles = await (
        EvaluationCycle.select()
        .where(
            EvaluationCycle.district.is_in(sorted({row["district"] for row in listings}))
            & (EvaluationCycle.status == CycleStatus.open.value)
        )
        .output(load_json=True)
    )
    by_district = {cycle["district"]: cycle for cycle in cycles}
    return [
        {**listing, "cycle": by_district[listing["district"]]}
        for listing in listings
        if listing["district"] in by_district
    ]
