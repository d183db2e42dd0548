"""The review console's queues: counts per state and a filtered, paged list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from registry.access.people import display_names
from registry.access.personal_data import with_open_form
from registry.review.scope import LISTING_COLUMNS, findings, staff_scope, usernames
from registry.settings import get_settings
from registry.tables import Listing, Objection, ObjectionStatus
from workflows.actors import Actor
from workflows.engine import district_policy
from workflows.states import State

# The console's queues, in the order work flows through them.
QUEUE_STATES: tuple[State, ...] = (
    State.submitted,
    State.in_review,
    State.needs_supplement,
    State.pending_approval,
    State.in_public_notice,
)
ASSIGNED_CHOICES = ("all", "unassigned", "mine")


@dataclass(frozen=True)
class QueueFilter:
    """What the console shows: states, category, submission dates, assignee, paging."""

    states: tuple[State, ...] = QUEUE_STATES
    category: str | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    assigned: str = "all"  # all | unassigned | mine | a reviewer's user id
    district: str | None = None
    query: str = ""
    page: int = 1
    page_size: int = 25


@dataclass(frozen=True)
class QueueRow:
    """One line of the console's table, with the automatic checks' counts."""

    listing: dict[str, Any]
    assignee: str | None  # as pages name the person (王丽（审核员）)
    blocking: int
    warnings: int
    assignee_username: str | None = None
    # Objections lodged in the notice period and not yet decided: the reviewer's work, not a
    # check's hint, so the console names them as such.
    pending_objections: int = 0


async def pending_objections(listing_ids: list[int]) -> dict[int, int]:
    """Listing id → how many of its objections wait for a decision (listed ones only)."""
    if not listing_ids:
        return {}
    rows = await (
        Objection.select(Objection.listing, Count())
        .where(
            Objection.listing.is_in(listing_ids)
            & (Objection.status == ObjectionStatus.pending.value)
        )
        .group_by(Objection.listing)
    )
    return {int(r["listing"]): int(r["count"]) for r in rows}


def valid_assigned(value: str) -> bool:
    """all, unassigned, mine, or a user id."""
    return value in ASSIGNED_CHOICES or value.isdigit()


async def queue_counts(actor: Actor, district: str | None = None) -> dict[State, int]:
    """How many listings wait in each queue of the actor's districts."""
    rows = await (
        Listing.select(Listing.state, Count())
        .where(staff_scope(actor, district) & Listing.state.is_in([s.value for s in QUEUE_STATES]))
        .group_by(Listing.state)
    )
    found = {r["state"]: r["count"] for r in rows}
    return {state: int(found.get(state.value, 0)) for state in QUEUE_STATES}


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(get_settings().timezone)).astimezone(UTC)


def _category_clause(category: str) -> WhereRaw:
    # The form is JSON: one SQL function per engine answers "do its categories contain X".
    if Listing._meta.db.engine_type == "postgres":
        return WhereRaw('("listing"."form"::jsonb -> \'categories\') ? {}', category)
    return WhereRaw(
        'EXISTS (SELECT 1 FROM json_each("listing"."form", \'$.categories\') AS c '
        "WHERE c.value = {})",
        category,
    )


def _where(actor: Actor, f: QueueFilter) -> Any:
    where = staff_scope(actor, f.district) & Listing.state.is_in([s.value for s in f.states])
    if f.category:
        where = where & _category_clause(f.category)
    if f.submitted_from:
        where = where & (Listing.submitted_at >= _local_midnight(f.submitted_from))
    if f.submitted_to:
        where = where & (Listing.submitted_at < _local_midnight(f.submitted_to + timedelta(1)))
    if f.assigned == "unassigned":
        where = where & Listing.assigned_to.is_null()
    elif f.assigned == "mine":
        where = where & (Listing.assigned_to == actor.user_id)
    elif f.assigned.isdigit():
        where = where & (Listing.assigned_to == int(f.assigned))
    if f.query.strip():
        where = where & Listing.organisation.name.ilike(f"%{f.query.strip()}%")
    return where


async def review_listings(actor: Actor, f: QueueFilter) -> tuple[list[QueueRow], int]:
    """One page of the console's table (oldest submission first) and the total."""
    where = _where(actor, f)
    total = await Listing.count().where(where)
    offset = (f.page - 1) * f.page_size
    if offset >= max(total, 1):
        # A page past the last holds nothing; asking anyway could overflow the database's
        # integers (page 2**63 was a 500).
        return [], total
    rows = await (
        Listing.select(*LISTING_COLUMNS)
        .where(where)
        .order_by(Listing.submitted_at, Listing.id)
        .limit(f.page_size)
        .offset(offset)
        .output(load_json=True)
    )
    assigned = {r["assigned_to"] for r in rows}
    names, logins = await display_names(assigned), await usernames(assigned)
    objections = await pending_objections([r["id"] for r in rows])
    policies: dict[int, dict[str, Any]] = {}
    result = []
    for row in rows:
        with_open_form(row)  # the automatic checks read its staff IDs; nothing shows them
        if row["district"] not in policies:
            policies[row["district"]] = await district_policy(row["district"])
        found = await findings(row, actor, policies[row["district"]])
        blocking = sum(1 for x in found if x.blocking)
        who = row["assigned_to"]
        result.append(
            QueueRow(
                row,
                names.get(who),
                blocking,
                len(found) - blocking,
                logins.get(who),
                objections.get(row["id"], 0),
            )
        )
    return result, total
