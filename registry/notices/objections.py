"""Objections to a provider in public notice (异议): lodging, rate limits and decisions.

No HTTP here: the API and the pages call these functions and translate `ObjectionError`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from registry.access.masking import mask_contact
from registry.access.personal_data import CONTACT, plain_text, seal_text
from registry.access.scope import RecordKind, listing_scope
from registry.db import write_transaction
from registry.settings import get_settings
from registry.tables import Listing, Objection, ObjectionStatus
from workflows import audit, engine, timesource
from workflows.actors import Actor
from workflows.context import Refusal as Problem  # the one {field, code, message} shape
from workflows.states import Role, State

NAME_MIN, NAME_MAX = 2, 30
ORGANISATION_MAX = 64  # Objection.name (the signatory) holds it when no person signs
CONTACT_MAX = 64
FACTS_MIN, FACTS_MAX = 20, 2000
REPLY_MAX = 2000
# Per client address: a burst against one listing, and a daily total across all listings.
PER_LISTING_PER_HOUR = 5
PER_DAY = 20
# Serialises the count-then-insert of one address on PostgreSQL (SQLite's immediate
# transaction already holds the database's write lock).
_RATE_LOCK_NAMESPACE = 7_426_002
UPHOLD_MESSAGE = "公示期间收到实名异议，经核查异议成立，入库申请不予通过。"

# Words people sign with when they do not want to be known: refused in a name. 某 catches
# masked names (张某、王某某); the second list is refused as a whole name.
# fmt: off
ANONYMOUS_WORDS = ("匿名", "无名", "佚名", "知情人", "知情者", "群众", "网友", "路人", "某",
                   "不愿透露", "保密", "anonymous", "unknown")
ANONYMOUS_NAMES = frozenset({"家长", "学生家长", "一位家长", "市民", "居民", "老师", "学生", "本人",
                             "我", "无", "请勿公开", "none", "null", "n/a", "na", "test", "xxx",
                             "nobody", "anon"})
ORGANISATION_ANONYMOUS_WORDS = ("匿名", "anonymous", "某某", "不愿透露")
# fmt: on
MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


class ObjectionError(Exception):
    """A refused request; `status_code` is what the API answers with."""

    def __init__(self, status_code: int, detail: str, problems: list[Problem] | None = None):
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.problems = problems or []


@dataclass(frozen=True)
class ObjectionIn:
    """What a member of the public sends."""

    name: str = ""
    organisation_name: str = ""
    contact: str = ""
    facts: str = ""


def _looks_anonymous(text: str, organisation: bool = False) -> bool:
    lowered = text.lower()
    # Real organisation names contain some of the words (群众艺术馆): only the blatant ones count.
    words = ORGANISATION_ANONYMOUS_WORDS if organisation else ANONYMOUS_WORDS
    if lowered in ANONYMOUS_NAMES | set(ANONYMOUS_WORDS) or any(w in lowered for w in words):
        return True
    # A name needs letters: digits, punctuation and symbols alone name nobody.
    return not any(unicodedata.category(c).startswith("L") for c in text)


def _problem(field: str, code: str, message: str) -> list[Problem]:
    return [Problem(field, code, message)]


def _check_name(field: str, text: str, longest: int, label: str) -> list[Problem]:
    if not NAME_MIN <= len(text) <= longest:
        return _problem(field, "length", f"{label}应为{NAME_MIN}至{longest}个字符")
    if _looks_anonymous(text, organisation=field == "organisation_name"):
        return _problem(
            field, "anonymous", f"不受理匿名异议：「{text}」不是真实{label}，请填写真实{label}"
        )
    return []


def _check_signatory(data: ObjectionIn) -> list[Problem]:
    name, organisation = data.name.strip(), data.organisation_name.strip()
    if not name and not organisation:
        return _problem(
            "name", "required", "不受理匿名异议：请填写真实姓名，或以单位名义提出时填写单位名称"
        )
    return (_check_name("name", name, NAME_MAX, "姓名") if name else []) + (
        _check_name("organisation_name", organisation, ORGANISATION_MAX, "单位名称")
        if organisation
        else []
    )


def normalise_contact(contact: str) -> str:
    """The contact without spaces (people type 138 2000 1234)."""
    return re.sub(r"\s+", "", contact)


def _check_contact(contact: str) -> list[Problem]:
    if not contact:
        return _problem("contact", "required", "请填写联系方式（手机号、固定电话或电子邮箱）")
    if len(contact) > CONTACT_MAX or not any(p.match(contact) for p in (MOBILE, LANDLINE, EMAIL)):
        return _problem(
            "contact",
            "invalid",
            "联系方式应为大陆手机号（如13820001234）、固定电话（如022-23456789）或电子邮箱",
        )
    return []


def _check_facts(facts: str) -> list[Problem]:
    length = len(re.sub(r"\s+", "", facts))
    if length == 0:
        return _problem("facts", "required", "请写明异议的具体事实")
    if length < FACTS_MIN:
        return _problem(
            "facts", "too_short", f"异议须写明具体事实（至少{FACTS_MIN}个字，现有{length}个字）"
        )
    if len(facts) > FACTS_MAX:
        return _problem("facts", "too_long", f"异议事实不能超过{FACTS_MAX}个字")
    return []


def problems_of(data: ObjectionIn) -> list[Problem]:
    """Every problem with an objection, each naming its field (empty when it may be lodged)."""
    return (
        _check_signatory(data)
        + _check_contact(normalise_contact(data.contact))
        + _check_facts(data.facts.strip())
    )


def client_hash(address: str) -> str:
    """A salted hash of the sender's address: enough to count, useless to identify."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"objection-client:{address}".encode(), hashlib.sha256).hexdigest()


