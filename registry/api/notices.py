"""Public notices (JSON and the PDF notice list), objections, and the reviewer's decisions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter

from registry.documents.notice import (
    NoticeEntry,
    district_name,
    notice_document,
    notice_filename,
    render_notice_async,
    running_notices,
)
from registry.documents.render import attachment
from registry.notices import objections
from registry.notices.objections import ObjectionError
from registry.web.errors import error_response
from registry.web.limits import OBJECTION_MAX_BODY
from registry.web.security import client_address, provide_actor
from workflows.actors import Actor
from workflows.engine import local_today


class CourseOut(msgspec.Struct):
    name: str
    category: str
    category_label: str


class NoticeOut(msgspec.Struct):
    listing_id: int
    district: str
    district_name: str
    organisation_name: str
    provider_kind: str
    categories: list[str]
    category_labels: list[str]
    courses: list[CourseOut]
    notice_start: date | None
    notice_end: date | None
    objection_url: str


class NoticeList(msgspec.Struct):
    items: list[NoticeOut]
    total: int
    district: str | None


class ObjectionIn(msgspec.Struct):
    name: str = ""
    organisation_name: str = ""
    contact: str = ""
    facts: str = ""


class ObjectionLodged(msgspec.Struct):
    id: int
    listing_id: int
    status: str
    message: str


class ObjectionOut(msgspec.Struct):
    id: int
    listing_id: int
    name: str
    organisation_name: str
    contact: str
    facts: str
    submitted_at: datetime
    status: str
    reply: str
    decided_by: int | None
    decided_at: datetime | None


class ObjectionsOut(msgspec.Struct):
    listing_id: int
    items: list[ObjectionOut]


class UpholdIn(msgspec.Struct):
    message: str = ""


class DismissIn(msgspec.Struct):
    reply: str = ""


class DecisionOut(msgspec.Struct):
    objection: ObjectionOut
    listing_state: str | None = None


def notice_out(entry: NoticeEntry) -> NoticeOut:
    """The public JSON of one notice."""
    return NoticeOut(
        listing_id=entry.listing_id,
        district=entry.district_code,
        district_name=entry.district_name,
        organisation_name=entry.organisation_name,
        provider_kind=entry.provider_kind,
        categories=list(entry.categories),
        category_labels=entry.category_labels,
        courses=[CourseOut(c.name, c.category, c.category_label) for c in entry.courses],
        notice_start=entry.notice_start,
        notice_end=entry.notice_end,
        objection_url=f"/api/v1/notices/{entry.listing_id}/objections",
    )


def _objection_out(row: dict[str, Any]) -> ObjectionOut:
    return ObjectionOut(
        id=row["id"],
        listing_id=row["listing"],
        name=row["name"],
        organisation_name=row["organisation_name"],
        contact=row["contact"],
        facts=row["facts"],
        submitted_at=row["submitted_at"],
        status=row["status"],
        reply=row["reply"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
    )


def refusal(error: ObjectionError) -> Response[Any]:
    """An objection refusal in the API's error shape (429 says when to come back)."""
    response = error_response(
        error.status_code, error.detail, [p.as_dict() for p in error.problems]
    )
    if error.status_code == 429:
        response.headers["Retry-After"] = "3600"
    return response


def _unknown_district(code: str) -> Response[Any]:
    return error_response(
        400,
        "请求参数不正确",
        [{"field": "district", "code": "unknown", "message": f"未知的区代码：{code}"}],
    )


@get("/api/v1/notices", operation_id="listNotices", tags=["notices"])
async def list_notices(
    district: Annotated[str | None, QueryParameter(description="6-digit district code")] = None,
) -> Any:
    """Every provider in public notice now (of one district), with its courses and dates."""
    if district is not None and await district_name(district) is None:
        return _unknown_district(district)
    entries = await running_notices(district)
    return NoticeList([notice_out(e) for e in entries], len(entries), district)


@get("/api/v1/notices.pdf", operation_id="getNoticePdf", tags=["notices"])
async def notice_pdf(
    request: Request[Any, Any, Any],
    district: Annotated[str, QueryParameter(description="6-digit district code")],
) -> Response[Any]:
    """The district's notice list (公示名单) as an official PDF document, dated today."""
    document = await notice_document(district, local_today(), str(request.base_url))
    if document is None:
        return _unknown_district(district)
    pdf = await render_notice_async(document)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": attachment(*notice_filename(document))},
    )


@post(
    "/api/v1/notices/{listing_id:int}/objections",
    operation_id="lodgeObjection",
    tags=["notices"],
    status_code=201,
    # Public and cookie-less: there is no session for a forged request to ride on.
    exclude_from_csrf=True,
    request_max_body_size=OBJECTION_MAX_BODY,
)
async def lodge_objection(
    request: Request[Any, Any, Any], listing_id: FromPath[int], data: JSONBody[ObjectionIn]
) -> Any:
    """Lodge an objection under a real name (or an organisation's) with contact and facts."""
    try:
        objection_id = await objections.lodge(
            listing_id,
            objections.ObjectionIn(data.name, data.organisation_name, data.contact, data.facts),
            client_address(request),
        )
    except ObjectionError as error:
        return refusal(error)
    return ObjectionLodged(objection_id, listing_id, "pending", "异议已受理，区教育局将核查处理")


@get(
    "/api/v1/listings/{listing_id:int}/objections",
    operation_id="listObjections",
    tags=["notices"],
    dependencies={"actor": Provide(provide_actor)},
)
async def list_objections(
    actor: NamedDependency[Actor], listing_id: FromPath[int]
) -> ObjectionsOut:
    """The objections to a listing, for its district's staff (404 for everyone else)."""
    if not await objections.may_see_objections(actor, listing_id):
        raise NotFoundException()
    rows = await objections.objections_for(listing_id)
    return ObjectionsOut(listing_id, [_objection_out(r) for r in rows])


async def _decided(objection_id: int) -> ObjectionOut:
    row = await objections.objection(objection_id)
    assert row is not None
    return _objection_out(row)


@post(
    "/api/v1/objections/{objection_id:int}/uphold",
    operation_id="upholdObjection",
    tags=["notices"],
    status_code=200,
    dependencies={"actor": Provide(provide_actor)},
)
async def uphold_objection(
    actor: NamedDependency[Actor], objection_id: FromPath[int], data: JSONBody[UpholdIn]
) -> Any:
    """The objection holds: the application is rejected with its facts as the reason."""
    try:
        outcome = await objections.uphold(objection_id, actor, data.message)
    except ObjectionError as error:
        return refusal(error)
    return DecisionOut(await _decided(objection_id), outcome.state.value)


@post(
    "/api/v1/objections/{objection_id:int}/dismiss",
    operation_id="dismissObjection",
    tags=["notices"],
    status_code=200,
    dependencies={"actor": Provide(provide_actor)},
)
async def dismiss_objection(
    actor: NamedDependency[Actor], objection_id: FromPath[int], data: JSONBody[DismissIn]
) -> Any:
    """The objection does not hold: closed with a reply (required)."""
    try:
        await objections.dismiss(objection_id, actor, data.reply)
    except ObjectionError as error:
        return refusal(error)
    return DecisionOut(await _decided(objection_id))


ROUTES: list[Any] = [
    list_notices,
    notice_pdf,
    lodge_objection,
    list_objections,
    uphold_objection,
    dismiss_objection,
]
