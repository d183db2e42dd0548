"""New listings: the one way a listing row comes to exist, and a provider's new draft.

Every listing starts as a draft created by `create_listing`, whoever creates it (a provider, the
whitelist import, the demo seed): the row, its `application.created` audit event and its
projection row commit together, so the audit chain knows every listing from its first moment.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from registry.access.personal_data import organisation_plain, seal_form
from registry.applications.ownership import own_listing, provider_grant
from registry.db import write_transaction
from registry.public import projection
from registry.tables import District, Listing, Organisation
from workflows import audit, timesource
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import Refused
from workflows.identity import normalise_identities
from workflows.states import LIVE_STATES, ExitReason, Role, State

CREATED = "application.created"
_LOCK_NAMESPACE = 7_426_002  # pg advisory lock: one draft creation per organisation at a time
_PREFILLED = (
    "uscc",
    "resident_id",
    "legal_representative",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "description",
)


async def create_listing(
    actor: Actor,
    role: Role,
    *,
    organisation_id: int,
    district_id: int,
    form: Mapping[str, Any],
    now: datetime | None = None,
) -> int:
    """Insert a draft with its creation event (and projection row) in one transaction."""
    now = timesource.resolve(now)
    async with write_transaction(Listing._meta.db):
        district = await District.select(District.code).where(District.id == district_id).first()
        rows = await Listing.insert(
            Listing(
                organisation=organisation_id,
                district=district_id,
                # Its ID and phone numbers written as the standards do, then sealed.
                form=seal_form(normalise_identities(dict(form))),
                created_at=now,
            )
        ).returning(Listing.id)
        listing_id = int(rows[0]["id"])
        await audit.record(
            actor,
            action=CREATED,
            role=role.value,
            listing=listing_id,
            to_state=State.draft.value,
            payload={"listing": listing_id, "district": district["code"]},
            occurred_at=now,
        )
        # A draft is never public: this keeps the rule "every write refreshes" without exception.
        await projection.refresh(listing_id)
    return listing_id


def organisation_form(organisation: Mapping[str, Any]) -> dict[str, Any]:
    """A new form prefilled with what the registry already knows about the provider."""
    # The provider's own numbers, opened: its draft is where it sees and edits them.
    organisation = organisation_plain(dict(organisation))
    facts: dict[str, Any] = {"name": organisation["name"], "kind": organisation["kind"]}
    for key in _PREFILLED:
        if organisation.get(key):
            facts[key] = organisation[key]
    if organisation.get("founded_on"):
        facts["founded_on"] = organisation["founded_on"].isoformat()
    return {"organisation": facts}


def district_refused(code: str, message: str) -> Refused:
    """A refusal about the chosen district (unknown, or already applied to)."""
    return Refused(message, [Refusal("district", code, message)])


def ban_refused(district_name: str, until: date, exit_reason: str | None) -> Refused:
    """The refusal of a new application while a ban after a forced exit runs."""
    # Other tools read the end date from the `banned_until` field; people read the sentence.
    reason = ExitReason(exit_reason).label if exit_reason else "退出"
    message = (
        f"您因“{reason}”退出{district_name}白名单，禁止重新申请期至"
        f"{until.year}年{until.month}月{until.day}日（{until.isoformat()}），期满后方可再次申请"
    )
    return Refused(message, [Refusal("banned_until", "banned", message)])


async def create_draft(
    actor: Actor, district_code: str, form: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A new draft of the actor's organisation in a district, unless one is live or a ban runs."""
    organisation_id = provider_grant(actor).organisation_id
    assert organisation_id is not None
    district = await District.select().where(District.code == district_code).first()
    if district is None:
        raise district_refused("unknown_district", f"未知的区代码：{district_code}")
    today = timesource.local_today()
    db = Listing._meta.db
    async with write_transaction(db):
        if isinstance(db, PostgresEngine):
            # SQLite's immediate transaction already serialises; PostgreSQL needs a lock so two
            # clicks cannot both find "no live listing" and create two.
            await Listing.raw(
                "SELECT pg_advisory_xact_lock({}, {})", _LOCK_NAMESPACE, organisation_id
            )
        earlier = await Listing.select(
            Listing.id, Listing.state, Listing.banned_until, Listing.exit_reason
        ).where((Listing.organisation == organisation_id) & (Listing.district == district["id"]))
        live = [r for r in earlier if State(r["state"]) in LIVE_STATES]
        if live:
            raise district_refused(
                "duplicate_listing",
                f"您在{district['name']}已有进行中的申请或入库记录"
                f"（编号 {live[0]['id']}，{State(live[0]['state']).label}），不能重复申请",
            )
        bans = [r for r in earlier if r["banned_until"] is not None and r["banned_until"] >= today]
        if bans:
            ban = max(bans, key=lambda r: r["banned_until"])
            raise ban_refused(district["name"], ban["banned_until"], ban["exit_reason"])
        if form is None:
            organisation = (
                await Organisation.select().where(Organisation.id == organisation_id).first()
            )
            form = organisation_form(organisation)
        listing_id = await create_listing(
            actor,
            Role.provider,
            organisation_id=organisation_id,
            district_id=district["id"],
            form=form,
        )
    return await own_listing(listing_id, actor)
