"""Why the domain refused: what the engine and the services built on it raise.

Plain domain errors with no HTTP in them: the web layer decides what status each one answers
with (registry.web.errors.STATUS_OF), so the domain can be read and tested without it.
"""

from __future__ import annotations

from workflows.context import Refusal


class TransitionError(Exception):
    """A refused request: `detail` says why, `errors` name the fields at fault."""

    def __init__(self, detail: str, errors: list[Refusal] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class NotFound(TransitionError):
    """The record does not exist, or the actor may not see it."""


class Forbidden(TransitionError):
    """The actor sees the record, but no role of theirs may do this."""


class Conflict(TransitionError):
    """Someone else changed the record since the actor read it."""


class Refused(TransitionError):
    """The request breaks a rule: a state, a guard, a missing reason or a bad field."""
