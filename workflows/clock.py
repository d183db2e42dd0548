"""The clock: fires due time-driven transitions through the engine, idempotently."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from workflows import storage, timesource
from workflows.actors import CLOCK
from workflows.engine import fire
from workflows.errors import Conflict, Refused
from workflows.timesource import local_today
from workflows.transitions import CLOCK_TRANSITIONS

log = logging.getLogger(__name__)


async def tick(now: datetime | None = None) -> Counter[str]:
    """Apply every time-driven transition due at `now`; return how many of each fired.

    A listing another process moved first is skipped (its guard or version refuses), so
    running the clock twice, or from two processes, does the same as once.
    """
    now = timesource.resolve(now)
    # Candidates by date; the engine re-checks each one with the district's own calendar.
    today = local_today(now)
    fired: Counter[str] = Counter()
    for transition in CLOCK_TRANSITIONS:
        assert transition.due is not None
        due = await storage.listings_due(transition.sources, transition.due, before=today)
        for listing_id in due:
            try:
                await fire(listing_id, transition.name, CLOCK, now=now)
            except (Conflict, Refused) as refused:
                log.info("clock skipped listing %s (%s): %s", listing_id, transition.name, refused)
                continue
            fired[transition.name] += 1
    return fired
