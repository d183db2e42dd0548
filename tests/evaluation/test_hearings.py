"""The provider heard before an adverse result fires: the window, the answer, the decision."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from registry.evaluation import cycles, decisions, hearings
from registry.tables import District, EvaluationResult, Hearing, ResultStatus
from tests.cast import CAST, HEPING, actor, listing_in, listing_row
from tests.evaluation.helpers import (
    CLOSE_AT,
    CYCLE,
    DECIDE_AT,
    engagement,
    listed_provider,
    self_report_on_time,
)
from workflows import timesource
from workflows.engine import Refused
from workflows.states import State

FAIL_MARKS = dict.fromkeys(("teaching_quality", "punctuality", "safety_management"), 30)
FAIL_MARKS["communication"] = 30


async def set_policy(**evaluation: Any) -> None:
    await District.update({District.policy: {"evaluation": evaluation}}).where(
        District.code == HEPING
    )


@pytest.mark.parametrize(
    ("sent_on", "policy", "due"),
    [
        (date(2026, 12, 1), {}, date(2026, 12, 8)),  # five working days, one weekend
        # Across National Day (1–7 October) and its make-up Saturday, 10 October.
        (date(2026, 9, 30), {}, date(2026, 10, 13)),
        (date(2026, 12, 1), {"hearing_working_days": 10}, date(2026, 12, 15)),
        # A year the official calendar does not cover yet: weekends only, no failure.
        (date(2031, 3, 3), {}, date(2031, 3, 10)),
    ],
)
async def test_the_answer_window_counts_working_days(
    db: object, sent_on: date, policy: dict[str, Any], due: date
) -> None:
    if policy:
        await set_policy(**policy)
    assert await hearings.answer_due(CAST.districts[HEPING], sent_on) == due


async def test_a_district_holiday_moves_the_answer_deadline(db: object) -> None:
    await District.update({District.policy: {"extra_holidays": ["2026-12-03"]}}).where(
        District.code == HEPING
    )
    assert await hearings.answer_due(CAST.districts[HEPING], date(2026, 12, 1)) == date(2026, 12, 9)


async def failed_and_heard() -> tuple[int, int]:
    """A cast provider's listing scored 不合格 on enough evidence, closed and sent to it."""
    from registry.evaluation import inputs

    listing_id = await listing_in(State.listed)
    reviewer = await actor("reviewer")
    cycle = await cycles.open_cycle(
        reviewer,
        HEPING,
        cycles.CycleIn(
            CYCLE["name"],
            CYCLE["term"],
            date.fromisoformat(CYCLE["starts_on"]),
            date.fromisoformat(CYCLE["ends_on"]),
            date.fromisoformat(CYCLE["self_report_due"]),
        ),
    )
    engaged = await engagement(listing_id)
    await inputs.give_feedback(await actor("school"), cycle["id"], engaged, {"scores": FAIL_MARKS})
    await inputs.record_inspection(
        reviewer, cycle["id"], listing_id, {"score": 30, "inspected_on": "2026-11-10"}
    )
    await self_report_on_time(cycle["id"], listing_id)
    with timesource.frozen(CLOSE_AT):
        summary = await cycles.close_cycle(reviewer, cycle["id"])
    assert summary.sent_for_hearing == 1
    return cycle["id"], listing_id


async def test_an_answer_after_the_window_is_refused_and_nothing_is_saved(db: object) -> None:
    _, listing_id = await failed_and_heard()
    provider = await actor("provider")
    [hearing] = await hearings.provider_hearings(provider)
    assert hearing["answer_due"] == date(2026, 12, 8)
    with timesource.frozen(DECIDE_AT), pytest.raises(Refused) as refused:
        await hearings.answer_hearing(provider, hearing["id"], "我们有异议")
    assert refused.value.errors[0].field == "hearing"
    assert "2026年12月8日届满" in refused.value.errors[0].message
    row = await Hearing.select().where(Hearing.id == hearing["id"]).first()
    assert row["answer"] == "" and row["answered_at"] is None
    with pytest.raises(Refused) as empty:
        await hearings.answer_hearing(provider, hearing["id"], "   ")
    assert empty.value.errors[0].field == "answer"
    # Someone else's provider cannot even see it.
    with pytest.raises(Exception) as other:
        await hearings.hearing_for_provider(await actor("provider_other"), hearing["id"])
    assert type(other.value).__name__ == "NotFound"
    assert (await listing_row(listing_id))["state"] == State.listed


async def test_a_harsher_change_at_decision_is_heard_again(db: object) -> None:
    """Rectification sent; the reviewer's adjusted score would exit: the provider is heard
    on the exit before anything fires."""
    listing_id = await listed_provider("天津市和平区启航体育培训中心")
    reviewer = await actor("reviewer")
    cycle = await cycles.open_cycle(
        reviewer,
        HEPING,
        cycles.CycleIn(
            CYCLE["name"],
            CYCLE["term"],
            date.fromisoformat(CYCLE["starts_on"]),
            date.fromisoformat(CYCLE["ends_on"]),
            date.fromisoformat(CYCLE["self_report_due"]),
        ),
    )
    from registry.evaluation import inputs

    engaged = await engagement(listing_id)
    await inputs.give_feedback(
        await actor("school"),
        cycle["id"],
        engaged,
        {"scores": dict.fromkeys(FAIL_MARKS, 60)},
    )
    await self_report_on_time(cycle["id"], listing_id)
    with timesource.frozen(CLOSE_AT):
        await cycles.close_cycle(reviewer, cycle["id"])
    result = await cycles.result_row(cycle["id"], listing_id)
    assert (result["consequence"], result["status"]) == ("rectification", "provisional")
    with timesource.frozen(DECIDE_AT):
        decision = await decisions.confirm_result(
            reviewer, cycle["id"], listing_id, score="40", reason="复查发现教练无证上岗"
        )
    assert decision.outcome == "sent_for_hearing"
    rows = await Hearing.select().where(Hearing.listing == listing_id).order_by(Hearing.id)
    assert [(r["consequence"], r["outcome"]) for r in rows] == [
        ("rectification", "superseded"),
        ("exit", ""),
    ]
    assert rows[1]["answer_due"] == date(2026, 12, 16)  # five working days after 12-09
    assert (await listing_row(listing_id))["state"] == State.listed


async def test_the_batch_never_takes_an_answered_or_a_manual_result(db: object) -> None:
    cycle_id, listing_id = await failed_and_heard()
    provider, reviewer = await actor("provider"), await actor("reviewer")
    [hearing] = await hearings.provider_hearings(provider)
    with timesource.frozen(CLOSE_AT):
        await hearings.answer_hearing(provider, hearing["id"], "检查当日为代课教练，已整改。")
    with timesource.frozen(DECIDE_AT):
        plan = await decisions.batch_plan(reviewer, cycle_id)
        assert plan.count == 0 and plan.skipped_answered == 1
        with pytest.raises(Refused) as changed:
            await decisions.confirm_batch(reviewer, cycle_id, [listing_id])
    assert changed.value.errors[0].code == "changed"
    status = await EvaluationResult.select(EvaluationResult.status).where(
        EvaluationResult.listing == listing_id
    )
    assert status[0]["status"] == ResultStatus.provisional.value
