"""Pages for complaints and safety incidents.

Public: the complaint form (plain HTML, no JavaScript) and its thank-you page. Bureau: the
complaint list and handling page, the incident list and resolution page. School: the incident
report form (from an engagement) and the school's own reports. Every refusal re-renders the
form with the message next to its field, keeping what was typed.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from registry.api.complaints import COMPLAINT_MAX_BODY
from registry.oversight import complaints, incidents
from registry.oversight.complaints import RateLimited
from registry.pages.common import first_by_field, maybe_actor, page_actor, redirect, render
from registry.schools import engagements
from registry.tables import ComplaintStatus, Severity
from registry.web.security import client_address
from workflows.actors import Actor
from workflows.engine import Refused, local_today

_ACTOR = {"actor": Provide(page_actor)}
COMPLAINT_DONE = {"investigating": "已转入调查", "decided": "处理结果已保存"}
INCIDENT_SHOW = {"open": "待处理", "resolved": "已处理", "all": "全部"}


def _text(form: Any, name: str) -> str:
    return str(form.get(name) or "")


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
    listing = _text(form, "listing")
    listing_id = int(listing) if listing.isdigit() else 0
    values = {"content": _text(form, "content"), "contact": _text(form, "contact")}
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
    actor: NamedDependency[Actor], status: Annotated[str, QueryParameter()] = ""
) -> Template:
    """Complaints about the district's providers (all for the city), filtered by status."""
    status = status if status in ComplaintStatus.__members__ else ""
    rows = await complaints.visible(actor, status or None)
    return render(
        "complaints/bureau_list.html",
        actor,
        rows=rows,
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
        "outcome": _text(form, "outcome"),
        "reply": _text(form, "reply"),
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


# School: incident reports --------------------------------------------------------------------


async def _incident_form(
    actor: Actor, engagement_id: int, status_code: int = 200, **context: Any
) -> Template:
    engagement = await engagements.own_engagement(actor, engagement_id)
    return _incident_template(
        actor,
        status_code,
        subject=engagement,
        form_action="/school/incidents/new",
        hidden_name="engagement",
        hidden_value=engagement["id"],
        back_href="/school",
        back_label="返回我的合作",
        **context,
    )


def _incident_values(form: Any) -> dict[str, str]:
    """What an incident form posted (kept to show again on a refusal)."""
    return {name: _text(form, name) for name in ("severity", "occurred_on", "description")}


def _incident_template(actor: Actor, status_code: int, **context: Any) -> Template:
    return render(
        "incidents/new.html",
        actor,
        status_code=status_code,
        severities=incidents.SEVERITY_LABELS,
        today=local_today(),
        description_max=incidents.DESCRIPTION_MAX,
        **{"values": {}, "errors": {}, **context},
    )


async def _bureau_incident_form(
    actor: Actor, listing_id: int, status_code: int = 200, **context: Any
) -> Template:
    subject = await incidents.reportable_listing(actor, listing_id)
    return _incident_template(
        actor,
        status_code,
        subject=subject,
        form_action="/bureau/incidents/new",
        hidden_name="listing",
        hidden_value=listing_id,
        back_href="/bureau/incidents",
        back_label="返回安全事故",
        **context,
    )


@get("/school/incidents/new", include_in_schema=False, dependencies=_ACTOR)
async def new_incident(
    actor: NamedDependency[Actor], engagement: Annotated[int, QueryParameter()]
) -> Template:
    """The incident report form for one engagement of my school (404 for any other)."""
    return await _incident_form(actor, engagement)


@post("/school/incidents/new", include_in_schema=False, dependencies=_ACTOR)
async def report_incident(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor]
) -> Template | Redirect:
    """Report the incident; a major one suspends the provider at once."""
    form = await request.form()
    engagement = _text(form, "engagement")
    engagement_id = int(engagement) if engagement.isdigit() else 0
    current = await engagements.own_engagement(actor, engagement_id)
    values = _incident_values(form)
    try:
        row = await incidents.report(actor, {"listing_id": current["listing"], **values})
    except Refused as error:
        return await _incident_form(
            actor,
            engagement_id,
            status_code=422,
            values=values,
            errors=first_by_field(error.errors),
        )
    return redirect(f"/school/incidents?{urlencode({'reported': row['id']})}")


