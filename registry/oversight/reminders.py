"""Reminders: providers before their deadlines, reviewers once a day, each given once.

At each clock tick `remind` works out which reminders are due (from workflows.deadlines, the
list the clock and the dashboards use, and from open evaluation cycles), records each under a
key naming what it reminds of, and e-mails the new ones when SMTP is configured. The key is
unique in the database: another worker's tick, a second clock or a restart finds the reminder
given and gives nothing twice. An e-mail is stamped sent before it goes (the stamp is taken
back if sending fails), so two processes never send the same one; a crash mid-send loses that
e-mail rather than sending it twice, and the reminder stays in the inbox.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from piccolo.apps.user.tables import BaseUser

from registry.applications.inbox import zh
from registry.evaluation.gather import EVALUATED_STATES
from registry.oversight import mail
from registry.settings import get_settings
from registry.tables import (
    CycleStatus,
    District,
    EvaluationCycle,
    Listing,
    Membership,
    Organisation,
    Reminder,
    SelfReport,
)
from workflows import deadlines
from workflows.deadlines import Deadline
from workflows.states import Role

log = logging.getLogger(__name__)

# Days before a deadline's last day that its provider is reminded, by the listing column that
# holds the day. Only the nearest lead not yet passed is given (a registry that was down for a
# week does not send three reminders at once).
LEADS: dict[str, tuple[int, ...]] = {
    "valid_until": (90, 30, 7),
    "supplement_due": (3, 1),
    "rectification_due": (7, 1),
}
SELF_REPORT_LEADS = (7, 1)
# Keys looked up, and reminders written, per statement.
BATCH = 500
# A reviewer's digest lists the district's deadlines of the coming week and those overdue.
DIGEST_DAYS = 7
DIGEST_ROLES = (Role.reviewer.value, Role.approver.value)
# E-mail: how often a failing one is tried, and how old a reminder may be to be e-mailed at all
# (switching SMTP on must not mail out a backlog of stale reminders).
EMAIL_ATTEMPTS = 3
EMAIL_WITHIN = timedelta(days=2)

TEXTS: dict[str, tuple[str, str]] = {
    "valid_until": (
        "入库有效期将于{due}届满",
        "您在{district}的白名单入库有效期至{due}（还有{days}天）。请在届满前提交续期申请；"
        "未申请续期的，届满后将退出白名单。",
    ),
    "supplement_due": (
        "补正材料将于{due}截止",
        "您在{district}的入库申请须在{due}前提交补正材料（还有{days}天），逾期申请将自动撤回。",
    ),
    "rectification_due": (
        "整改期限将于{due}届满",
        "您在{district}的整改期限至{due}（还有{days}天）。逾期未完成整改的，将退出白名单。",
    ),
    "self_report": (
        "自查报告将于{due}截止",
        "{district}“{cycle}”评估的机构自查报告请在{due}前提交（还有{days}天）。",
    ),
}


@dataclass(frozen=True)
class Draft:
    """A reminder to give, if it has not been given."""

    key: str
    kind: str
    title: str
    body: str
    due: date | None
    organisation: int | None = None
    user_id: int | None = None
    listing: int | None = None


def lead_for(days_left: int, leads: Iterable[int]) -> int | None:
    """The lead whose reminder is due with `days_left` to go: the nearest not yet passed;
    None before the first lead and after the day."""
    fitting = [lead for lead in leads if 0 <= days_left <= lead]
    return min(fitting) if fitting else None


def _text(kind: str, **values: Any) -> tuple[str, str]:
    title, body = TEXTS[kind]
    return title.format(**values), body.format(**values)


def provider_drafts(ahead: Iterable[Deadline], today: date, names: dict[int, str]) -> list[Draft]:
    """Reminders to providers before their listings' deadlines."""
    drafts = []
    for deadline in ahead:
        column = deadline.transition.due or ""
        lead = lead_for(deadline.days_left(today), LEADS.get(column, ()))
        if lead is None:
            continue
        title, body = _text(
            column,
            due=zh(deadline.due),
            days=deadline.days_left(today),
            district=names.get(deadline.district_id, ""),
        )
        drafts.append(
            Draft(
                key=f"{column}:{deadline.listing_id}:{deadline.due.isoformat()}:{lead}",
                kind=column,
                title=title,
                body=body,
                due=deadline.due,
                organisation=deadline.organisation_id,
                listing=deadline.listing_id,
            )
        )
    return drafts


