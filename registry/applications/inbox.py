"""A provider's inbox, derived (never stored) from its listings' audit events and deadlines.

Only what the bureau addressed to the provider is shown: the event's `message`. The event's
`reason` is the bureau's internal note and never leaves this module.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec

from registry.labels import event_label, state_label
from registry.tables import AuditEvent, Listing, Reminder
from workflows import timesource
from workflows.policy import calendar_for, effective_policy
from workflows.states import ExitReason, State

REMINDER_WORKING_DAYS = 2

# action → (title, the payload date shown with it and how it is introduced)
TITLES: dict[str, tuple[str, str | None, str]] = {
    "request_supplement": ("要求补正材料", "supplement_due", "补正截止"),
    "reject": ("申请未通过", "appeal_due", "可申请复核至"),
    "uphold_objection": ("公示期异议成立，申请未通过", "appeal_due", "可申请复核至"),
    "approve": ("审批同意，进入公示", "notice_end", "公示期至"),
    "end_notice": ("公示期满，已列入白名单", "valid_until", "入库有效期至"),
    "lapse_supplement": ("补正逾期，申请已撤回", None, ""),
    "renew": ("入库有效期已续期", "valid_until", "入库有效期至"),
    "put_under_rectification": ("责令整改", "rectification_due", "整改期限至"),
    "close_rectification": ("整改完成", None, ""),
    "suspend": ("入库资格暂停", None, ""),
    "reinstate": ("入库资格恢复", None, ""),
    "exit_voluntary": ("已自愿退出白名单", None, ""),
    "revoke": ("入库资格被撤销", "banned_until", "禁止重新申请至"),
    "fail_evaluation": ("评估不合格，退出白名单", "banned_until", "禁止重新申请至"),
    "lapse_rectification": ("整改逾期，退出白名单", "banned_until", "禁止重新申请至"),
    "expire": ("入库有效期届满，退出白名单", None, ""),
    "evaluation.provisional": (
        "评估拟定结果告知：请在期限内陈述、申辩",
        "answer_due",
        "陈述申辩期限至",
    ),
}
# Where the provider acts on a message (the listing's page otherwise).
LINKS = {"evaluation.provisional": "/provider/hearings"}
REMINDER_LINKS = {"self_report": "/provider/evaluation"}


class InboxItem(msgspec.Struct):
    """One message or reminder for the provider."""

    kind: str  # "message" (from the bureau or the clock) or "reminder" (computed now)
    listing_id: int
    district_name: str
    action: str
    title: str
    message: str  # the bureau's words to the provider (empty when it wrote none)
    detail: str  # dates and reasons the registry adds
    due: date | None
    occurred_at: datetime
    link: str = ""


def zh(day: date) -> str:
    """2026年3月2日."""
    return f"{day.year}年{day.month}月{day.day}日"


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _message(row: dict[str, Any]) -> InboxItem:
    title, date_key, intro = TITLES[row["action"]]
    payload = row["payload"] if isinstance(row["payload"], dict) else {}
    changed = payload.get("set", {})
    # A transition's dates are under "set"; an evaluation event carries its own at the top.
    due = _day(changed.get(date_key) or payload.get(date_key)) if date_key else None
    details = []
    start = _day(changed.get("notice_start"))
    if row["action"] == "approve" and start is not None and due is not None:
        details.append(f"公示期：{zh(start)}至{zh(due)}")
    elif due is not None:
        details.append(f"{intro}{zh(due)}")
    reason = changed.get("exit_reason")
    if reason in ExitReason.__members__:
        details.insert(0, f"退出原因：{ExitReason(reason).label}")
    return InboxItem(
        kind="message",
        listing_id=row["listing"],
        district_name=row["district_name"],
        action=row["action"],
        title=title,
        message=row["message"],
        detail="；".join(details),
        due=due,
        occurred_at=row["occurred_at"],
        link=LINKS.get(row["action"], f"/provider/applications/{row['listing']}"),
    )


async def _reminders(organisation_id: int, today: date) -> list[InboxItem]:
    rows = await (
        Listing.select(
            Listing.id,
            Listing.supplement_due,
            Listing.district.name.as_alias("district_name"),
            Listing.district.policy.as_alias("policy"),
        )
        .where(
            (Listing.organisation == organisation_id)
            & (Listing.state == State.needs_supplement.value)
            & Listing.supplement_due.is_not_null()
        )
        .output(load_json=True)
    )
    items = []
    now = timesource.now()
    for row in rows:
        due = row["supplement_due"]
        policy = row["policy"] if isinstance(row["policy"], dict) else None
        calendar = calendar_for(effective_policy(policy))
        if today <= due <= calendar.add_working_days(today, REMINDER_WORKING_DAYS):
            items.append(
                InboxItem(
                    kind="reminder",
                    listing_id=row["id"],
                    district_name=row["district_name"],
                    action="supplement_due",
                    title=f"补正材料将于{due.month}月{due.day}日截止",
                    message="",
                    detail=f"请在{zh(due)}前提交补正材料，逾期申请将自动撤回",
                    due=due,
                    occurred_at=now,
                )
            )
    return items


async def _given(organisation_id: int, today: date) -> list[InboxItem]:
    """The reminders the clock gave the provider (registry/oversight/reminders.py) whose day
    has not passed, newest first."""
    rows = await (
        Reminder.select()
        .where((Reminder.organisation == organisation_id) & (Reminder.due >= today))
        .order_by(Reminder.id, ascending=False)
    )
    listings = sorted({row["listing"] for row in rows if row["listing"] is not None})
    districts = {
        row["id"]: row["district_name"]
        for row in await Listing.select(
            Listing.id, Listing.district.name.as_alias("district_name")
        ).where(Listing.id.is_in(listings or [-1]))
    }
    return [
        InboxItem(
            kind="reminder",
            listing_id=row["listing"] or 0,
            district_name=districts.get(row["listing"], ""),
            action=row["kind"],
            title=row["title"],
            message="",
            detail=row["body"],
            due=row["due"],
            occurred_at=row["created_at"],
            link=REMINDER_LINKS.get(row["kind"], f"/provider/applications/{row['listing']}"),
        )
        for row in rows
    ]


def _messages_of(organisation_id: int) -> Any:
    return (AuditEvent.listing.organisation == organisation_id) & AuditEvent.action.is_in(
        list(TITLES)
    )


async def inbox_for(
    organisation_id: int, today: date, limit: int = 100, offset: int = 0
) -> list[InboxItem]:
    """Reminders first (on the first page only), then the bureau's messages, newest first."""
    rows = await (
        AuditEvent.select(
            AuditEvent.listing,
            AuditEvent.action,
            AuditEvent.message,
            AuditEvent.payload,
            AuditEvent.occurred_at,
            AuditEvent.listing.district.name.as_alias("district_name"),
        )
        .where(_messages_of(organisation_id))
        .order_by(AuditEvent.id, ascending=False)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
    )
    reminders = []
    if offset == 0:
        reminders = await _reminders(organisation_id, today)
        # A deadline the live reminder already names is not named twice.
        named = {(item.listing_id, item.due) for item in reminders}
        reminders += [
            item
            for item in await _given(organisation_id, today)
            if (item.listing_id, item.due) not in named
        ]
    return reminders + [_message(row) for row in rows]


