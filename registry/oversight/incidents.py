"""Safety incidents (安全事故): reports by schools and reviewers, suspension, resolution.

A major incident suspends the provider at once: the report and the engine's transition
commit together, so there is never a recorded major incident on a still-searchable provider.
Refusals are the engine's exceptions (404 outside scope, 403 wrong role, 422 naming the field).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from registry.access import scope
from registry.access.scope import RecordKind
from registry.db import write_transaction
from registry.paging import PAGE_SIZE, Page, fetch_page
from registry.tables import Engagement, Incident, Listing, Severity
from workflows import audit, engine, timesource
from workflows.actors import Actor, system_actor
from workflows.context import Refusal
from workflows.engine import Forbidden, NotFound, Refused, local_today
from workflows.states import PUBLIC_STATES, ExitReason, Role

DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 2000
REASON_MAX = 2000
SEVERITY_LABELS = {Severity.minor: "一般", Severity.serious: "较大", Severity.major: "重大"}
ACTION_LABELS = {"reinstate": "恢复列入白名单", "revoke": "撤销入库", "close": "结案"}
NOT_FOUND = "机构不存在，或本单位与该机构没有合作"
COLUMNS = (
    *Incident._meta.columns,
    Incident.listing.organisation.name.as_alias("organisation_name"),
    Incident.listing.state.as_alias("listing_state"),
    Incident.listing.district.as_alias("district_id"),
    Incident.listing.district.name.as_alias("district_name"),
    Incident.school.name.as_alias("school_name"),
)


def _refused(field: str, code: str, message: str) -> Refused:
    return Refused(message, [Refusal(field, code, message)])


def severity_label(value: str) -> str:
    """The Chinese word for a severity code."""
    return SEVERITY_LABELS.get(Severity(value), value) if value in Severity.__members__ else value


def _occurred_on(value: object, today: date) -> tuple[date | None, list[Refusal]]:
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value or "").strip())
        except ValueError:
            message = "请填写事故发生日期（格式：YYYY-MM-DD）"
            return None, [Refusal("occurred_on", "format", message)]
    if day > today:
        return None, [Refusal("occurred_on", "future", "事故发生日期不能晚于今天")]
    return day, []


def problems_of(data: Mapping[str, Any], today: date) -> tuple[date | None, list[Refusal]]:
    """The parsed date and everything wrong with a report, each naming its field."""
    problems: list[Refusal] = []
    if data.get("severity") not in Severity.__members__:
        message = "请选择事故等级：一般、较大或重大"
        problems.append(Refusal("severity", "required", message))
    day, found = _occurred_on(data.get("occurred_on"), today)
    problems += found
    description = str(data.get("description") or "").strip()
    if len(description) < DESCRIPTION_MIN:
        message = f"请写明事故经过，至少{DESCRIPTION_MIN}个字（现有{len(description)}个字）"
        problems.append(Refusal("description", "too_short", message))
    elif len(description) > DESCRIPTION_MAX:
        message = f"事故经过不能超过{DESCRIPTION_MAX}个字"
        problems.append(Refusal("description", "too_long", message))
    return day, problems


async def _reporter(actor: Actor, listing_id: int) -> tuple[str, int | None]:
    """(role, school id) under which the actor may report on this listing, or 404."""
    query = Listing.select(Listing.district).where(Listing.id == listing_id)
    if isinstance(Listing._meta.db, PostgresEngine):
        # Take the listing's row lock before the incident row (whose foreign key share-locks
        # the listing) and the audit chain's lock: the engine takes them in that order, and
        # two reports taking them the other way round deadlock.
        query = query.lock_rows()
    listing = await query.first()
    if listing is None:
        raise NotFound(NOT_FOUND)
    for grant in actor.grants:
        if grant.role == Role.school and grant.school_id is not None:
            engaged = await Engagement.exists().where(
                (Engagement.school == grant.school_id) & (Engagement.listing == listing_id)
            )
            if engaged:
                return Role.school.value, grant.school_id
    for grant in actor.grants:
        if grant.role == Role.reviewer and grant.district_id == listing["district"]:
            return Role.reviewer.value, None
    # Says nothing about whether the provider exists for those who have no business with it.
    raise NotFound(NOT_FOUND)


async def report(
    actor: Actor, data: Mapping[str, Any], now: datetime | None = None
) -> dict[str, Any]:
    """Record an incident; a major one suspends a whitelisted provider at once."""
    now = timesource.resolve(now)
    listing_id = data.get("listing_id")
    # Ids are 32-bit in both databases: a larger number names no listing (not a driver error).
    if (
        not isinstance(listing_id, int)
        or isinstance(listing_id, bool)
        or not 0 < listing_id < 2**31
    ):
        raise NotFound(NOT_FOUND)
    async with write_transaction(Incident._meta.db):
        role, school_id = await _reporter(actor, listing_id)
        day, problems = problems_of(data, local_today(now))
        if problems:
            raise Refused("事故报告未通过校验：" + "；".join(p.message for p in problems), problems)
        severity = str(data["severity"])
        rows = await Incident.insert(
            Incident(
                listing=listing_id,
                severity=severity,
                occurred_on=day,
                description=str(data["description"]).strip(),
                school=school_id,
                reported_by=actor.user_id,
                reporter_role=role,
                created_at=now,
            )
        ).returning(Incident.id)
        incident_id = int(rows[0]["id"])
        # The description may name children: it stays out of the (permanent) audit trail.
        await audit.record(
            actor,
            action="incident.reported",
            role=role,
            listing=listing_id,
            payload={"incident": incident_id, "severity": severity, "school": school_id},
            occurred_at=now,
        )
        if severity == Severity.major and await _whitelisted(listing_id):
            why = f"发生重大安全事故（事故编号 {incident_id}），暂停列入白名单"
            try:
                await engine.fire(
                    listing_id,
                    "suspend_for_incident",
                    system_actor(f"incident:{incident_id}", user_id=actor.user_id),
                    reason=f"{why}，待调查处理",
                    message=f"因{why}，等待区教育局调查处理。",
                    params={"incident": incident_id},
                    now=now,
                )
            except Refused:
                # A concurrent report (or exit) took the provider off the whitelist first:
                # the incident is still recorded. Refused is raised before any write.
                if await _whitelisted(listing_id):
                    raise
    return await _row(incident_id)


async def reportable_listing(actor: Actor, listing_id: int) -> dict[str, Any]:
    """A listing a reviewer of its district may report an incident on (else 404)."""
    row = (
        await Listing.select(
            Listing.id,
            Listing.district,
            Listing.organisation.name.as_alias("organisation_name"),
            Listing.district.name.as_alias("district_name"),
        )
        .where(Listing.id == listing_id)
        .first()
    )
    if row is None or not any(
        g.role == Role.reviewer and g.district_id == row["district"] for g in actor.grants
    ):
        raise NotFound(NOT_FOUND)
    return row


async def _whitelisted(listing_id: int) -> bool:
    row = await Listing.select(Listing.state).where(Listing.id == listing_id).first()
    return row is not None and row["state"] in PUBLIC_STATES


async def _row(incident_id: int) -> dict[str, Any]:
    row = await Incident.select(*COLUMNS).where(Incident.id == incident_id).first()
    assert row is not None
    return row


def _scope(actor: Actor) -> Any | None:
    """A where-clause over Incident for what the actor may read; None when nothing."""
    return scope.visible(RecordKind.incident, actor)


async def visible(actor: Actor, open_only: bool | None = None) -> list[dict[str, Any]]:
    """Incidents the actor may read (own school, district, all for the city), newest first."""
    where = _visible_where(actor, open_only)
    return await Incident.select(*COLUMNS).where(where).order_by(Incident.id, ascending=False)


async def visible_page(
    actor: Actor, open_only: bool | None, number: int, size: int = PAGE_SIZE
) -> Page:
    """One page of the incidents the actor may read, newest first, with their total."""
    where = _visible_where(actor, open_only)
    return await fetch_page(
        Incident.select(*COLUMNS).where(where).order_by(Incident.id, ascending=False),
        Incident.count().where(where),
        number,
        size,
    )


def _visible_where(actor: Actor, open_only: bool | None) -> Any:
    where = _scope(actor)
    if where is None:
        raise Forbidden("无权查看安全事故报告")
    if open_only is True:
        where &= Incident.resolved_at.is_null()
    elif open_only is False:
        where &= Incident.resolved_at.is_not_null()
    return where


async def get(actor: Actor, incident_id: int) -> dict[str, Any]:
    """One incident the actor may read; 404 for any other."""
    where = _scope(actor)
    row = None
    if where is not None:
        row = await Incident.select(*COLUMNS).where(where & (Incident.id == incident_id)).first()
    if row is None:
        raise NotFound("事故报告不存在")
    return row


def may_resolve(actor: Actor, row: Mapping[str, Any]) -> bool:
    """Only a reviewer of the provider's district resolves an incident."""
    return any(
        g.role == Role.reviewer and g.district_id == row["district_id"] for g in actor.grants
    )