async def self_report_drafts(today: date, names: dict[int, str]) -> list[Draft]:
    """Reminders to providers whose self-report for an open cycle is still missing."""
    cycles = await EvaluationCycle.select(
        EvaluationCycle.id,
        EvaluationCycle.name,
        EvaluationCycle.district,
        EvaluationCycle.self_report_due,
    ).where(
        (EvaluationCycle.status == CycleStatus.open.value)
        & (EvaluationCycle.self_report_due >= today)
        & (EvaluationCycle.self_report_due <= today + timedelta(days=max(SELF_REPORT_LEADS)))
    )
    drafts = []
    for cycle in cycles:
        due = cycle["self_report_due"]
        lead = lead_for((due - today).days, SELF_REPORT_LEADS)
        if lead is None:
            continue
        done = {
            row["listing"]
            for row in await SelfReport.select(SelfReport.listing).where(
                (SelfReport.cycle == cycle["id"]) & (SelfReport.complete == True)  # noqa: E712
            )
        }
        listings = await Listing.select(Listing.id, Listing.organisation).where(
            (Listing.district == cycle["district"])
            & Listing.state.is_in([s.value for s in EVALUATED_STATES])
        )
        title, body = _text(
            "self_report",
            due=zh(due),
            days=(due - today).days,
            district=names.get(cycle["district"], ""),
            cycle=cycle["name"],
        )
        drafts += [
            Draft(
                key=f"self_report:{cycle['id']}:{row['id']}:{lead}",
                kind="self_report",
                title=title,
                body=body,
                due=due,
                organisation=row["organisation"],
                listing=row["id"],
            )
            for row in listings
            if row["id"] not in done
        ]
    return drafts


async def digest_drafts(
    ahead: Iterable[Deadline], today: date, names: dict[int, str]
) -> list[Draft]:
    """Each district reviewer's and approver's digest of the day, where something is due."""
    by_district: dict[int, list[Deadline]] = defaultdict(list)
    last = today + timedelta(days=DIGEST_DAYS)
    for deadline in ahead:
        if deadline.due <= last:
            by_district[deadline.district_id].append(deadline)
    if not by_district:
        return []
    members = await Membership.select(Membership.user, Membership.district).where(
        Membership.district.is_in(list(by_district))
        & Membership.role.is_in(list(DIGEST_ROLES))
        & (Membership.user.active == True)  # noqa: E712
    )
    drafts = []
    for user, district in sorted({(m["user"], m["district"]) for m in members}):
        items = sorted(by_district[district], key=lambda d: (d.due, d.listing_id))
        overdue = sum(1 for d in items if d.due < today)
        lines = [
            f"{d.organisation_name}：{d.what}{'已于' if d.due < today else '至'}{zh(d.due)}"
            f"{'届满，待处理' if d.due < today else '届满'}（届满后：{d.transition.label}）"
            for d in items
        ]
        drafts.append(
            Draft(
                key=f"digest:{user}:{district}:{today.isoformat()}",
                kind="digest",
                title=f"{names.get(district, '')}今日期限提醒：{len(items)}项"
                + (f"（已逾期{overdue}项）" if overdue else ""),
                body="\n".join(lines) + "\n\n详情见“监管概览”：/bureau/dashboard",
                due=today,
                user_id=user,
            )
        )
    return drafts


