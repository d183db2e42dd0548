"""Working days: the official calendar with make-up days, plus a district's own holidays."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)

_warned_years: set[int] = set()


class WorkCalendar:
    """Decides working days for one district."""

    def __init__(self, extra_holidays: Iterable[date | str] = ()) -> None:
        self.extra_holidays = frozenset(
            d if isinstance(d, date) else date.fromisoformat(d) for d in extra_holidays
        )

    def is_working_day(self, day: date) -> bool:
        """True on an official working day (make-up Saturdays included) not added as a holiday."""
        if day in self.extra_holidays:
            return False
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            # The package only knows the years the State Council has announced.
            if day.year not in _warned_years:
                _warned_years.add(day.year)
                log.warning(
                    "official holiday calendar does not cover %s: using weekends plus the "
                    "district's own holidays",
                    day.year,
                )
            return day.weekday() < 5

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end is not later)."""
        return sum(
            1
            for n in range(1, (end - start).days + 1)
            if self.is_working_day(start + timedelta(days=n))
        )

    def add_working_days(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (start itself not counted)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        day = start
        remaining = count
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
