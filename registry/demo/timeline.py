"""A listing's planned history: dated steps that mirror what the engine's effects will compute."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from registry.demo.model import DistrictInfo, Step
from workflows.states import ExitReason, State
from workflows.transitions import TRANSITIONS
from workflows.workdays import add_years

ONE_DAY = timedelta(days=1)
# Dates the clock acts on: while one is pending, nothing else may happen after it.
CLOCK_DUES = {
    State.in_public_notice: ("notice_end", "end_notice"),
    State.needs_supplement: ("supplement_due", "lapse_supplement"),
    State.under_rectification: ("rectification_due", "lapse_rectification"),
}


class PlanError(RuntimeError):
    """The plan broke a rule the engine or the clock enforces: a bug in the demo planner."""


class Timeline:
    """One listing's clock and record: when each actor acts, and the dates effects will set."""

    def __init__(
        self,
        rng: random.Random,
        start: datetime,
        district: DistrictInfo,
        tz: ZoneInfo,
        listing: int,
        variant: int = 0,
    ) -> None:
        self.rng = rng
        # The how-many-th listing of its scenario: lets scenarios cycle through their variants.
        self.variant = variant
        self.t = start
        self.district = district
        self.policy = district.policy
        self.calendar = district.calendar
        self.tz = tz
        self.listing = listing
        self.state = State.draft
        self.steps: list[Step] = []
        self.reviewer = rng.choice(("reviewer", "reviewer2"))
        self.appealed = False
        self.dates: dict[str, date | None] = dict.fromkeys(
            ("supplement_due", "appeal_due", "notice_end", "valid_until", "rectification_due",
             "banned_until"),
        )  # fmt: skip

    # --- moments -------------------------------------------------------------------------------

    def day_of(self, moment: datetime) -> date:
        """The local calendar day of a moment."""
        return moment.astimezone(self.tz).date()

    def _at(self, day: date, minute: int, second: int) -> datetime:
        local = datetime.combine(day, time(minute // 60, minute % 60, second), tzinfo=self.tz)
        return local.astimezone(UTC)

    def _provider_moment(self, lo: float, hi: float) -> datetime:
        gap, minute, second = (
            self.rng.uniform(lo, hi),
            self.rng.randint(480, 1319),
            self.rng.randint(0, 59),
        )
        day = self.day_of(self.t + timedelta(days=gap))
        while (moment := self._at(day, minute, second)) <= self.t:
            day += ONE_DAY
        return moment

    def _office_moment(self, lo: float, hi: float) -> datetime:
        """A working day, 9:00-11:30 or 14:00-17:30, at least the gap after the last step."""
        gap, slot, second = (
            self.rng.uniform(lo, hi),
            self.rng.randrange(360),
            self.rng.randint(0, 59),
        )
        minute = 540 + slot if slot < 150 else 840 + slot - 150
        day = self.day_of(self.t + timedelta(days=gap))
        while (
            moment := self._at(day, minute, second)
        ) <= self.t or not self.calendar.is_working_day(day):
            day += ONE_DAY
        return moment

    def _clock_moment(self, due: date | None) -> datetime:
        """The nightly clock run just after a due day has ended."""
        minute, second = self.rng.randint(1, 30), self.rng.randint(0, 59)
        if due is None:
            raise PlanError("a clock transition without its due date")
        moment = self._at(due + ONE_DAY, minute, second)
        if moment <= self.t:
            raise PlanError(f"listing {self.listing}: the clock would have fired before {self.t}")
        return moment

    # --- recording -----------------------------------------------------------------------------

    def _record(
        self,
        at: datetime,
        action: str,
        actor: str,
        reason: str = "",
        message: str = "",
        params: dict[str, str] | None = None,
    ) -> date:
        transition = TRANSITIONS[action]
        if self.state not in transition.sources:
            raise PlanError(f"listing {self.listing}: {action} from {self.state}")
        if transition.reason_required and not reason:
            raise PlanError(f"listing {self.listing}: {action} needs a reason")
        today = self.day_of(at)
        pending = CLOCK_DUES.get(self.state)
        if pending and action != pending[1]:
            due = self.dates[pending[0]]
            if due is not None and today > due:
                raise PlanError(f"listing {self.listing}: {action} after {pending[0]} {due}")
        valid_until = self.dates["valid_until"]
        on_whitelist = self.state in (State.listed, State.under_rectification)
        if on_whitelist and action != "expire" and valid_until is not None and today > valid_until:
            raise PlanError(f"listing {self.listing}: {action} after expiry {valid_until}")
        self.steps.append(
            Step(at, self.listing, len(self.steps), action, actor, reason, message, params or {})
        )
        self.t = at
        self.state = transition.target
        return today

    def _days(self, key: str) -> int:
        return int(self.policy[key])

    def _exit(self, today: date, reason: ExitReason) -> date | None:
        years = int(self.policy["ban_years"].get(reason.value, 0))
        self.dates["banned_until"] = add_years(today, years) if years else None
        self.dates["rectification_due"] = None
        return self.dates["banned_until"]

    @property
    def other_reviewer(self) -> str:
        """The district's second reviewer (appeals go to them)."""
        return "reviewer2" if self.reviewer == "reviewer" else "reviewer"

    # --- checks --------------------------------------------------------------------------------

    def problems(self, now: datetime) -> list[tuple[int, str]]:
        """Why this history does not fit `now`: (-1: move it earlier, +1: later, text)."""
        today = self.day_of(now)
        found = [
            (-1, f"{s.action} at {s.at} is not in the past") for s in self.steps if s.at >= now
        ]
        if self.state in (State.listed, State.under_rectification):
            end = self.dates["valid_until"]
            if end is None or end <= today:
                found.append((1, f"valid_until {end} is not after today"))
        due_of: dict[State, Any] = {s: key for s, (key, _) in CLOCK_DUES.items()}
        if self.state in due_of and (self.dates[due_of[self.state]] or today) < today:
            found.append((1, f"{due_of[self.state]} has passed: the clock would have moved it"))
        return found
