"""Which listings an actor may see, as a query (the SQL twin of Grant.sees)."""

from __future__ import annotations

from functools import reduce
from typing import Any

from registry.tables import Listing
from workflows.actors import Actor, Grant
from workflows.states import PUBLIC_STATES, Role, State


def _clause(grant: Grant) -> Any:
    if grant.role in (Role.city, Role.clock, Role.system):
        return Listing.id.is_not_null()
    if grant.role == Role.provider:
        return Listing.organisation == grant.organisation_id
    if grant.role in (Role.reviewer, Role.approver):
        return (Listing.district == grant.district_id) & (Listing.state != State.draft.value)
    if grant.role == Role.school:
        return (Listing.district == grant.school_district_id) & Listing.state.is_in(
            sorted(s.value for s in PUBLIC_STATES)
        )
    raise ValueError(f"no visibility rule for role {grant.role}")


def visible_listings(actor: Actor) -> Any | None:
    """A where-clause over Listing for everything the actor may see; None when nothing."""
    clauses = [_clause(g) for g in actor.grants]
    if not clauses:
        return None
    return reduce(lambda a, b: a | b, clauses)