@get("/school/incidents", include_in_schema=False, dependencies=_ACTOR)
async def school_incidents(
    actor: NamedDependency[Actor], reported: Annotated[int, QueryParameter()] = 0
) -> Template:
    """My school's incident reports, with the provider's state after each."""
    engagements.school_grant(actor)
    rows = await incidents.visible(actor)
    flash = None
    if reported:
        row = next((r for r in rows if r["id"] == reported), None)
        if row is not None:
            flash = f"事故报告已提交，编号 {reported}。"
            if row["severity"] == Severity.major and row["listing_state"] == "suspended":
                flash += f"{row['organisation_name']}已暂停列入白名单，请暂停安排该机构进校服务。"
    return render(
        "incidents/school_list.html",
        actor,
        rows=rows,
        severities=incidents.SEVERITY_LABELS,
        flash=flash,
    )


# Bureau: incidents ---------------------------------------------------------------------------


@get("/bureau/incidents/new", include_in_schema=False, dependencies=_ACTOR)
async def bureau_new_incident(
    actor: NamedDependency[Actor], listing: Annotated[int, QueryParameter()]
) -> Template:
    """A reviewer's incident report on a provider of the district (404 for any other)."""
    return await _bureau_incident_form(actor, listing)


@post("/bureau/incidents/new", include_in_schema=False, dependencies=_ACTOR)
async def bureau_report_incident(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor]
) -> Template | Redirect:
    """Report the incident found by the bureau; a major one suspends the provider at once."""
    form = await request.form()
    listing = _text(form, "listing")
    listing_id = int(listing) if listing.isdigit() else 0
    values = _incident_values(form)
    try:
        row = await incidents.report(actor, {"listing_id": listing_id, **values})
    except Refused as error:
        return await _bureau_incident_form(
            actor, listing_id, status_code=422, values=values, errors=first_by_field(error.errors)
        )
    return redirect(f"/bureau/incidents/{row['id']}")


@get("/bureau/incidents", include_in_schema=False, dependencies=_ACTOR)
async def bureau_incidents(
    actor: NamedDependency[Actor], show: Annotated[str, QueryParameter()] = "open"
) -> Template:
    """The district's incidents (all for the city): open ones first by default."""
    show = show if show in INCIDENT_SHOW else "open"
    open_only = {"open": True, "resolved": False}.get(show)
    rows = await incidents.visible(actor, open_only)
    return render(
        "incidents/bureau_list.html",
        actor,
        rows=rows,
        show=show,
        tabs=INCIDENT_SHOW,
        severities=incidents.SEVERITY_LABELS,
    )


async def _resolve_page(
    actor: Actor, incident_id: int, status_code: int = 200, **context: Any
) -> Template:
    row = await incidents.get(actor, incident_id)
    return render(
        "incidents/bureau_resolve.html",
        actor,
        status_code=status_code,
        i=row,
        severities=incidents.SEVERITY_LABELS,
        actions=incidents.ACTION_LABELS,
        can_resolve=incidents.may_resolve(actor, row) and row["resolved_at"] is None,
        **{"values": {}, "errors": {}, **context},
    )


@get("/bureau/incidents/{incident_id:int}", include_in_schema=False, dependencies=_ACTOR)
async def bureau_incident(
    actor: NamedDependency[Actor],
    incident_id: FromPath[int],
    done: Annotated[int, QueryParameter()] = 0,
) -> Template:
    """One incident with its resolution form (404 outside the district)."""
    return await _resolve_page(actor, incident_id, flash="处理结果已保存" if done else None)


@post("/bureau/incidents/{incident_id:int}/resolve", include_in_schema=False, dependencies=_ACTOR)
async def bureau_resolve(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], incident_id: FromPath[int]
) -> Template | Redirect:
    """Reinstate, revoke or close; on refusal the page again with the message."""
    form = await request.form()
    values = {"action": _text(form, "action"), "reason": _text(form, "reason")}
    try:
        await incidents.resolve(actor, incident_id, values["action"], values["reason"])
    except Refused as error:
        errors = first_by_field(error.errors)
        unplaced = [m for f, m in errors.items() if f not in values]
        return await _resolve_page(
            actor,
            incident_id,
            status_code=422,
            values=values,
            errors=errors,
            flash="；".join(unplaced) or (None if errors else error.detail),
            flash_kind="error",
        )
    return redirect(f"/bureau/incidents/{incident_id}?done=1")


ROUTES: list[Any] = [
    new_complaint,
    lodge_complaint,
    complaint_received,
    bureau_complaints,
    bureau_complaint,
    bureau_investigate,
    bureau_decide,
    new_incident,
    report_incident,
    school_incidents,
    bureau_incidents,
    bureau_new_incident,
    bureau_report_incident,
    bureau_incident,
    bureau_resolve,
]
