"""Listings in the caller's scope, and the uniform workflow endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter
from piccolo.query.methods.select import Select

from registry.access.masking import mask_form
from registry.access.personal_data import open_form
from registry.access.reveal import reveal
from registry.access.scope import RecordKind, clause_of, visible
from registry.api.applications import ApplicationOut, DraftIn, application_out
from registry.applications.drafts import create_draft
from registry.prepared import Slot, kept
from registry.tables import Listing
from registry.web.errors import error_response
from registry.web.security import provide_actor
from workflows import engine
from workflows.actors import Actor, Grant
from workflows.inputs import transition_input
from workflows.states import Role, State, exit_reason_label

# Roles that may read the application form; its ID and phone numbers are masked for every one
# of them (a full number: POST …/personal-data/reveal, or the provider's own draft's /form).
FORM_READERS = frozenset({Role.provider, Role.reviewer, Role.approver, Role.city})


class OrganisationRef(msgspec.Struct):
    id: int
    name: str
    kind: str


class ListingOut(msgspec.Struct):
    id: int
    state: str
    state_label: str
    version: int
    district: str
    district_name: str
    organisation: OrganisationRef
    created_at: datetime | None
    submitted_at: datetime | None
    decided_at: datetime | None
    supplement_due: date | None
    appeal_due: date | None
    notice_start: date | None
    notice_end: date | None
    listed_at: datetime | None
    valid_until: date | None
    rectification_due: date | None
    exited_at: datetime | None
    exit_reason: str | None
    exit_reason_label: str | None
    banned_until: date | None
    provider_message: str
    form: dict[str, Any] | None = None


class ListingPage(msgspec.Struct):
    items: list[ListingOut]
    total: int
    page: int
    page_size: int


class TransitionIn(msgspec.Struct):
    action: str
    version: int
    reason: str = ""
    message: str = ""
    exit_reason: str | None = None
    due: str | None = None  # request_supplement: a deadline other than the policy's default
    # request_supplement: what the provider must add or correct, one item each (the page's list)
    supplement_items: list[str] = []


class RevealIn(msgspec.Struct):
    field: str = ""
    reason: str = ""


class RevealedOut(msgspec.Struct):
    listing_id: int
    field: str
    value: str


class ActionOut(msgspec.Struct):
    action: str
    label: str
    target: str
    target_label: str
    reason_required: bool
    available: bool
    problems: list[dict[str, str]]


class ActionsOut(msgspec.Struct):
    listing_id: int
    state: str
    version: int
    actions: list[ActionOut]


COLUMNS = (
    *Listing._meta.columns,
    Listing.district.code.as_alias("district_code"),
    Listing.district.name.as_alias("district_name"),
    Listing.organisation.name.as_alias("organisation_name"),
    Listing.organisation.kind.as_alias("organisation_kind"),
)


def _out(row: dict[str, Any], with_form: bool) -> ListingOut:
    reason = row["exit_reason"]
    return ListingOut(
        id=row["id"],
        state=row["state"],
        state_label=State(row["state"]).label,
        version=row["version"],
        district=row["district_code"],
        district_name=row["district_name"],
        organisation=OrganisationRef(
            row["organisation"], row["organisation_name"], row["organisation_kind"]
        ),
        created_at=row["created_at"],
        submitted_at=row["submitted_at"],
        decided_at=row["decided_at"],
        supplement_due=row["supplement_due"],
        appeal_due=row["appeal_due"],
        notice_start=row["notice_start"],
        notice_end=row["notice_end"],
        listed_at=row["listed_at"],
        valid_until=row["valid_until"],
        rectification_due=row["rectification_due"],
        exited_at=row["exited_at"],
        exit_reason=reason,
        exit_reason_label=exit_reason_label(reason) or None,
        banned_until=row["banned_until"],
        provider_message=row["provider_message"],
        form=mask_form(open_form(row["form"])) if with_form else None,
    )


@kept
def _one_visible(grants: tuple[Grant, ...]) -> Select[Listing] | None:
    """One listing by id (the `listing_id` slot) within what the grants see."""
    scope = clause_of(RecordKind.listing, grants)
    if scope is None:
        return None
    return Listing.select(*COLUMNS).where((Listing.id == Slot("listing_id")) & scope)


async def _visible_row(listing_id: int, actor: Actor) -> dict[str, Any]:
    query = _one_visible(actor.grants)
    row = None if query is None else await query.first(listing_id=listing_id)
    if row is None:
        raise NotFoundException()
    return row


class ListingController(Controller):
    path = "/api/v1/listings"
    tags = ["listings"]
    dependencies = {"actor": Provide(provide_actor)}

    @get("/", operation_id="listListings")
    async def list_listings(
        self,
        actor: NamedDependency[Actor],
        state_filter: Annotated[str | None, QueryParameter(name="state")] = None,
        district: Annotated[str | None, QueryParameter(description="6-digit district code")] = None,
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=200)] = 20,
    ) -> Any:
        """Listings in the caller's scope, newest first."""
        if state_filter is not None and state_filter not in State.__members__:
            return error_response(
                400,
                "请求参数不正确",
                [{"field": "state", "code": "enum", "message": f"未知的状态：{state_filter}"}],
            )
        scope = visible(RecordKind.listing, actor)
        if scope is None:
            return ListingPage(items=[], total=0, page=page, page_size=page_size)
        where = scope
        if state_filter is not None:
            where = where & (Listing.state == state_filter)
        if district is not None:
            where = where & (Listing.district.code == district)
        total = await Listing.count().where(where)
        if (page - 1) * page_size >= total:
            # Past the last page (page=2**63 included, beyond the database's integers): no rows.
            return ListingPage(items=[], total=total, page=page, page_size=page_size)
        rows = await (
            Listing.select(*COLUMNS)
            .where(where)
            .order_by(Listing.id, ascending=False)
            .limit(page_size)
            .offset((page - 1) * page_size)
            .output(load_json=True)
        )
        return ListingPage([_out(r, False) for r in rows], total, page, page_size)

    @post("/", operation_id="createDraft", status_code=201)
    async def create_listing(
        self, actor: NamedDependency[Actor], data: JSONBody[DraftIn]
    ) -> ApplicationOut:
        """Create a draft application of the caller's organisation in a district (201)."""
        row = await create_draft(actor, data.district.strip(), data.form)
        return application_out(row)

    @get("/{listing_id:int}", operation_id="getListing")
    async def get_listing(
        self, actor: NamedDependency[Actor], listing_id: FromPath[int]
    ) -> ListingOut:
        """One listing; 404 outside the caller's scope."""
        row = await _visible_row(listing_id, actor)
        return _out(row, with_form=bool(actor.roles & FORM_READERS))

    @get("/{listing_id:int}/actions", operation_id="listActions")
    async def list_actions(
        self, actor: NamedDependency[Actor], listing_id: FromPath[int]
    ) -> ActionsOut:
        """What the caller may do now, from the transition table, with what blocks each."""
        row = await _visible_row(listing_id, actor)
        options = await engine.options(listing_id, actor)
        return ActionsOut(
            listing_id=listing_id,
            state=row["state"],
            version=row["version"],
            actions=[
                ActionOut(
                    action=o.transition.name,
                    label=o.transition.label,
                    target=o.transition.target.value,
                    target_label=o.transition.target.label,
                    reason_required=o.transition.reason_required,
                    available=o.available,
                    problems=[p.as_dict() for p in o.problems],
                )
                for o in options
            ],
        )

    @post(
        "/{listing_id:int}/personal-data/reveal",
        operation_id="revealPersonalData",
        status_code=200,
        cache_control=CacheControlHeader(no_store=True),
    )
    async def reveal_personal_data(
        self, actor: NamedDependency[Actor], listing_id: FromPath[int], data: JSONBody[RevealIn]
    ) -> RevealedOut:
        """One full ID or phone number, for the district's reviewers and approvers; audited."""
        revealed = await reveal(listing_id, actor, data.field, data.reason)
        return RevealedOut(listing_id, revealed.field, revealed.value)

    @post("/{listing_id:int}/transitions", operation_id="fireTransition", status_code=200)
    async def fire_transition(
        self, actor: NamedDependency[Actor], listing_id: FromPath[int], data: JSONBody[TransitionIn]
    ) -> ListingOut:
        """Fire one transition: 403 role, 404 scope, 409 stale version, 422 refused."""
        shaped = transition_input(
            data.action,
            reason=data.reason,
            message=data.message,
            supplement_items=data.supplement_items,
            due=data.due,
            exit_reason=data.exit_reason,
        )
        await engine.fire(
            listing_id,
            data.action,
            actor,
            version=data.version,
            reason=shaped.reason,
            message=shaped.message,
            params=shaped.params,
        )
        row = await _visible_row(listing_id, actor)
        return _out(row, with_form=False)
