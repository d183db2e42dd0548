"""Who may see and decide a listing in the bureau, and the facts checks and guards need."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from piccolo.apps.user.tables import BaseUser

from registry.access.people import display_names
from registry.access.personal_data import with_open_form
from registry.access.scope import RecordKind, visible
from registry.tables import District, Listing, Membership
from workflows.actors import Actor, Grant
from workflows.checks import Finding, run_checks
from workflows.context import Context, Refusal
from workflows.engine import Forbidden, NotFound, Refused, build_context
from workflows.states import Role, State
from workflows.transitions import TRANSITIONS

STAFF_ROLES = frozenset({Role.reviewer, Role.approver, Role.city})
DECIDERS = frozenset({Role.reviewer, Role.approver})
# The automatic checks see what they see at submission (the engine loads these facts there).
CHECK_FACTS: tuple[str, ...] = tuple(sorted(TRANSITIONS["submit"].needs))

LISTING_COLUMNS = (
    *Listing._meta.columns,
    Listing.district.code.as_alias("district_code"),
    Listing.district.name.as_alias("district_name"),
    Listing.organisation.name.as_alias("organisation_name"),
    Listing.organisation.kind.as_alias("organisation_kind"),
)


def refused(field: str, code: str, message: str) -> Refused:
    """A 422 refusal naming one field."""
    return Refused(message, [Refusal(field, code, message)])


def grant_for(grants: Sequence[Grant], roles: frozenset[Role], what: str) -> Grant:
    """The first grant with one of `roles`; 403 when the actor only looks on (the city)."""
    for grant in grants:
        if grant.role in roles:
            return grant
    raise Forbidden(f"当前角色无权{what}")


def _grants(actor: Actor, listing: Mapping[str, Any]) -> list[Grant]:
    state = State(listing["state"])
    return actor.grants_seeing(listing["organisation"], listing["district"], state)


async def staff_listing(listing_id: int, actor: Actor) -> tuple[dict[str, Any], list[Grant]]:
    """The listing and the actor's bureau grants over it; 404 for anyone else."""
    # Drafts stay invisible to the bureau, the city included (registry.access.scope).
    scope = visible(RecordKind.listing, actor, roles=STAFF_ROLES)
    listing = None
    if scope is not None:
        listing = await (
            Listing.select(*LISTING_COLUMNS)
            .where((Listing.id == listing_id) & scope)
            .output(load_json=True)
            .first()
        )
    if listing is None:
        raise NotFound("申请记录不存在")
    # Opened for the checks and the reveal; every output masks it (registry.access.masking).
    with_open_form(listing)
    grants = [g for g in _grants(actor, listing) if g.role in STAFF_ROLES]
    return listing, grants


def staff_scope(actor: Actor, district: str | None = None) -> Any:
    """A where-clause over Listing for the console: the actor's districts, never drafts."""
    where = visible(RecordKind.listing, actor, roles=STAFF_ROLES)
    if where is None:
        raise NotFound("审核工作台仅供区教育局和市教委使用")
    if district:
        where = where & (Listing.district.code == district)
    return where


async def staff_districts(actor: Actor) -> list[dict[str, Any]]:
    """The districts the actor's console covers: [{id, code, name}] (the city: all)."""
    query = District.select(District.id, District.code, District.name).order_by(District.code)
    if Role.city not in actor.roles:
        ids = [g.district_id for g in actor.grants if g.role in DECIDERS]
        query = query.where(District.id.is_in(ids or [-1]))
    return await query


async def district_staff(
    district_id: int, roles: frozenset[Role] = DECIDERS
) -> list[dict[str, Any]]:
    """Active users holding one of `roles` in the district: [{id, username, name, role}].

    `name` is how pages name the person (王丽（审核员）, else the username).
    """
    rows = await Membership.select(
        Membership.user.as_alias("id"),
        Membership.user.username.as_alias("username"),
        Membership.role,
    ).where(
        (Membership.district == district_id)
        & Membership.role.is_in([r.value for r in roles])
        & (Membership.user.active == True)  # noqa: E712
    )
    names = await display_names(r["id"] for r in rows)
    for row in rows:
        row["name"] = names.get(row["id"], row["username"])
    return sorted(rows, key=lambda r: (r["role"] != Role.reviewer, r["username"]))


async def usernames(user_ids: set[int | None]) -> dict[int, str]:
    """User id → username for the ids given."""
    ids = sorted(i for i in user_ids if i is not None)
    if not ids:
        return {}
    rows = await BaseUser.select(BaseUser.id, BaseUser.username).where(BaseUser.id.is_in(ids))
    return {r["id"]: r["username"] for r in rows}


async def check_context(
    listing: Mapping[str, Any],
    actor: Actor,
    policy: Mapping[str, Any] | None = None,
    facts: Sequence[str] = CHECK_FACTS,
    now: datetime | None = None,
) -> Context:
    """A Context like the engine's, for running checks and guards outside a transition."""
    grants = _grants(actor, listing)
    grant = grants[0] if grants else Grant(role=Role.city)
    return await build_context(listing, actor, grant, facts=facts, now=now, policy=policy)


async def findings(
    listing: Mapping[str, Any], actor: Actor, policy: Mapping[str, Any] | None = None
) -> list[Finding]:
    """The automatic checks' findings for a listing, as the reviewer sees them today."""
    return run_checks(await check_context(listing, actor, policy))
