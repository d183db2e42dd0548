"""Which rows a user may see: one table of (record kind, role) → a where-clause.

Every reader of listings, documents, complaints, incidents, engagements, evaluation results,
audit events and objections asks here, so a rule is written once. A user's clause is the OR of
their grants' clauses, plus what everyone may see (the public rows of some kinds); None means
nothing is visible. Outside the clause a record does not exist for the user (404, not 403).

Where the old writings disagreed, the stricter rule is kept: the city never sees a provider's
draft, nor its documents or its events (the staff console already hid drafts; the JSON API and
the document check did not).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import reduce
from typing import Any

from piccolo.columns import Column
from piccolo.custom_types import Combinable
from piccolo.table import Table

from registry.tables import (
    AuditEvent,
    Complaint,
    Document,
    Engagement,
    EvaluationResult,
    Incident,
    Listing,
    Objection,
    ResultStatus,
)
from workflows.actors import Actor, Grant
from workflows.states import PUBLIC_STATES, Role, State

__all__ = [
    "PUBLIC_RULES",
    "RULES",
    "RecordKind",
    "clause_of",
    "grant_clause",
    "listing_scope",
    "may_see",
    "table_of",
    "visible",
]


class RecordKind(StrEnum):
    """The kinds of record whose visibility depends on who asks."""

    listing = "listing"
    document = "document"
    complaint = "complaint"
    incident = "incident"
    engagement = "engagement"
    result = "result"
    audit_event = "audit_event"
    objection = "objection"


@dataclass(frozen=True)
class On:
    """What a rule filters: the record's table and the listing it belongs to.

    `listing` is the Listing table itself or the record's foreign key to it: either way
    `on.listing.district` names the listing's district in the query (Piccolo joins).
    """

    table: type[Table]
    listing: Any

    def column(self, name: str) -> Column:
        """One of the record table's own columns."""
        return self.table._meta.get_column_by_name(name)


# A grant's rule; None: this grant shows nothing (its scope is missing).
Rule = Callable[[On, Grant], Combinable | None]
PublicRule = Callable[[On], Combinable]

_SENT = State.draft.value
_PUBLIC = sorted(state.value for state in PUBLIC_STATES)


def _on(kind: RecordKind) -> On:
    """The table of a kind (built per call: Piccolo's join columns are fresh objects)."""
    targets: dict[RecordKind, tuple[type[Table], Any]] = {
        RecordKind.listing: (Listing, Listing),
        RecordKind.document: (Document, Document.listing),
        RecordKind.complaint: (Complaint, Complaint.listing),
        RecordKind.incident: (Incident, Incident.listing),
        RecordKind.engagement: (Engagement, Engagement.listing),
        RecordKind.result: (EvaluationResult, EvaluationResult.listing),
        RecordKind.audit_event: (AuditEvent, AuditEvent.listing),
        RecordKind.objection: (Objection, Objection.listing),
    }
    return On(*targets[kind])


# --- the rules: each one line, named for what it lets through ------------------------------


def everything(on: On, grant: Grant) -> Combinable:
    """Every row."""
    return on.table._meta.primary_key.is_not_null()


def sent(on: On, grant: Grant) -> Combinable:
    """Every row whose listing has been sent (drafts were never sent to anyone)."""
    clause: Combinable = on.listing.state != _SENT
    return clause


def sent_or_no_listing(on: On, grant: Grant) -> Combinable:
    """Every row about a sent listing, and the rows about no listing at all."""
    return sent(on, grant) | on.column("listing").is_null()


def own_organisation(on: On, grant: Grant) -> Combinable | None:
    """Rows of the grant's organisation's listings (drafts included: they are its own)."""
    if grant.organisation_id is None:
        return None
    clause: Combinable = on.listing.organisation == grant.organisation_id
    return clause


def own_district(on: On, grant: Grant) -> Combinable | None:
    """Rows of listings in the grant's district."""
    if grant.district_id is None:
        return None
    clause: Combinable = on.listing.district == grant.district_id
    return clause


def own_district_sent(on: On, grant: Grant) -> Combinable | None:
    """Rows of sent listings in the grant's district: the bureau never sees a draft."""
    district = own_district(on, grant)
    return None if district is None else district & sent(on, grant)


def district_whitelist(on: On, grant: Grant) -> Combinable | None:
    """Listings on the public whitelist of the school's district."""
    if grant.school_district_id is None:
        return None
    district: Combinable = on.listing.district == grant.school_district_id
    return district & _on_whitelist(on)


def own_school(on: On, grant: Grant) -> Combinable | None:
    """Rows recorded by (or about) the grant's school."""
    if grant.school_id is None:
        return None
    return on.column("school") == grant.school_id


def _on_whitelist(on: On) -> Combinable:
    clause: Combinable = on.listing.state.is_in(_PUBLIC)
    return clause


def _confirmed() -> Combinable:
    return EvaluationResult.status == ResultStatus.confirmed.value


def cycle_district(on: On, grant: Grant) -> Combinable | None:
    """Results of the grant's district's cycles, confirmed or not."""
    if grant.district_id is None:
        return None
    clause: Combinable = EvaluationResult.cycle.district == grant.district_id
    return clause


