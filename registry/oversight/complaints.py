"""Complaints by the public about a listed provider (投诉): lodging, rate limits, handling.

No HTTP here: the API and the pages call these functions. Refusals are the engine's exceptions
(404 outside scope, 403 wrong role, 422 naming the field) plus `RateLimited` (429), so both
answer alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from registry.access import scope
from registry.access.masking import mask_contact
from registry.access.personal_data import CONTACT, plain_text, seal_text
from registry.access.reveal import reveal
from registry.access.scope import RecordKind
from registry.db import write_transaction
from registry.notices.objections import client_hash
from registry.paging import PAGE_SIZE, Page, fetch_page
from registry.tables import Complaint, ComplaintStatus, Listing
from workflows import audit, timesource
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import Forbidden, NotFound, Refused, TransitionError
from workflows.states import PUBLIC_STATES, Role

CONTENT_MIN, CONTENT_MAX = 10, 2000
CONTACT_MAX = 64
REPLY_MAX = 2000
# Per client address: a short burst, and a daily total across all providers.
BURST, BURST_WINDOW = 3, timedelta(minutes=10)
PER_DAY, DAY = 20, timedelta(days=1)
# Serialises one address's count-then-insert on PostgreSQL (objections use 7_426_002).
_RATE_LOCK_NAMESPACE = 7_426_003
NOT_LISTED = "机构不存在或不在白名单上"
STATUS_LABELS = {
    ComplaintStatus.received: "已受理",
    ComplaintStatus.investigating: "调查中",
    ComplaintStatus.upheld: "投诉查实",
    ComplaintStatus.dismissed: "投诉不成立",
}
OPEN = (ComplaintStatus.received.value, ComplaintStatus.investigating.value)
OUTCOMES = (ComplaintStatus.upheld.value, ComplaintStatus.dismissed.value)
COLUMNS = (
    *Complaint._meta.columns,
    Complaint.listing.organisation.name.as_alias("organisation_name"),
    Complaint.listing.district.as_alias("district_id"),
    Complaint.listing.district.code.as_alias("district_code"),
    Complaint.listing.district.name.as_alias("district_name"),
)


class RateLimited(TransitionError):
    """Too many complaints from one address; `retry_after` in seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def _refused(field: str, code: str, message: str) -> Refused:
    return Refused(message, [Refusal(field, code, message)])


def content_problems(content: str, contact: str) -> list[Refusal]:
    """What is wrong with a complaint's text and contact, each naming its field."""
    problems: list[Refusal] = []
    text = content.strip()
    if not text:
        problems.append(Refusal("content", "required", "请填写投诉内容"))
    elif len(text) < CONTENT_MIN:
        message = f"投诉内容至少{CONTENT_MIN}个字，请写明具体情况（现有{len(text)}个字）"
        problems.append(Refusal("content", "too_short", message))
    elif len(text) > CONTENT_MAX:
        problems.append(Refusal("content", "too_long", f"投诉内容不能超过{CONTENT_MAX}个字"))
    if len(contact.strip()) > CONTACT_MAX:
        problems.append(Refusal("contact", "too_long", f"联系方式不能超过{CONTACT_MAX}个字符"))
    return problems


async def public_listing(listing_id: int) -> dict[str, Any]:
    """A listing the public may complain about (listed or under rectification), or 404."""
    row = await (
        Listing.select(
            Listing.id,
            Listing.state,
            Listing.organisation.name.as_alias("organisation_name"),
            Listing.district.name.as_alias("district_name"),
        )
        .where(Listing.id == listing_id)
        .first()
    )
    if row is None or row["state"] not in PUBLIC_STATES:
        raise NotFound(NOT_LISTED, [Refusal("listing_id", "not_listed", NOT_LISTED)])
    return row


def _wait(times: Sequence[datetime], limit: int, window: timedelta, now: datetime) -> int:
    """Seconds until fewer than `limit` of `times` (oldest first) fall in the window; 0: now."""
    inside = [t for t in times if t > now - window]
    if len(inside) < limit:
        return 0
    # Once this one leaves the window, limit - 1 remain: room for one more.
    freed_at = inside[len(inside) - limit] + window
    return max(1, math.ceil((freed_at - now).total_seconds()))


