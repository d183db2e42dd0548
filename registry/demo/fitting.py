"""Placing a scenario's history in time so that it ends where the plan wants, before "now"."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from registry.demo.model import DistrictInfo
from registry.demo.scenarios import Scenario
from registry.demo.sim import Sim
from registry.demo.timeline import PlanError


def fit(
    scenario: Scenario,
    *,
    seed: int,
    listing: int,
    district: DistrictInfo,
    tz: ZoneInfo,
    now: datetime,
    target: datetime,
    not_before: datetime | None = None,
    variant: int = 0,
) -> Sim:
    """Run the scenario from a start chosen so that its last step lands near `target`.

    The simulation's random draws do not depend on the start, so each attempt shifts the same
    history by the distance its last step missed the target by. Office hours and holidays can
    keep a step from moving with it (a Monday stays after now); then it is pushed further, by
    more each attempt, in the direction the problem calls for.
    """
    # Measure the history from a start well in the past, then move it to end at the target.
    start = now - timedelta(days=4 * 365)
    fallback: Sim | None = None
    issues: list[tuple[int, str]] = []
    too_early: datetime | None = None
    too_late: datetime | None = None
    for attempt in range(24):
        if attempt and not_before is not None and start < not_before:
            start = not_before
        sim = Sim(random.Random(seed), start, district, tz, listing, variant)
        scenario.run(sim)
        last = sim.steps[-1].at
        if attempt:
            issues = sim.problems(now)
            if not issues:
                if abs(last - target) <= timedelta(days=4):
                    return sim
                fallback = fallback or sim
            elif any(direction < 0 for direction, _ in issues):
                too_late = start
            else:
                too_early = start
        if too_early is not None and too_late is not None:
            # Bracketed (e.g. a notice that must span a holiday): bisect.
            start = too_early + (too_late - too_early) / 2
            continue
        shift = target - last
        if issues:
            push = timedelta(hours=12 * attempt)
            shift = min(shift, -push) if start == too_late else max(shift, push)
        start += shift
    if fallback is not None:
        return fallback
    details = "; ".join(text for _, text in issues)
    raise PlanError(f"scenario {scenario.name} does not fit before {now}: {details}")
