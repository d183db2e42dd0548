"""A district's effective policy: the city's defaults with the district's overrides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from schemas import city_policy_under
from workflows.workdays import WorkCalendar


def effective_policy(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The city default merged with a district's overrides."""
    return city_policy_under(dict(overrides or {}))


def calendar_for(policy: Mapping[str, Any]) -> WorkCalendar:
    """The working-day calendar with the district's extra holidays."""
    return WorkCalendar(policy.get("extra_holidays", ()))
