"""A small world with one record of every kind, reached through the engine and the services.

Listings (named by letter) of the cast's organisations and of an individual without a login:

    A  飞跃 (provider)        和平区  listed             engaged by 和平 school, complaint, incident
    B  墨香 (provider_other)  和平区  in_public_notice   an objection
    C  墨香 (provider_other)  滨海    listed             engaged by 滨海 school, complaint, incident
    D  飞跃 (provider)        滨海    draft
    E  飞跃 (provider)        和平区  exited             a confirmed evaluation result
    G  刘书文 (individual)    和平区  draft              an event (drafts do have history)

Each record is named after its listing (the incident also after its reporter, the result after
its status); audit events are named "<listing>#<n>", and "-" names the event about no listing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from registry.access.personal_data import organisation_values
from registry.notices import objections
from registry.notices.objections import ObjectionIn
from registry.oversight import complaints, incidents
from registry.tables import (
    AuditEvent,
    Document,
    EvaluationCycle,
    EvaluationResult,
    Organisation,
    ResultStatus,
)
from tests.cast import BINHAI, CAST, HEPING, T0, actor, listing_in
from tests.evaluation.helpers import engagement
from tests.factories import INDIVIDUAL_ID, individual_application, new_listing
from workflows import audit
from workflows.states import State


@dataclass
class World:
    """Record name → id, per kind."""

    listings: dict[str, int] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)
    complaints: dict[str, int] = field(default_factory=dict)
    incidents: dict[str, int] = field(default_factory=dict)
    engagements: dict[str, int] = field(default_factory=dict)
    results: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    objections: dict[str, int] = field(default_factory=dict)


async def _individual() -> int:
    rows = await Organisation.insert(
        Organisation(
            name="刘书文",
            kind="individual",
            **organisation_values(INDIVIDUAL_ID, "15902212345"),
            address="天津市河西区友谊路28号",
        )
    ).returning(Organisation.id)
    return int(rows[0]["id"])


async def _cycle(district: str) -> int:
    rows = await EvaluationCycle.insert(
        EvaluationCycle(
            district=CAST.districts[district],
            name="2026年秋季学期",
            term="2026-2027学年第一学期",
            starts_on=date(2026, 9, 1),
            ends_on=date(2027, 1, 20),
            self_report_due=date(2026, 12, 31),
            rubric={},
        )
    ).returning(EvaluationCycle.id)
    return int(rows[0]["id"])


async def _result(cycle_id: int, listing_id: int, status: ResultStatus) -> int:
    rows = await EvaluationResult.insert(
        EvaluationResult(
            key=f"{cycle_id}:{listing_id}",
            cycle=cycle_id,
            listing=listing_id,
            score_centi=9000,
            grade="excellent",
            consequence="renew",
            status=status.value,
        )
    ).returning(EvaluationResult.id)
    return int(rows[0]["id"])


async def build_world() -> World:
    """Every kind of record, a few of each, spread over two districts and three providers."""
    world = World()
    listings = world.listings
    # E exits before A is applied for: a provider holds one live listing per district.
    listings["E"] = await listing_in(State.exited)
    listings["A"] = await listing_in(State.listed)
    listings["B"] = await listing_in(State.in_public_notice, organisation="other")
    listings["C"] = await listing_in(State.listed, organisation="other", district=BINHAI)
    listings["D"] = await listing_in(State.draft, district=BINHAI)
    listings["G"] = await new_listing(
        await _individual(), CAST.districts[HEPING], individual_application()
    )
    for name, listing_id in listings.items():
        rows = await Document.insert(
            Document(
                listing=listing_id,
                kind="business_licence",
                sha256=f"{listing_id:064x}",
                original_name="营业执照.pdf",
                mime_type="application/pdf",
                size=1024,
            )
        ).returning(Document.id)
        world.documents[name] = int(rows[0]["id"])
    world.engagements["A"] = await engagement(listings["A"])
    world.engagements["C"] = await engagement(listings["C"], school="binhai_middle")
    for name, address in (("A", "10.0.0.1"), ("C", "10.0.0.2")):
        lodged = await complaints.lodge(
            listings[name], "上课经常迟到，家长多次反映没有改进。", "13811112222", address
        )
        world.complaints[name] = lodged["id"]
    for name, who in (("A", "school"), ("C", "reviewer_binhai")):
        incident = await incidents.report(
            await actor(who),
            {
                "listing_id": listings[name],
                "severity": "minor",
                "occurred_on": "2026-11-10",
                "description": "训练中一名学生扭伤脚踝，已及时送医处理。",
            },
        )
        world.incidents[f"{name}:{who}"] = incident["id"]
    heping, binhai = await _cycle(HEPING), await _cycle(BINHAI)
    world.results["A:confirmed"] = await _result(heping, listings["A"], ResultStatus.confirmed)
    world.results["E:confirmed"] = await _result(heping, listings["E"], ResultStatus.confirmed)
    world.results["C:computed"] = await _result(binhai, listings["C"], ResultStatus.computed)
    world.objections["B"] = await objections.lodge(
        listings["B"],
        ObjectionIn(
            name="王晓东",
            contact="13820001234",
            facts="该机构主教练的资质证书已于今年六月过期，至今仍在课后服务中授课，有照片为证。",
        ),
        "10.0.0.3",
    )
    await audit.append(
        action="application.created",
        role="provider",
        actor_id=None,
        actor_name="刘书文",
        listing=listings["G"],
        payload={"listing": listings["G"]},
        occurred_at=T0,
    )
    await audit.append(
        action="cycle.opened",
        role="city",
        actor_id=CAST.users["city"],
        actor_name="city",
        listing=None,
        payload={"cycle": heping},
        occurred_at=T0,
    )
    name_of = {listing_id: name for name, listing_id in listings.items()}
    counts: dict[str, int] = {}
    for event in await AuditEvent.select(AuditEvent.id, AuditEvent.listing).order_by(AuditEvent.id):
        name = name_of.get(event["listing"], "-")
        counts[name] = counts.get(name, 0) + 1
        world.events[f"{name}#{counts[name]}"] = event["id"]
    return world
