"""The plain records the demo planner produces and the seeder writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any

from workflows.policy import calendar_for, effective_policy
from workflows.workdays import WorkCalendar


@dataclass(frozen=True)
class DistrictInfo:
    """A district as the planner needs it: name and effective policy (with its calendar)."""

    code: str
    name: str
    inner_six: bool
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def policy(self) -> dict[str, Any]:
        """The city defaults merged with this district's overrides."""
        return effective_policy(self.overrides)

    @cached_property
    def calendar(self) -> WorkCalendar:
        """Working days with the district's own holidays."""
        return calendar_for(self.policy)


@dataclass(frozen=True)
class Step:
    """One planned change: `create` inserts the draft, anything else is fired through the engine."""

    at: datetime
    listing: int
    seq: int
    action: str
    actor: str  # provider | reviewer | reviewer2 | approver | clock
    reason: str = ""
    message: str = ""
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def order(self) -> tuple[datetime, int, int]:
        """Global order: by time, then listing, then the listing's own sequence."""
        return (self.at, self.listing, self.seq)


@dataclass
class ListingPlan:
    """One listing: whose, where, the scenario it follows, its steps and its form."""

    index: int
    provider: int
    district_code: str
    scenario: str
    final_state: str
    steps: list[Step]
    courses: tuple[str, ...] = ()
    form: dict[str, Any] = field(default_factory=dict)
    # Dates the simulation predicts; used to choose demo logins and to check the outcome.
    dates: dict[str, date | None] = field(default_factory=dict)

    @property
    def created_at(self) -> datetime:
        """When the draft was created."""
        return self.steps[0].at

    @property
    def submitted_on(self) -> datetime:
        """When the form was first sent (or the draft's creation for drafts)."""
        return next((s.at for s in self.steps if s.action == "submit"), self.created_at)


@dataclass(frozen=True)
class SchoolPlan:
    """A school in a district."""

    district_code: str
    name: str
    level: str


@dataclass(frozen=True)
class UserPlan:
    """A demo login: role and the one scope it needs (district code, school or provider index)."""

    username: str
    role: str
    district_code: str | None = None
    school: int | None = None
    provider: int | None = None
    name: str = ""
    post: str = ""
