"""Complaints (投诉) over JSON: the public lodges them; the district's reviewers handle them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from registry.oversight import complaints
from registry.oversight.complaints import RateLimited
from registry.tables import ComplaintStatus
from registry.web.errors import error_response
from registry.web.limits import COMPLAINT_MAX_BODY
from registry.web.security import client_address, provide_actor
from workflows.actors import Actor

_ACTOR = {"actor": Provide(provide_actor)}


class ComplaintIn(msgspec.Struct):
    listing_id: int
    content: str = ""
    contact: str = ""


class ComplaintLodged(msgspec.Struct):
    id: int
    status: str
    submitted_at: datetime


class ComplaintOut(msgspec.Struct):
    id: int
    listing_id: int
    organisation_name: str
    district: str
    district_name: str
    content: str
    contact: str
    submitted_at: datetime
    status: str
    status_label: str
    fee_violation: bool
    reply: str
    handled_by: int | None
    decided_at: datetime | None


class ComplaintList(msgspec.Struct):
    items: list[ComplaintOut]
    total: int


class DecisionIn(msgspec.Struct):
    outcome: str = ""
    reply: str = ""
    fee_violation: bool = False


def complaint_out(row: dict[str, Any]) -> ComplaintOut:
    """The staff's view of a complaint (with the sender's contact, to reply)."""
    return ComplaintOut(
        id=row["id"],
        listing_id=row["listing"],
        organisation_name=row["organisation_name"],
        district=row["district_code"],
        district_name=row["district_name"],
        content=row["content"],
        contact=row["contact"],
        submitted_at=row["submitted_at"],
        status=row["status"],
        status_label=complaints.STATUS_LABELS[ComplaintStatus(row["status"])],
        fee_violation=row["fee_violation"],
        reply=row["reply"],
        handled_by=row["handled_by"],
        decided_at=row["decided_at"],
    )


def too_many(error: RateLimited) -> Response[Any]:
    """429 in the API's error shape, saying when to come back."""
    response = error_response(429, error.detail)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


@post(
    "/api/v1/complaints",
    operation_id="lodgeComplaint",
    tags=["complaints"],
    status_code=201,
    # Public and cookie-less: there is no session for a forged request to ride on.
    exclude_from_csrf=True,
    request_max_body_size=COMPLAINT_MAX_BODY,
)
async def lodge_complaint(request: Request[Any, Any, Any], data: JSONBody[ComplaintIn]) -> Any:
    """Complain about a whitelisted provider (no login); 429 when an address sends too many."""
    try:
        lodged = await complaints.lodge(
            data.listing_id, data.content, data.contact, client_address(request)
        )
    except RateLimited as error:
        return too_many(error)
    return ComplaintLodged(lodged["id"], lodged["status"], lodged["submitted_at"])


@get("/api/v1/complaints", operation_id="listComplaints", tags=["complaints"], dependencies=_ACTOR)
async def list_complaints(
    actor: NamedDependency[Actor],
    status: Annotated[str | None, QueryParameter(description="received, investigating, …")] = None,
    listing: Annotated[int | None, QueryParameter(description="listing id")] = None,
) -> ComplaintList:
    """Complaints about the reviewer's district (all for the city), newest first."""
    rows = await complaints.visible(actor, status or None, listing)
    return ComplaintList([complaint_out(r) for r in rows], len(rows))


@get(
    "/api/v1/complaints/{complaint_id:int}",
    operation_id="getComplaint",
    tags=["complaints"],
    dependencies=_ACTOR,
)
async def get_complaint(actor: NamedDependency[Actor], complaint_id: FromPath[int]) -> ComplaintOut:
    """One complaint; 404 outside the caller's district."""
    return complaint_out(await complaints.get(actor, complaint_id))


@post(
    "/api/v1/complaints/{complaint_id:int}/investigate",
    operation_id="investigateComplaint",
    tags=["complaints"],
    status_code=200,
    dependencies=_ACTOR,
)
async def investigate_complaint(
    actor: NamedDependency[Actor], complaint_id: FromPath[int]
) -> ComplaintOut:
    """A received complaint is taken up for investigation."""
    await complaints.investigate(actor, complaint_id)
    return complaint_out(await complaints.get(actor, complaint_id))


@post(
    "/api/v1/complaints/{complaint_id:int}/decision",
    operation_id="decideComplaint",
    tags=["complaints"],
    status_code=200,
    dependencies=_ACTOR,
)
async def decide_complaint(
    actor: NamedDependency[Actor], complaint_id: FromPath[int], data: JSONBody[DecisionIn]
) -> ComplaintOut:
    """Uphold or dismiss with a reply (required); a decided complaint is not decided again."""
    await complaints.decide(actor, complaint_id, data.outcome, data.reply, data.fee_violation)
    return complaint_out(await complaints.get(actor, complaint_id))


ROUTES: list[Any] = [
    lodge_complaint,
    list_complaints,
    get_complaint,
    investigate_complaint,
    decide_complaint,
]