def own_confirmed(on: On, grant: Grant) -> Combinable | None:
    """The organisation's results, once a reviewer has confirmed them."""
    own = own_organisation(on, grant)
    return None if own is None else own & _confirmed()


def engaged_confirmed(on: On, grant: Grant) -> Combinable | None:
    """Confirmed results of the providers the school engages (any term)."""
    if grant.school_id is None:
        return None
    engaged = Engagement.select(Engagement.listing).where(Engagement.school == grant.school_id)
    return EvaluationResult.listing.is_in(engaged) & _confirmed()


def whitelist_confirmed(on: On) -> Combinable:
    """Everyone: confirmed results of providers on a public whitelist."""
    return _confirmed() & _on_whitelist(on)


K, R = RecordKind, Role
_REVIEWERS = (R.reviewer, R.approver)

# (kind, role) → rule. A pair that is absent shows that role nothing of that kind.
RULES: dict[tuple[RecordKind, Role], Rule] = {
    (K.listing, R.provider): own_organisation,
    **{(K.listing, role): own_district_sent for role in _REVIEWERS},
    (K.listing, R.school): district_whitelist,
    (K.listing, R.city): sent,
    (K.listing, R.clock): everything,
    (K.listing, R.system): everything,
    # Schools read the public whitelist, never a provider's papers.
    (K.document, R.provider): own_organisation,
    **{(K.document, role): own_district_sent for role in _REVIEWERS},
    (K.document, R.city): sent,
    # Complaints carry the sender's contact: the bureau only.
    **{(K.complaint, role): own_district for role in _REVIEWERS},
    (K.complaint, R.city): everything,
    (K.incident, R.school): own_school,
    **{(K.incident, role): own_district for role in _REVIEWERS},
    (K.incident, R.city): everything,
    (K.engagement, R.school): own_school,
    (K.engagement, R.provider): own_organisation,
    **{(K.engagement, role): own_district for role in _REVIEWERS},
    (K.engagement, R.city): everything,
    (K.engagement, R.clock): everything,
    (K.engagement, R.system): everything,
    # A computed result may still change: only the bureau sees it before confirmation.
    (K.result, R.provider): own_confirmed,
    (K.result, R.school): engaged_confirmed,
    **{(K.result, role): cycle_district for role in _REVIEWERS},
    (K.result, R.city): everything,
    # Events hold the bureau's internal notes; which columns a provider reads is the
    # reader's business (the provider's history drops them).
    (K.audit_event, R.provider): own_organisation,
    **{(K.audit_event, role): own_district_sent for role in _REVIEWERS},
    (K.audit_event, R.city): sent_or_no_listing,
    # Objections carry the objector's real name and contact: the district's staff only.
    **{(K.objection, role): own_district for role in _REVIEWERS},
}

# What everyone sees, logged in or not, on top of their grants.
PUBLIC_RULES: dict[RecordKind, PublicRule] = {
    K.result: whitelist_confirmed,
}


def table_of(kind: RecordKind) -> type[Table]:
    """The table holding records of `kind`."""
    return _on(kind).table


def grant_clause(kind: RecordKind, grant: Grant) -> Combinable | None:
    """The rows of `kind` one grant shows (without what everyone sees); None: none."""
    rule = RULES.get((kind, grant.role))
    return None if rule is None else rule(_on(kind), grant)


def _any(clauses: Iterable[Combinable | None]) -> Combinable | None:
    found = [clause for clause in clauses if clause is not None]
    return reduce(operator.or_, found) if found else None


def visible(
    kind: RecordKind, actor: Actor | None, roles: Collection[Role] | None = None
) -> Combinable | None:
    """A where-clause over the kind's table for what the actor may see; None: nothing.

    `actor` None is the public. With `roles`, only grants of those roles count and the
    public part is left out (e.g. the staff console shows what staff see as staff).
    """
    grants = actor.grants if actor is not None else ()
    return clause_of(kind, grants, None if roles is None else frozenset(roles))


def clause_of(
    kind: RecordKind, grants: tuple[Grant, ...], roles: frozenset[Role] | None = None
) -> Combinable | None:
    """`visible` for a set of grants (hashable: a query built on it can be kept per key)."""
    clauses = [grant_clause(kind, g) for g in grants if roles is None or g.role in roles]
    if roles is None and kind in PUBLIC_RULES:
        clauses.append(PUBLIC_RULES[kind](_on(kind)))
    return _any(clauses)


def listing_scope(kind: RecordKind, actor: Actor | None) -> Combinable | None:
    """A where-clause over Listing: the listings whose `kind` records the actor may see.

    Only for kinds whose rules all go through the listing (complaints, objections, documents).
    """
    on = On(Listing, Listing)
    grants = actor.grants if actor is not None else ()
    return _any(rule(on, g) for g in grants if (rule := RULES.get((kind, g.role))) is not None)


async def may_see(kind: RecordKind, actor: Actor | None, record_id: int) -> bool:
    """Whether the actor may see one record (a missing record: False)."""
    clause = visible(kind, actor)
    if clause is None:
        return False
    table = table_of(kind)
    found = await table.exists().where((table._meta.primary_key == record_id) & clause)
    return bool(found)
