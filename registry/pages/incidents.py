"""Pages for safety incidents (安全事故) reported by a school or found by the bureau.

School: the incident report form (from an engagement) and the school's own reports. Bureau:
the incident list, a reviewer's report on a provider, and the resolution page. Every refusal
re-renders the form with the message next to its field, keeping what was typed.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from registry.oversight import incidents
from registry.pages.common import first_by_field, form_text, page_actor, redirect, render
from registry.pages.paging import pager
from registry.paging import page_number
from registry.schools import engagements
from registry.tables import Severity
from workflows.actors import Actor
from workflows.engine import Refused, local_today

_ACTOR = {"actor": Provide(page_actor)}
INCIDENT_SHOW = {"open": "待处理", "resolved": "已处理", "all": "全部"}


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
    return {name: form_text(form, name) for name in ("severity", "occurred_on", "description")}


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
    engagement = form_text(form, "engagement")
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
    actor: NamedDependency[Actor],
    reported: Annotated[int, QueryParameter()] = 0,
    page: Annotated[str, QueryParameter()] = "",
) -> Template:
    """My school's incident reports, with the provider's state after each."""
    engagements.school_grant(actor)
    found = await incidents.visible_page(actor, None, page_number(page))
    flash = None
    if reported:
        row = next((r for r in found.rows if r["id"] == reported), None)
        if row is not None:
            flash = f"事故报告已提交，编号 {reported}。"
            if row["severity"] == Severity.major and row["listing_state"] == "suspended":
                flash += f"{row['organisation_name']}已暂停列入白名单，请暂停安排该机构进校服务。"
    return render(
        "incidents/school_list.html",
        actor,
        rows=found.rows,
        pager=pager(found, "/school/incidents"),
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
    listing = form_text(form, "listing")
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
    actor: NamedDependency[Actor],
    show: Annotated[str, QueryParameter()] = "open",
    page: Annotated[str, QueryParameter()] = "",
) -> Template:
    """The district's incidents (all for the city): open ones first by default."""
    show = show if show in INCIDENT_SHOW else "open"
    open_only = {"open": True, "resolved": False}.get(show)
    found = await incidents.visible_page(actor, open_only, page_number(page))
    return render(
        "incidents/bureau_list.html",
        actor,
        rows=found.rows,
        pager=pager(found, "/bureau/incidents", {"show": show}),
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
    values = {"action": form_text(form, "action"), "reason": form_text(form, "reason")}
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
    new_incident,
    report_incident,
    school_incidents,
    bureau_incidents,
    bureau_new_incident,
    bureau_report_incident,
    bureau_incident,
    bureau_resolve,
]