async def _check_rate(listing_id: int, hashed: str, now: datetime) -> None:
    if isinstance(Objection._meta.db, PostgresEngine):
        await Objection.raw(
            "SELECT pg_advisory_xact_lock({}, {})",
            _RATE_LOCK_NAMESPACE,
            int(hashed[:7], 16),  # 28 bits: fits PostgreSQL's int4 key
        )
    recent = await Objection.count().where(
        (Objection.client_hash == hashed)
        & (Objection.listing == listing_id)
        & (Objection.submitted_at > now - timedelta(hours=1))
    )
    today = await Objection.count().where(
        (Objection.client_hash == hashed) & (Objection.submitted_at > now - timedelta(days=1))
    )
    if recent >= PER_LISTING_PER_HOUR or today >= PER_DAY:
        raise ObjectionError(
            429,
            f"提交过于频繁：同一网络地址每小时对同一机构最多提交{PER_LISTING_PER_HOUR}条异议、"
            f"每天最多提交{PER_DAY}条，请稍后再试",
        )


async def lodge(
    listing_id: int, data: ObjectionIn, client_address: str, now: datetime | None = None
) -> int:
    """Store an objection to a listing in public notice; return its id."""
    problems = problems_of(data)
    if problems:
        raise ObjectionError(
            422, "异议未被受理：" + "；".join(p.message for p in problems), problems
        )
    now = timesource.resolve(now)
    hashed = client_hash(client_address)
    async with write_transaction(Objection._meta.db):
        listing = await Listing.select(Listing.state).where(Listing.id == listing_id).first()
        if listing is None:
            raise ObjectionError(404, "该公示对象不存在")
        if listing["state"] != State.in_public_notice:
            message = "该机构不在公示期内，不能提出异议"
            raise ObjectionError(422, message, _problem("listing", "not_in_notice", message))
        await _check_rate(listing_id, hashed, now)
        name, organisation = data.name.strip(), data.organisation_name.strip()
        rows = await Objection.insert(
            Objection(
                listing=listing_id,
                # The signatory: the person, or the organisation when it objects in its name.
                name=name or organisation,
                organisation_name=organisation,
                contact=seal_text(normalise_contact(data.contact), CONTACT),
                facts=data.facts.strip(),
                submitted_at=now,
                client_hash=hashed,
            )
        ).returning(Objection.id)
        objection_id = int(rows[0]["id"])
        # The payload names the records only: the person's name and contact stay out of the trail.
        await audit.append(
            action="objection.lodged",
            role="public",
            actor_id=None,
            actor_name="",
            listing=listing_id,
            payload={"objection": objection_id, "listing": listing_id},
            occurred_at=now,
        )
    return objection_id


def _staff_grants(actor: Actor, district_id: int) -> set[Role]:
    return {
        g.role
        for g in actor.grants
        if g.role in (Role.reviewer, Role.approver) and g.district_id == district_id
    }