async def resolve(
    actor: Actor, incident_id: int, action: str, reason: str, now: datetime | None = None
) -> dict[str, Any]:
    """Close an incident: reinstate or revoke the provider through the engine, or just close."""
    now = timesource.resolve(now)
    reason = reason.strip()
    problems: list[Refusal] = []
    if action not in ACTION_LABELS:
        message = "请选择处理方式：恢复列入白名单、撤销入库或结案"
        problems.append(Refusal("action", "unknown", message))
    if not reason:
        problems.append(Refusal("reason", "required", "请填写处理理由"))
    elif len(reason) > REASON_MAX:
        problems.append(Refusal("reason", "too_long", f"处理理由不能超过{REASON_MAX}个字"))
    async with write_transaction(Incident._meta.db):
        row = await get(actor, incident_id)
        if not may_resolve(actor, row):
            raise Forbidden("只有该区教育局审核员可以处理安全事故")
        if row["resolved_at"] is not None:
            raise _refused("incident", "resolved", "该事故已处理完毕，不能重复处理")
        if problems:
            raise Refused("；".join(p.message for p in problems), problems)
        listing_id = row["listing"]
        if action == "reinstate":
            await engine.fire(
                listing_id,
                "reinstate",
                actor,
                reason=reason,
                message="安全事故调查处理完毕，恢复列入白名单。",
                params={"incident": incident_id},
                now=now,
            )
        elif action == "revoke":
            await engine.fire(
                listing_id,
                "revoke",
                actor,
                reason=reason,
                message=f"因发生安全事故（事故编号 {incident_id}），撤销入库，退出白名单。",
                params={"exit_reason": ExitReason.safety_incident.value, "incident": incident_id},
                now=now,
            )
        written = (
            await Incident.update(
                {
                    Incident.resolution: f"{ACTION_LABELS[action]}：{reason}",
                    Incident.resolved_by: actor.user_id,
                    Incident.resolved_at: now,
                }
            )
            .where((Incident.id == incident_id) & Incident.resolved_at.is_null())
            .returning(Incident.id)
        )
        if not written:
            raise _refused("incident", "resolved", "该事故已处理完毕，不能重复处理")
        await audit.record(
            actor,
            action="incident.resolved",
            role=Role.reviewer.value,
            listing=listing_id,
            reason=reason,
            payload={"incident": incident_id, "resolution": action},
            occurred_at=now,
        )
    return await _row(incident_id)
