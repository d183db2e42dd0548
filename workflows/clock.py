"""The clock: fires due time-driven transitions through the engine, idempotently."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from workflows import deadlines, timesource
from workflows.actors import CLOCK
from workflows.engine import fire
from workflows.errors import Conflict, Refused
from workflows.timesource import local_today

log = logging.getLogger(__name__)


async def tick(now: datetime | None = None) -> Counter[str]:
    """Apply every time-driven transition due at `now`; return how many of each fired.

    A listing another process moved first is skipped (its guard or version refuses), so
    running the clock twice, or from two processes, does the same as once.
    """
    now = timesource.resolve(now)
    # Candidates by date (what the dashboards list as due); the engine re-checks each one with
    # the district's own calendar.
    fired: Counter[str] = Counter()
    for deadline in await deadlines.passed(local_today(now)):
        name = deadline.transition.name
        try:
            await fire(deadline.listing_id, name, CLOCK, now=now)
        except (Conflict, Refused) as refused:
            log.info("clock skipped listing %s (%s): %s", deadline.listing_id, name, refused)
            continue
        fired[name] += 1
    return fired
