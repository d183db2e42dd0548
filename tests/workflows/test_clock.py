"""The clock: working days across holidays, idempotent ticks, every time-driven transition."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

import pytest

from registry.tables import AuditEvent, District
from tests.cast import CAST, HEPING, T0, actor, listing_in, listing_row
from tests.factories import at, new_listing, state_of, step
from workflows import workdays
from workflows.clock import tick
from workflows.states import State
from workflows.workdays import WorkCalendar


async def approved_on(moment_text: str) -> int:
    """A listing approved at the given Beijing time."""
    listing_id = await listing_in(State.pending_approval)
    await step(listing_id, "approve", await actor("approver"), now=at(moment_text))
    return listing_id


async def test_notice_ends_after_five_working_days_across_national_day(db: object) -> None:
    listing_id = await approved_on("2026-09-29T15:00:00")
    row = await listing_row(listing_id)
    # 30 Sep, then 8, 9, 10 (a make-up Saturday) and 12 October.
    assert row["notice_start"] == date(2026, 9, 30)
    assert row["notice_end"] == date(2026, 10, 12)
    assert await tick(at("2026-10-12T23:59:00")) == {}
    assert (await state_of(listing_id))[0] == State.in_public_notice

    fired = await tick(at("2026-10-13T00:05:00"))
    assert fired == {"end_notice": 1}
    state, version = await state_of(listing_id)
    assert state == State.listed
    assert (await listing_row(listing_id))["valid_until"] == date(2027, 10, 13)
    events = await AuditEvent.count()

    assert await tick(at("2026-10-13T00:06:00")) == {}
    assert await state_of(listing_id) == (state, version)
    assert await AuditEvent.count() == events


async def test_district_holiday_moves_the_notice_end(db: object) -> None:
    await District.update({District.policy: {"extra_holidays": ["2026-10-09"]}}).where(
        District.code == HEPING
    )
    listing_id = await approved_on("2026-09-29T15:00:00")
    assert (await listing_row(listing_id))["notice_end"] == date(2026, 10, 13)


async def test_two_clocks_at_once_fire_each_transition_once(db: object) -> None:
    first = await approved_on("2026-09-29T15:00:00")
    second = await listing_in(State.pending_approval, organisation="other")
    await step(second, "approve", await actor("approver"), now=at("2026-09-29T16:00:00"))
    results = await asyncio.gather(*(tick(at("2026-10-20T08:00:00")) for _ in range(4)))
    assert sum(r["end_notice"] for r in results) == 2
    for listing_id in (first, second):
        assert await state_of(listing_id) == (State.listed, 6)


async def test_supplement_deadline_lapses_into_withdrawn(db: object) -> None:
    listing_id = await listing_in(State.needs_supplement)
    due = (await listing_row(listing_id))["supplement_due"]
    assert due == date(2026, 3, 16)
    assert await tick(at("2026-03-16T18:00:00")) == {}
    assert await tick(at("2026-03-17T01:00:00")) == {"lapse_supplement": 1}
    assert (await state_of(listing_id))[0] == State.withdrawn


async def test_listing_expires_after_valid_until(db: object) -> None:
    listing_id = await listing_in(State.listed)
    valid_until = (await listing_row(listing_id))["valid_until"]
    assert await tick(at(f"{valid_until}T12:00:00")) == {}
    assert await tick(at(f"{valid_until + timedelta(days=1)}T00:10:00")) == {"expire": 1}
    row = await listing_row(listing_id)
    assert row["state"] == State.exited and row["exit_reason"] == "expired"
    assert row["banned_until"] is None


async def test_missed_rectification_deadline_exits_with_a_ban(db: object) -> None:
    listing_id = await listing_in(State.under_rectification)
    due = (await listing_row(listing_id))["rectification_due"]
    fired = await tick(at(f"{due + timedelta(days=1)}T09:00:00"))
    assert fired == {"lapse_rectification": 1}
    row = await listing_row(listing_id)
    assert row["state"] == State.exited and row["banned_until"] is not None


async def test_clock_leaves_drafts_and_listed_alone(db: object) -> None:
    await new_listing(CAST.organisations["other"], CAST.districts[HEPING])
    await listing_in(State.listed)
    assert await tick(T0 + timedelta(days=60)) == {}


def test_year_outside_the_official_calendar_falls_back_to_weekends(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(workdays, "_warned_years", set())  # the warning is once per process
    calendar = WorkCalendar(extra_holidays=["2031-01-02"])
    with caplog.at_level(logging.WARNING):
        # Tue 31 Dec 2030 → Wed 1 Jan (no official data: a working day), Thu 2 Jan is the
        # district's holiday, then Fri 3 Jan.
        assert calendar.add_working_days(date(2030, 12, 31), 2) == date(2031, 1, 3)
    assert "does not cover" in caplog.text
