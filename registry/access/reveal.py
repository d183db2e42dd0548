"""Seeing one full number: an explicit, audited act of a listing's district reviewer or approver.

Everywhere else resident ID and phone numbers are masked (registry.access.masking). A reviewer
who must check an ID against a certificate, or call an objector back, asks for one field with a
reason; the answer is that one value, and an audit event records who, when, which field and
why, never the number itself.

Fields, as the bureau page names them:
- a path in the application form as last submitted: `organisation.resident_id`,
  `organisation.contact_phone`, `staff[2].resident_id`, `safety_plan.emergency_phone`;
- `objections.<id>.contact`, `complaints.<id>.contact`: a sender's contact, for a record about
  this listing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from registry.access import personal_data as pd
from registry.access.masking import value_at
from registry.access.scope import RecordKind, visible
from registry.db import write_transaction
from registry.review.detail import submitted_form
from registry.tables import AuditEvent, Complaint, Listing, Objection
from workflows import audit
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.errors import Forbidden, NotFound, Refused
from workflows.states import Role

ACTION = "personal_data.revealed"
REASON_MIN = 5
REASON_MAX = 500
DECIDERS = (Role.reviewer, Role.approver)
_RECORD_FIELD = re.compile(r"(objections|complaints)\.(\d+)\.contact")


@dataclass(frozen=True)
class Revealed:
    """The one value asked for, and the field it is."""

    field: str
    value: str


def _refused(field: str, code: str, message: str) -> Refused:
    return Refused(message, [Refusal(field, code, message)])


async def _listing(listing_id: int, actor: Actor) -> dict[str, Any]:
    """The listing if the actor may reveal its numbers: 404 outside scope, 403 inside it."""
    scope = visible(RecordKind.listing, actor)
    row: dict[str, Any] | None = None
    if scope is not None:
        row = await (
            Listing.select(Listing.id, Listing.district, Listing.form)
            .where((Listing.id == listing_id) & scope)
            .output(load_json=True)
            .first()
        )
    if row is None:
        raise NotFound("申请记录不存在")
    if not any(g.role in DECIDERS and g.district_id == row["district"] for g in actor.grants):
        raise Forbidden("只有该区教育局的审核员、审批人可以查看完整的个人信息")
    return row


def _role(actor: Actor, district_id: int) -> Role:
    roles = {g.role for g in actor.grants if g.district_id == district_id}
    return Role.reviewer if Role.reviewer in roles else Role.approver


async def _contact(kind: str, record_id: int, listing_id: int) -> str | None:
    table = Objection if kind == "objections" else Complaint
    row = await (
        table.select(table.contact)
        .where((table._meta.primary_key == record_id) & (table.listing == listing_id))
        .first()
    )
    if row is None:
        return None
    return pd.plain_text(row["contact"], pd.CONTACT) or None


async def _value(listing: dict[str, Any], field: str) -> str | None:
    record = _RECORD_FIELD.fullmatch(field)
    if record:
        return await _contact(record.group(1), int(record.group(2)), int(listing["id"]))
    return value_at(await submitted_form(listing), field)


async def reveal(listing_id: int, actor: Actor, field: str, reason: str) -> Revealed:
    """The full value of one personal field of a listing, audited; refused without a reason."""
    listing = await _listing(listing_id, actor)
    field, reason = field.strip(), reason.strip()
    if len(reason) < REASON_MIN:
        raise _refused("reason", "too_short", f"请说明查看完整信息的理由（至少{REASON_MIN}个字）")
    if len(reason) > REASON_MAX:
        raise _refused("reason", "too_long", f"理由不能超过{REASON_MAX}个字")
    value = await _value(listing, field)
    if value is None:
        raise _refused("field", "unknown", "该申请中没有这一项个人信息")
    async with write_transaction(AuditEvent._meta.db):
        await audit.record(
            actor,
            action=ACTION,
            role=_role(actor, int(listing["district"])).value,
            listing=listing_id,
            reason=reason,
            # The field's name, never its value.
            payload={"listing": listing_id, "field": field},
        )
    return Revealed(field, value)