async def _check_rate(hashed: str, now: datetime) -> None:
    if isinstance(Complaint._meta.db, PostgresEngine):
        await Complaint.raw(
            "SELECT pg_advisory_xact_lock({}, {})",
            _RATE_LOCK_NAMESPACE,
            int(hashed[:7], 16),  # 28 bits: fits PostgreSQL's int4 key
        )
    rows = await (
        Complaint.select(Complaint.submitted_at)
        .where((Complaint.client_hash == hashed) & (Complaint.submitted_at > now - DAY))
        .order_by(Complaint.submitted_at)
    )
    times = [r["submitted_at"].astimezone(UTC) for r in rows]
    wait = max(_wait(times, BURST, BURST_WINDOW, now), _wait(times, PER_DAY, DAY, now))
    if wait:
        raise RateLimited(
            f"提交过于频繁：同一网络地址每10分钟最多提交{BURST}条投诉、每天最多{PER_DAY}条，"
            f"请约{math.ceil(wait / 60)}分钟后再试",
            wait,
        )


async def lodge(
    listing_id: int,
    content: str,
    contact: str,
    client_address: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Store a complaint about a whitelisted provider; return {id, status, submitted_at}."""
    now = timesource.resolve(now)
    problems = content_problems(content, contact)
    if problems:
        raise Refused("投诉未被受理：" + "；".join(p.message for p in problems), problems)
    hashed = client_hash(client_address)
    async with write_transaction(Complaint._meta.db):
        await public_listing(listing_id)
        await _check_rate(hashed, now)
        rows = await Complaint.insert(
            Complaint(
                listing=listing_id,
                content=content.strip(),
                contact=seal_text(contact, CONTACT),  # who to call back: sealed
                client_hash=hashed,
                submitted_at=now,
            )
        ).returning(Complaint.id)
        complaint_id = int(rows[0]["id"])
        # Names the records only: what was written and who to call back stay out of the trail.
        await audit.append(
            action="complaint.lodged",
            role="public",
            actor_id=None,
            actor_name="",
            listing=listing_id,
            payload={"complaint": complaint_id, "listing": listing_id},
            occurred_at=now,
        )
    return {"id": complaint_id, "status": ComplaintStatus.received.value, "submitted_at": now}


def _scope(actor: Actor) -> Any | None:
    """A where-clause over Complaint for what the actor may read; None when nothing."""
    return scope.visible(RecordKind.complaint, actor)


def is_staff(actor: Actor) -> bool:
    """Whether the actor reads complaints at all (district staff or the city)."""
    return _scope(actor) is not None


async def visible(
    actor: Actor, status: str | None = None, listing_id: int | None = None
) -> list[dict[str, Any]]:
    """Complaints the actor may read, newest first; a listing outside its scope is 404."""
    where = await _visible_where(actor, status, listing_id)
    rows = await Complaint.select(*COLUMNS).where(where).order_by(Complaint.id, ascending=False)
    return [shown(row) for row in rows]


async def visible_page(
    actor: Actor, status: str | None, number: int, size: int = PAGE_SIZE
) -> Page:
    """One page of the complaints the actor may read, newest first, with their total."""
    where = await _visible_where(actor, status, None)
    page = await fetch_page(
        Complaint.select(*COLUMNS).where(where).order_by(Complaint.id, ascending=False),
        Complaint.count().where(where),
        number,
        size,
    )
    return replace(page, rows=[shown(row) for row in page.rows])


async def _visible_where(actor: Actor, status: str | None, listing_id: int | None) -> Any:
    where = _scope(actor)
    if where is None:
        raise Forbidden("仅区教育局和市教委可以查看投诉")
    if status:
        if status not in ComplaintStatus.__members__:
            raise _refused("status", "unknown", f"未知的投诉状态：{status}")
        where &= Complaint.status == status
    if listing_id is not None:
        listings = scope.listing_scope(RecordKind.complaint, actor)
        if listings is None or not await Listing.exists().where(
            (Listing.id == listing_id) & listings
        ):
            raise NotFound("机构不存在")
        where &= Complaint.listing == listing_id
    return where


def shown(row: dict[str, Any]) -> dict[str, Any]:
    """A complaint as staff see it: the sender's contact masked (revealed only on request)."""
    contact = plain_text(row["contact"], CONTACT)
    return {**row, "contact": mask_contact(contact) if contact else ""}


async def get(actor: Actor, complaint_id: int) -> dict[str, Any]:
    """One complaint the actor may read; 404 for any other (existence is not revealed)."""
    where = _scope(actor)
    row = None
    if where is not None:
        row = await Complaint.select(*COLUMNS).where(where & (Complaint.id == complaint_id)).first()
    if row is None:
        raise NotFound("投诉不存在")
    return shown(row)


def may_handle(actor: Actor, row: dict[str, Any]) -> bool:
    """Only a reviewer of the provider's district investigates and decides."""
    return any(
        g.role == Role.reviewer and g.district_id == row["district_id"] for g in actor.grants
    )


async def reveal_contact(actor: Actor, complaint_id: int, reason: str) -> str:
    """The sender's full contact, for a reviewer of the provider's district who gives a reason.

    404 outside the actor's scope, 403 for anyone else who reads the complaint (the city, an
    approver), 422 without a reason. The reveal is the listing's (registry.access.reveal): one
    audit event with who, when and why, naming the field, never the contact itself.
    """
    row = await get(actor, complaint_id)
    if not may_handle(actor, row):
        raise Forbidden("只有该区教育局审核员可以查看投诉人的完整联系方式")
    if not row["contact"]:
        raise _refused("contact", "none", "投诉人未留联系方式")
    revealed = await reveal(int(row["listing"]), actor, contact_field(complaint_id), reason)
    return revealed.value


def contact_field(complaint_id: int) -> str:
    """How the reveal (and its audit event) names a complaint's contact."""
    return f"complaints.{complaint_id}.contact"


async def _handled(actor: Actor, complaint_id: int) -> dict[str, Any]:
    row = await get(actor, complaint_id)
    if not may_handle(actor, row):
        raise Forbidden("只有该区教育局审核员可以处理投诉")
    return row


async def investigate(actor: Actor, complaint_id: int, now: datetime | None = None) -> None:
    """A received complaint is taken up for investigation."""
    now = timesource.resolve(now)
    async with write_transaction(Complaint._meta.db):
        row = await _handled(actor, complaint_id)
        written = (
            await Complaint.update(
                {
                    Complaint.status: ComplaintStatus.investigating.value,
                    Complaint.handled_by: actor.user_id,
                }
            )
            .where(
                (Complaint.id == complaint_id)
                & (Complaint.status == ComplaintStatus.received.value)
            )
            .returning(Complaint.id)
        )
        if not written:
            raise _refused("status", "not_received", "只有新受理的投诉可以转入调查")
        await audit.record(
            actor,
            action="complaint.investigating",
            role=Role.reviewer.value,
            listing=row["listing"],
            payload={"complaint": complaint_id, "listing": row["listing"]},
            occurred_at=now,
        )


async def decide(
    actor: Actor,
    complaint_id: int,
    outcome: str,
    reply: str,
    fee_violation: bool = False,
    now: datetime | None = None,
) -> None:
    """Uphold or dismiss a complaint with a reply to its sender; once only."""
    now = timesource.resolve(now)
    reply = reply.strip()
    problems: list[Refusal] = []
    if outcome not in OUTCOMES:
        problems.append(Refusal("outcome", "unknown", "请选择处理结果：投诉查实或投诉不成立"))
    if not reply:
        problems.append(Refusal("reply", "required", "请填写给投诉人的答复意见"))
    elif len(reply) > REPLY_MAX:
        problems.append(Refusal("reply", "too_long", f"答复意见不能超过{REPLY_MAX}个字"))
    async with write_transaction(Complaint._meta.db):
        row = await _handled(actor, complaint_id)
        if row["status"] not in OPEN:
            raise _refused("status", "decided", "该投诉已处理完毕，不能重复处理")
        if problems:
            raise Refused("；".join(p.message for p in problems), problems)
        upheld = outcome == ComplaintStatus.upheld.value
        written = (
            await Complaint.update(
                {
                    Complaint.status: outcome,
                    Complaint.reply: reply,
                    # Only a complaint found true can count as overcharging in an evaluation.
                    Complaint.fee_violation: upheld and fee_violation,
                    Complaint.handled_by: actor.user_id,
                    Complaint.decided_at: now,
                }
            )
            .where((Complaint.id == complaint_id) & Complaint.status.is_in(list(OPEN)))
            .returning(Complaint.id)
        )
        if not written:
            raise _refused("status", "decided", "该投诉已处理完毕，不能重复处理")
        await audit.record(
            actor,
            action=f"complaint.{outcome}",
            role=Role.reviewer.value,
            listing=row["listing"],
            payload={
                "complaint": complaint_id,
                "listing": row["listing"],
                "fee_violation": upheld and fee_violation,
            },
            occurred_at=now,
        )
