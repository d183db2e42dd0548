"""The registry's one reading of the current time.

Deadlines, notice periods, validity and "today" on every page follow from it, so nothing else
calls `datetime.now()`. Tests set it (`frozen`) to a moment they control: a suite that read the
wall clock would pass or fail depending on the day it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_fixed: datetime | None = None


def now() -> datetime:
    """The current moment, in UTC (the fixed one while `frozen` is in force)."""
    return _fixed if _fixed is not None else datetime.now(UTC)


def resolve(moment: datetime | None) -> datetime:
    """`moment` in UTC, or the current moment when none is given."""
    return (moment or now()).astimezone(UTC)


def local_today(moment: datetime | None = None) -> date:
    """The calendar day of `moment` (default: now) in the registry's time zone."""
    # Imported on first use: storage brings in the settings and the database layer, which
    # itself reads this module.
    from workflows.storage import timezone_name

    return resolve(moment).astimezone(ZoneInfo(timezone_name())).date()


@contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    """Make `now()` answer `moment` until the block ends (tests, replays)."""
    global _fixed
    if moment.tzinfo is None:
        raise ValueError("a frozen moment must carry its time zone")
    previous, _fixed = _fixed, moment.astimezone(UTC)
    try:
        yield
    finally:
        _fixed = previous
