"""Safety incidents (安全事故) over JSON: schools and reviewers report, reviewers resolve."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from registry.oversight import incidents
from registry.web.security import provide_actor
from workflows.actors import Actor

_ACTOR = {"actor": Provide(provide_actor)}


class IncidentIn(msgspec.Struct):
    listing_id: int
    severity: str = ""
    # A string, so that a malformed date is a 422 naming the field, like every other rule.
    occurred_on: str = ""
    description: str = ""


class ResolveIn(msgspec.Struct):
    action: str = ""
    reason: str = ""


class IncidentOut(msgspec.Struct):
    id: int
    listing_id: int
    organisation_name: str
    district_name: str
    listing_state: str
    severity: str
    severity_label: str
    occurred_on: date
    description: str
    school_id: int | None
    school_name: str | None
    reported_by: int | None
    reporter_role: str
    created_at: datetime
    resolution: str
    resolved_by: int | None
    resolved_at: datetime | None


class IncidentList(msgspec.Struct):
    items: list[IncidentOut]
    total: int


def incident_out(row: dict[str, Any]) -> IncidentOut:
    """The API shape of an incident row from registry.oversight.incidents."""
    return IncidentOut(
        id=row["id"],
        listing_id=row["listing"],
        organisation_name=row["organisation_name"],
        district_name=row["district_name"],
        listing_state=row["listing_state"],
        severity=row["severity"],
        severity_label=incidents.severity_label(row["severity"]),
        occurred_on=row["occurred_on"],
        description=row["description"],
        school_id=row["school"],
        school_name=row["school_name"],
        reported_by=row["reported_by"],
        reporter_role=row["reporter_role"],
        created_at=row["created_at"],
        resolution=row["resolution"],
        resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"],
    )


@post(
    "/api/v1/incidents",
    operation_id="reportIncident",
    tags=["incidents"],
    status_code=201,
    dependencies=_ACTOR,
)
async def report_incident(actor: NamedDependency[Actor], data: JSONBody[IncidentIn]) -> IncidentOut:
    """Report an incident (a school engaging the provider, or its district's reviewer).

    A major incident suspends the provider at once; `listing_state` is its state after.
    """
    return incident_out(await incidents.report(actor, msgspec.to_builtins(data)))


@get("/api/v1/incidents", operation_id="listIncidents", tags=["incidents"], dependencies=_ACTOR)
async def list_incidents(
    actor: NamedDependency[Actor],
    resolved: Annotated[bool | None, QueryParameter(description="true: resolved only")] = None,
) -> IncidentList:
    """A school's own reports, a district's incidents, or all (city), newest first."""
    rows = await incidents.visible(actor, None if resolved is None else not resolved)
    return IncidentList([incident_out(r) for r in rows], len(rows))


@get(
    "/api/v1/incidents/{incident_id:int}",
    operation_id="getIncident",
    tags=["incidents"],
    dependencies=_ACTOR,
)
async def get_incident(actor: NamedDependency[Actor], incident_id: FromPath[int]) -> IncidentOut:
    """One incident in the caller's scope; 404 for any other."""
    return incident_out(await incidents.get(actor, incident_id))


@post(
    "/api/v1/incidents/{incident_id:int}/resolve",
    operation_id="resolveIncident",
    tags=["incidents"],
    status_code=200,
    dependencies=_ACTOR,
)
async def resolve_incident(
    actor: NamedDependency[Actor], incident_id: FromPath[int], data: JSONBody[ResolveIn]
) -> IncidentOut:
    """reinstate, revoke (exit for safety_incident, with the district's ban) or close; once."""
    return incident_out(await incidents.resolve(actor, incident_id, data.action, data.reason))


ROUTES: list[Any] = [report_incident, list_incidents, get_incident, resolve_incident]