async def message_count(organisation_id: int) -> int:
    """How many messages the inbox holds in all (its pages count these, not the reminders)."""
    return await AuditEvent.count().where(_messages_of(organisation_id))


# --- a listing's history and next step, as the provider sees them ----------------------------

# Saving the form is frequent and says nothing about the application's standing.
QUIET_ACTIONS = frozenset({"application.form_saved"})


class HistoryEntry(msgspec.Struct):
    """One event of a listing's history: when, what, and the bureau's message (never its note)."""

    occurred_at: datetime
    action: str
    label: str
    state_label: str
    message: str


async def history(listing_id: int) -> list[HistoryEntry]:
    """The listing's audit events, oldest first, without internal notes."""
    rows = await (
        AuditEvent.select(
            AuditEvent.occurred_at, AuditEvent.action, AuditEvent.to_state, AuditEvent.message
        )
        .where(AuditEvent.listing == listing_id)
        .order_by(AuditEvent.id)
    )
    entries = []
    for row in rows:
        if row["action"] in QUIET_ACTIONS:
            continue
        entries.append(
            HistoryEntry(
                occurred_at=row["occurred_at"],
                action=row["action"],
                label=event_label(row["action"]),
                state_label=state_label(row["to_state"]),
                message=row["message"],
            )
        )
    return entries


def next_step(listing: dict[str, Any], today: date) -> str:
    """What the provider should do or expect next, in one line."""
    state = State(listing["state"])
    due = listing.get("supplement_due")
    if state == State.draft:
        return "填写申请表、上传材料后提交"
    if state == State.needs_supplement:
        return f"请在{zh(due)}前提交补正材料" if due else "请提交补正材料"
    if state == State.in_public_notice and listing.get("notice_end"):
        return f"公示至{zh(listing['notice_end'])}，期满无异议即入库"
    if state in (State.listed, State.under_rectification) and listing.get("valid_until"):
        extra = ""
        if state == State.under_rectification and listing.get("rectification_due"):
            extra = f"；请在{zh(listing['rectification_due'])}前完成整改"
        return f"入库有效期至{zh(listing['valid_until'])}{extra}"
    if state == State.rejected:
        appeal_due = listing.get("appeal_due")
        if appeal_due and appeal_due >= today and not listing.get("appealed"):
            return f"可在{zh(appeal_due)}前申请复核"
        return "可重新提出申请"
    if state == State.exited and listing.get("banned_until"):
        return f"禁止重新申请至{zh(listing['banned_until'])}"
    return NEXT_STEPS.get(state, "")


NEXT_STEPS = {
    State.submitted: "等待区教育局形式审查",
    State.in_review: "区教育局资格审查中",
    State.pending_approval: "等待区教育局负责人审批",
    State.suspended: "暂停中，等待调查结论",
    State.exited: "可重新提出申请",
    State.withdrawn: "可重新提出申请",
}
