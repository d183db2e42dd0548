"""What guards and effects see: a snapshot of the listing and of the request, never the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from schemas import FieldError
from workflows.actors import Actor, Grant
from workflows.workdays import WorkCalendar

# Guards refuse with the same {field, code, message} shape as schema validation.
Refusal = FieldError


@dataclass(frozen=True)
class Context:
    """Everything a guard or an effect may read."""

    listing: Mapping[str, Any]
    actor: Actor
    grant: Grant
    now: datetime
    today: date
    policy: Mapping[str, Any]
    calendar: WorkCalendar
    reason: str = ""
    message: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)