async def record(drafts: Iterable[Draft], now: datetime) -> list[int]:
    """Give the drafts not given before; the ids of the new reminders.

    Every tick works out every reminder due (tens of thousands where the whitelist is large),
    so the keys given already are looked up first and only the new ones are written, a batch
    at a time; the unique key still decides when two processes race.
    """
    pending = {draft.key: draft for draft in drafts}
    keys = list(pending)
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        for row in await Reminder.select(Reminder.key).where(Reminder.key.is_in(chunk)):
            pending.pop(row["key"], None)
    new = list(pending.values())
    made = []
    for start in range(0, len(new), BATCH):
        rows = await (
            Reminder.insert(
                *(
                    Reminder(
                        key=draft.key,
                        kind=draft.kind,
                        organisation=draft.organisation,
                        user_id=draft.user_id,
                        listing=draft.listing,
                        title=draft.title,
                        body=draft.body,
                        due=draft.due,
                        created_at=now,
                    )
                    for draft in new[start : start + BATCH]
                )
            )
            .on_conflict(target=Reminder.key, action="DO NOTHING")
            .returning(Reminder.id)
        )
        made += [row["id"] for row in rows]
    return made


async def _address(row: dict[str, Any]) -> str:
    if row["organisation"] is not None:
        found = (
            await Organisation.select(Organisation.contact_email)
            .where(Organisation.id == row["organisation"])
            .first()
        )
        return str((found or {}).get("contact_email") or "")
    found = await BaseUser.select(BaseUser.email).where(BaseUser.id == row["user_id"]).first()
    return str((found or {}).get("email") or "")


async def email_pending(now: datetime) -> int:
    """E-mail the recent reminders not e-mailed yet; how many went out."""
    url = get_settings().smtp_url
    if url is None:
        return 0
    smtp = mail.parse_smtp_url(url)
    pending = await Reminder.select().where(
        Reminder.emailed_at.is_null()
        & (Reminder.email_attempts < EMAIL_ATTEMPTS)
        & (Reminder.created_at >= now - EMAIL_WITHIN)
    )
    sent = 0
    for row in pending:
        # Claim it by stamping it sent: of two processes only one update lands, and one that
        # reads the row after sees it sent. A failure takes the stamp back for a later try.
        claimed = await (
            Reminder.update(
                {Reminder.emailed_at: now, Reminder.email_attempts: row["email_attempts"] + 1}
            )
            .where(
                (Reminder.id == row["id"])
                & (Reminder.email_attempts == row["email_attempts"])
                & Reminder.emailed_at.is_null()
            )
            .returning(Reminder.id)
        )
        if not claimed:
            continue
        address = await _address(row)
        if "@" not in address:
            await Reminder.update(
                {
                    Reminder.emailed_at: None,
                    Reminder.email_attempts: EMAIL_ATTEMPTS,
                    Reminder.email_error: "未登记邮箱",
                }
            ).where(Reminder.id == row["id"])
            continue
        try:
            await mail.send(smtp, address, row["title"], row["body"])
        except OSError as error:  # smtplib's errors are OSErrors too
            # The address is personal data: the log names the reminder only.
            log.warning("reminder %s not e-mailed: %s", row["id"], type(error).__name__)
            await Reminder.update(
                {Reminder.emailed_at: None, Reminder.email_error: str(error)[:250]}
            ).where(Reminder.id == row["id"])
            continue
        sent += 1
    return sent


async def remind(today: date, now: datetime) -> Counter[str]:
    """Give today's reminders (once each) and e-mail them; how many of each kind were new."""
    names = {row["id"]: row["name"] for row in await District.select(District.id, District.name)}
    ahead = await deadlines.due_by(today + timedelta(days=max(LEADS["valid_until"])))
    drafts = [
        *provider_drafts((d for d in ahead if d.due >= today), today, names),
        *await self_report_drafts(today, names),
        *await digest_drafts(ahead, today, names),
    ]
    made = set(await record(drafts, now))
    given: Counter[str] = Counter()
    if made:
        for row in await Reminder.select(Reminder.kind).where(Reminder.id.is_in(sorted(made))):
            given[row["kind"]] += 1
    await email_pending(now)
    return given
