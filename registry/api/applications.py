"""A provider's applications: create a draft per district, save its form, check it; the inbox.

Saving a form is not a transition: it never changes `state` or `version` (only the engine
writes those). Two checks keep a save from overwriting someone else's work:

- `version` must equal the listing's version: nothing was fired (submitted, withdrawn…) since
  the client loaded it;
- `form_hash` (sha256 of the stored form in canonical JSON, as returned by every read and save)
  must equal the hash of the form stored now: no colleague saved in between.

Either mismatch is a 409 and nothing is written. A client that omits `form_hash` gets only the
first check.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
from litestar import get, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody
from piccolo.engine.postgres import PostgresEngine

from registry.applications.inbox import InboxItem, inbox_for
from registry.db import write_transaction
from registry.tables import District, Listing, Organisation
from registry.web.security import provide_actor
from schemas import APPLICATION, FieldError, validate
from workflows import audit
from workflows.actors import Actor, Grant
from workflows.checks import Finding, run_checks
from workflows.context import Refusal
from workflows.engine import Conflict, Forbidden, NotFound, Refused, build_context, local_today
from workflows.states import LIVE_STATES, ExitReason, Role, State
from workflows.transitions import TRANSITIONS

EDITABLE_STATES = frozenset({State.draft, State.needs_supplement})
_LOCK_NAMESPACE = 7_426_002  # pg advisory lock: one draft creation per organisation at a time


def form_hash(form: object) -> str:
    """The hash a client sends back to prove it saw the stored form."""
    encoded = json.dumps(form, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def provider_grant(actor: Actor) -> Grant:
    """The actor's provider membership, or 403."""
    for grant in actor.grants:
        if grant.role == Role.provider and grant.organisation_id is not None:
            return grant
    raise Forbidden("仅机构（个人）账号可以办理入库申请")


async def own_listing(listing_id: int, actor: Actor, *, lock: bool = False) -> dict[str, Any]:
    """A listing of the actor's organisation (404 for anything else), optionally row-locked."""
    organisation_id = provider_grant(actor).organisation_id
    query = Listing.select(
        *Listing._meta.columns,
        Listing.district.code.as_alias("district_code"),
        Listing.district.name.as_alias("district_name"),
    ).where((Listing.id == listing_id) & (Listing.organisation == organisation_id))
    if lock and isinstance(Listing._meta.db, PostgresEngine):
        query = query.lock_rows(of=(Listing,))
    row = await query.output(load_json=True).first()
    if row is None:
        raise NotFound("申请记录不存在")
    return row


def organisation_form(organisation: Mapping[str, Any]) -> dict[str, Any]:
    """A new form prefilled with what the registry already knows about the provider."""
    facts: dict[str, Any] = {"name": organisation["name"], "kind": organisation["kind"]}
    for key in (
        "uscc",
        "resident_id",
        "legal_representative",
        "contact_name",
        "contact_phone",
        "contact_email",
        "address",
        "description",
    ):
        if organisation.get(key):
            facts[key] = organisation[key]
    if organisation.get("founded_on"):
        facts["founded_on"] = organisation["founded_on"].isoformat()
    return {"organisation": facts}


def _problems(form: object) -> list[dict[str, str]]:
    # Partial: a draft may omit anything; what is present must have the right shape.
    return [e.as_dict() for e in validate(APPLICATION, form, partial=True)]


def _district_refused(code: str, message: str) -> Refused:
    return Refused(message, [Refusal("district", code, message)])


def _ban_refused(district_name: str, until: date, exit_reason: str | None) -> Refused:
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
    district = await District.select().where(District.code == district_code).first()
    if district is None:
        raise _district_refused("unknown_district", f"未知的区代码：{district_code}")
    today = local_today()
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
            raise _district_refused(
                "duplicate_listing",
                f"您在{district['name']}已有进行中的申请或入库记录"
                f"（编号 {live[0]['id']}，{State(live[0]['state']).label}），不能重复申请",
            )
        bans = [r for r in earlier if r["banned_until"] is not None and r["banned_until"] >= today]
        if bans:
            ban = max(bans, key=lambda r: r["banned_until"])
            raise _ban_refused(district["name"], ban["banned_until"], ban["exit_reason"])
        if form is None:
            organisation = (
                await Organisation.select().where(Organisation.id == organisation_id).first()
            )
            form = organisation_form(organisation)
        rows = await Listing.insert(
            Listing(organisation=organisation_id, district=district["id"], form=form)
        ).returning(Listing.id)
        listing_id = int(rows[0]["id"])
        await audit.record(
            actor,
            action="application.created",
            role=Role.provider.value,
            listing=listing_id,
            to_state=State.draft.value,
            payload={"listing": listing_id, "district": district_code},
        )
    return await own_listing(listing_id, actor)


