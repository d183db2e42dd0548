"""Pages for complaints (投诉); safety incidents are in registry.pages.incidents.

Public: the complaint form (plain HTML, no JavaScript) and its thank-you page. Bureau: the
complaint list and handling page. Every refusal re-renders the form with the message next to
its field, keeping what was typed.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from registry.oversight import complaints
from registry.oversight.complaints import RateLimited
from registry.pages.common import (
    first_by_field,
    form_text,
    maybe_actor,
    page_actor,
    redirect,
    render,
)
from registry.pages.paging import pager
from registry.paging import page_number
from registry.tables import ComplaintStatus
from registry.web.limits import COMPLAINT_MAX_BODY
from registry.web.security import client_address
from workflows.actors import Actor
from workflows.engine import Refused

_ACTOR = {"actor": Provide(page_actor)}
COMPLAINT_DONE = {"investigating": "已转入调查", "decided": "处理结果已保存"}


# Public complaint form -----------------------------------------------------------------------


async def _complaint_form(
    request: Request[Any, Any, Any],
    listing_id: int,
    status_code: int = 200,
    **context: Any,
) -> Template:
    listing = await complaints.public_listing(listing_id)
    return render(
        "complaints/new.html",
        await maybe_actor(request),
        status_code=status_code,
        listing=listing,
        content_min=complaints.CONTENT_MIN,
        content_max=complaints.CONTENT_MAX,
        contact_max=complaints.CONTACT_MAX,
        **{"values": {}, "errors": {}, **context},
    )


@get("/complaints/new", include_in_schema=False)
async def new_complaint(
    request: Request[Any, Any, Any], listing: Annotated[int, QueryParameter()]
) -> Template:
    """The complaint form for one whitelisted provider (404 for any other)."""
    return await _complaint_form(request, listing)


@post("/complaints/new", include_in_schema=False, request_max_body_size=COMPLAINT_MAX_BODY)
async def lodge_complaint(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Lodge the complaint; on refusal the form again with the message next to its field."""
    form = await request.form()
    listing = form_text(form, "listing")
    listing_id = int(listing) if listing.isdigit() else 0
    values = {"content": form_text(form, "content"), "contact": form_text(form, "contact")}
    try:
        lodged = await complaints.lodge(
            listing_id, values["content"], values["contact"], client_address(request)
        )
    except RateLimited as error:
        page = await _complaint_form(
            request, listing_id, status_code=429, values=values, form_error=error.detail
        )
        page.headers["Retry-After"] = str(error.retry_after)
        return page
    except Refused as error:
        return await _complaint_form(
            request, listing_id, status_code=422, values=values, errors=first_by_field(error.errors)
        )
    return redirect(f"/complaints/{lodged['id']}/received")


@get("/complaints/{complaint_id:int}/received", include_in_schema=False)
async def complaint_received(
    request: Request[Any, Any, Any], complaint_id: FromPath[int]
) -> Template:
    """The thank-you page with the complaint's number (nothing else about it is shown)."""
    return render("complaints/received.html", await maybe_actor(request), number=complaint_id)


# Bureau: complaints --------------------------------------------------------------------------


@get("/bureau/complaints", include_in_schema=False, dependencies=_ACTOR)
async def bureau_complaints(
    actor: NamedDependency[Actor],
    status: Annotated[str, QueryParameter()] = "",
    page: Annotated[str, QueryParameter()] = "",
) -> Template:
    """Complaints about the district's providers (all for the city), filtered by status."""
    status = status if status in ComplaintStatus.__members__ else ""
    found = await complaints.visible_page(actor, status or None, page_number(page))
    return render(
        "complaints/bureau_list.html",
        actor,
        rows=found.rows,
        pager=pager(found, "/bureau/complaints", {"status": status}),
        status=status,
        labels={s.value: label for s, label in complaints.STATUS_LABELS.items()},
    )


async def _handle_page(
    actor: Actor, complaint_id: int, status_code: int = 200, **context: Any
) -> Template:
    row = await complaints.get(actor, complaint_id)
    return render(
        "complaints/bureau_handle.html",
        actor,
        status_code=status_code,
        c=row,
        can_handle=complaints.may_handle(actor, row) and row["status"] in complaints.OPEN,
        # The district's reviewer may see the sender's full contact, with a reason (audited).
        can_reveal=complaints.may_handle(actor, row) and bool(row["contact"]),
        labels={s.value: label for s, label in complaints.STATUS_LABELS.items()},
        reply_max=complaints.REPLY_MAX,
        **{"values": {}, "errors": {}, **context},
    )


@get("/bureau/complaints/{complaint_id:int}", include_in_schema=False, dependencies=_ACTOR)
async def bureau_complaint(
    actor: NamedDependency[Actor],
    complaint_id: FromPath[int],
    done: Annotated[str, QueryParameter()] = "",
) -> Template:
    """One complaint with its handling forms (404 outside the district)."""
    return await _handle_page(actor, complaint_id, flash=COMPLAINT_DONE.get(done))


@post(
    "/bureau/complaints/{complaint_id:int}/investigate",
    include_in_schema=False,
    dependencies=_ACTOR,
)
async def bureau_investigate(
    actor: NamedDependency[Actor], complaint_id: FromPath[int]
) -> Template | Redirect:
    """Take the complaint up for investigation."""
    try:
        await complaints.investigate(actor, complaint_id)
    except Refused as error:
        return await _handle_page(
            actor, complaint_id, status_code=422, flash=error.detail, flash_kind="error"
        )
    return redirect(f"/bureau/complaints/{complaint_id}?done=investigating")


@post(
    "/bureau/complaints/{complaint_id:int}/decision", include_in_schema=False, dependencies=_ACTOR
)
async def bureau_decide(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], complaint_id: FromPath[int]
) -> Template | Redirect:
    """Uphold or dismiss with a reply; on refusal the page again with what was typed."""
    form = await request.form()
    values = {
        "outcome": form_text(form, "outcome"),
        "reply": form_text(form, "reply"),
        "fee_violation": form.get("fee_violation") == "yes",
    }
    try:
        await complaints.decide(
            actor, complaint_id, values["outcome"], values["reply"], values["fee_violation"]
        )
    except Refused as error:
        errors = first_by_field(error.errors)
        return await _handle_page(
            actor,
            complaint_id,
            status_code=422,
            values=values,
            errors=errors,
            flash=errors.get("status"),
            flash_kind="error",
        )
    return redirect(f"/bureau/complaints/{complaint_id}?done=decided")


@post(
    "/bureau/complaints/{complaint_id:int}/contact/reveal",
    include_in_schema=False,
    dependencies=_ACTOR,
    cache_control=CacheControlHeader(no_store=True),
)
async def bureau_reveal_contact(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], complaint_id: FromPath[int]
) -> Template:
    """The page again with the sender's full contact where its mask was (audited, with a reason)."""
    reason = form_text(await request.form(), "reason")
    try:
        contact = await complaints.reveal_contact(actor, complaint_id, reason)
    except Refused as error:
        errors = first_by_field(error.errors)
        return await _handle_page(
            actor,
            complaint_id,
            status_code=422,
            reveal_values={"reason": reason},
            reveal_errors=errors,
            flash=errors.get("contact"),
            flash_kind="error",
        )
    return await _handle_page(
        actor,
        complaint_id,
        revealed_contact=contact,
        flash="已显示完整联系方式，本次查看已记入办理记录",
    )


ROUTES: list[Any] = [
    new_complaint,
    lodge_complaint,
    complaint_received,
    bureau_complaints,
    bureau_complaint,
    bureau_investigate,
    bureau_decide,
    bureau_reveal_contact,
]