async def objections_for(listing_id: int) -> list[dict[str, Any]]:
    """Every objection to a listing, oldest first (for the reviewer's detail page).

    The caller checks that its user may see them (`may_see_objections`): they hold the
    objectors' names and contacts.
    """
    rows = await Objection.select().where(Objection.listing == listing_id).order_by(Objection.id)
    return [shown(row) for row in rows]


def shown(row: dict[str, Any]) -> dict[str, Any]:
    """An objection as staff see it: the objector's contact masked (revealed only on request)."""
    contact = plain_text(row["contact"], CONTACT)
    return {**row, "contact": mask_contact(contact) if contact else ""}


async def objection(objection_id: int) -> dict[str, Any] | None:
    """One objection as staff see it (the caller checks the actor may), or None."""
    row = await Objection.select().where(Objection.id == objection_id).first()
    return shown(row) if row else None


async def may_see_objections(actor: Actor, listing_id: int) -> bool:
    """The listing's district staff (reviewers and approvers) only (registry.access.scope)."""
    listings = listing_scope(RecordKind.objection, actor)
    return listings is not None and bool(
        await Listing.exists().where((Listing.id == listing_id) & listings)
    )


async def _pending(objection_id: int, actor: Actor) -> dict[str, Any]:
    """The objection, if the actor is a reviewer of its district and it awaits a decision."""
    row = await (
        Objection.select(*Objection._meta.columns, Objection.listing.district.as_alias("district"))
        .where(Objection.id == objection_id)
        .first()
    )
    roles = _staff_grants(actor, row["district"]) if row else set()
    if row is None or not roles:
        raise ObjectionError(404, "异议不存在")
    if Role.reviewer not in roles:
        raise ObjectionError(403, "只有审核员可以处理异议")
    if row["status"] != ObjectionStatus.pending:
        raise ObjectionError(409, "该异议已处理，不能重复处理")
    return row


async def _decide(
    objection_id: int, status: ObjectionStatus, actor: Actor, reply: str, now: datetime
) -> None:
    written = (
        await Objection.update(
            {
                Objection.status: status.value,
                Objection.reply: reply,
                Objection.decided_by: actor.user_id,
                Objection.decided_at: now,
            }
        )
        .where((Objection.id == objection_id) & (Objection.status == ObjectionStatus.pending.value))
        .returning(Objection.id)
    )
    if not written:
        raise ObjectionError(409, "该异议已处理，不能重复处理")


async def uphold(
    objection_id: int, actor: Actor, message: str = "", now: datetime | None = None
) -> engine.Outcome:
    """The objection holds: the application is rejected with its facts as the reason.

    The engine's transition and the objection's status change commit together; when the engine
    refuses, the objection stays pending.
    """
    now = timesource.resolve(now)
    outcome_message = message.strip() or UPHOLD_MESSAGE
    async with write_transaction(Objection._meta.db):
        row = await _pending(objection_id, actor)
        outcome = await engine.fire(
            row["listing"],
            "uphold_objection",
            actor,
            reason=row["facts"],
            message=outcome_message,
            params={"objection": objection_id},
            now=now,
        )
        # The decision's text is also the reply to the person who objected.
        await _decide(objection_id, ObjectionStatus.upheld, actor, outcome_message, now)
    return outcome


async def dismiss(objection_id: int, actor: Actor, reply: str, now: datetime | None = None) -> None:
    """The objection does not hold: it is closed with a reply to the person who lodged it."""
    reply = reply.strip()
    if not reply or len(reply) > REPLY_MAX:
        message = "驳回异议须填写答复意见" if not reply else f"答复意见不能超过{REPLY_MAX}个字"
        raise ObjectionError(422, message, _problem("reply", "invalid", message))
    now = timesource.resolve(now)
    async with write_transaction(Objection._meta.db):
        row = await _pending(objection_id, actor)
        await _decide(objection_id, ObjectionStatus.dismissed, actor, reply, now)
        await audit.record(
            actor,
            action="objection.dismissed",
            role=Role.reviewer.value,
            listing=row["listing"],
            reason=reply,
            payload={"objection": objection_id, "listing": row["listing"]},
            occurred_at=now,
        )