@dataclass(frozen=True)
class Saved:
    """The outcome of a save: the stored form's hash, what changed, what is still wrong."""

    form_hash: str
    changed: list[str]
    problems: list[dict[str, str]]


async def save_form(
    listing_id: int, actor: Actor, form: dict[str, Any], version: int, seen_hash: str | None
) -> Saved:
    """Store a (possibly half-filled) form; 409 if the listing or its form moved meanwhile."""
    async with write_transaction(Listing._meta.db):
        row = await own_listing(listing_id, actor, lock=True)
        state = State(row["state"])
        if state not in EDITABLE_STATES:
            raise Refused(
                "当前状态不能修改申请表",
                [Refusal("state", "not_editable", f"申请当前为「{state.label}」，不能修改申请表")],
            )
        if version != row["version"] or (seen_hash and seen_hash != form_hash(row["form"])):
            raise Conflict("申请表已被他人修改或状态已变化，请刷新页面后再保存")
        old = row["form"] if isinstance(row["form"], dict) else {}
        changed = sorted(k for k in set(old) | set(form) if old.get(k) != form.get(k))
        if changed:
            await Listing.update({Listing.form: form}).where(Listing.id == listing_id)
            await audit.record(
                actor,
                action="application.form_saved",
                role=Role.provider.value,
                listing=listing_id,
                # Section names only: the form holds ID numbers and phone numbers.
                payload={"listing": listing_id, "sections": changed},
            )
    return Saved(form_hash(form), changed, _problems(form))


@dataclass(frozen=True)
class CheckResult:
    """Schema problems (full validation) and automatic-check findings of a stored form."""

    problems: list[FieldError]
    findings: list[Finding]


async def check_listing(row: Mapping[str, Any], actor: Actor) -> CheckResult:
    """Validate the stored form fully and run the automatic checks, as a submit would."""
    needs = TRANSITIONS["submit"].needs | TRANSITIONS["resubmit"].needs
    ctx = await build_context(row, actor, provider_grant(actor), facts=needs)
    return CheckResult(validate(APPLICATION, row["form"]), run_checks(ctx))


# --- HTTP ----------------------------------------------------------------------------------


class DraftIn(msgspec.Struct):
    district: str
    form: dict[str, Any] | None = None


class FormIn(msgspec.Struct):
    form: dict[str, Any]
    version: int
    form_hash: str | None = None


class ApplicationOut(msgspec.Struct):
    id: int
    state: str
    state_label: str
    version: int
    district: str
    district_name: str
    organisation_id: int
    form: dict[str, Any]
    form_hash: str
    problems: list[dict[str, str]]


class SavedOut(msgspec.Struct):
    id: int
    state: str
    version: int
    form_hash: str
    changed: list[str]
    problems: list[dict[str, str]]


class InboxOut(msgspec.Struct):
    items: list[InboxItem]


def application_out(row: Mapping[str, Any]) -> ApplicationOut:
    form = row["form"] if isinstance(row["form"], dict) else {}
    return ApplicationOut(
        id=row["id"],
        state=row["state"],
        state_label=State(row["state"]).label,
        version=row["version"],
        district=row["district_code"],
        district_name=row["district_name"],
        organisation_id=row["organisation"],
        form=form,
        form_hash=form_hash(form),
        problems=_problems(form),
    )


_ACTOR = {"actor": Provide(provide_actor)}


@get(
    "/api/v1/listings/{listing_id:int}/form",
    operation_id="getForm",
    dependencies=_ACTOR,
    tags=["applications"],
)
async def get_form(actor: NamedDependency[Actor], listing_id: FromPath[int]) -> ApplicationOut:
    """The stored form with its hash (send it back when saving) and its draft problems."""
    return application_out(await own_listing(listing_id, actor))


@put(
    "/api/v1/listings/{listing_id:int}/form",
    operation_id="saveForm",
    dependencies=_ACTOR,
    tags=["applications"],
)
async def put_form(
    actor: NamedDependency[Actor], listing_id: FromPath[int], data: JSONBody[FormIn]
) -> SavedOut:
    """Save the draft form as sent, even half-filled; 409 when it changed since it was read."""
    saved = await save_form(listing_id, actor, data.form, data.version, data.form_hash)
    row = await own_listing(listing_id, actor)
    return SavedOut(
        row["id"], row["state"], row["version"], saved.form_hash, saved.changed, saved.problems
    )


@get("/api/v1/inbox", operation_id="inbox", dependencies=_ACTOR, tags=["applications"])
async def inbox(actor: NamedDependency[Actor]) -> InboxOut:
    """The provider's messages from the bureau and coming deadlines, newest first."""
    organisation_id = provider_grant(actor).organisation_id
    assert organisation_id is not None
    return InboxOut(await inbox_for(organisation_id, local_today()))


def today() -> date:
    """Today in the registry's time zone."""
    return local_today()


ROUTES: list[Any] = [get_form, put_form, inbox]
