"""A listing's public history and the whitelist as of a past date, read from the audit trail."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from registry.public.projection import approved_courses
from registry.settings import get_settings
from registry.tables import AuditEvent, Listing
from workflows.scoring import GRADE_LABELS
from workflows.states import PUBLIC_STATES, exit_reason_label

PUBLIC = frozenset(s.value for s in PUBLIC_STATES)
# Transitions the public may know of, with their public wording. Review steps (accept,
# recommend, reject, send_back…) and objections stay inside the bureau.
PUBLIC_STEPS: dict[str, tuple[str, str]] = {
    "submit": ("applied", "提交入库申请"),
    "end_notice": ("listed", "公示期满，列入白名单"),
    "import": ("listed", "列入白名单（原有白名单导入）"),
    "put_under_rectification": ("rectification", "责令整改"),
    "close_rectification": ("rectification_closed", "整改完成"),
    "suspend": ("suspended", "暂停入库资格"),
    "reinstate": ("reinstated", "恢复入库资格"),
    "renew": ("renewed", "续期"),
    "exit_voluntary": ("exited", "退出白名单"),
    "revoke": ("exited", "撤销入库，退出白名单"),
    "fail_evaluation": ("exited", "评估不合格，退出白名单"),
    "lapse_rectification": ("exited", "整改逾期，退出白名单"),
    "expire": ("exited", "有效期届满，退出白名单"),
}
EVALUATION_PREFIX = "evaluation."


def timezone() -> ZoneInfo:
    """The registry's time zone (Asia/Shanghai)."""
    return ZoneInfo(get_settings().timezone)


def local_date(moment: datetime) -> date:
    """The calendar day of a moment in the registry's time zone."""
    return moment.astimezone(timezone()).date()


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD date (the as-of question), or None when missing or malformed."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def parse_moment(text: str | None) -> datetime | None:
    """An ISO-8601 time (naive means Asia/Shanghai), or None when missing or malformed."""
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone())
    return moment


def end_of_day(day: date) -> datetime:
    """The first instant after `day` ends in Asia/Shanghai, in UTC (an exclusive bound)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=timezone()).astimezone(UTC)


def moment_of(value: Any) -> datetime:
    """A stored timestamp as an aware datetime."""
    # SQLite hands back naive UTC in some paths; PostgreSQL an aware datetime.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def changed_fields(payload: Any) -> dict[str, Any]:
    """The listing columns an audit event's transition set."""
    return (payload or {}).get("set") or {} if isinstance(payload, dict) else {}


@dataclass(frozen=True)
class Step:
    """One public step of a listing's history."""

    listing_id: int
    kind: str
    label: str
    on: date
    detail: str = ""
    exit_reason: str | None = None


def _evaluation_detail(payload: dict[str, Any]) -> str:
    # Evaluations are not built yet: read a grade wherever a future event is likely to put it.
    grade = (
        payload.get("grade")
        or changed_fields(payload).get("latest_grade")
        or changed_fields(payload).get("grade")
    )
    grade = grade or (payload.get("params") or {}).get("grade")
    # Stored as a code (excellent…): the public reads the grade's Chinese name.
    return f"评估等级：{GRADE_LABELS.get(str(grade), str(grade))}" if grade else ""


def step_of(event: dict[str, Any]) -> Step | None:
    """The public step an audit event stands for, or None for an internal one."""
    action = str(event["action"])
    on = local_date(moment_of(event["occurred_at"]))
    payload = event["payload"] if isinstance(event["payload"], dict) else {}
    if action.startswith(EVALUATION_PREFIX):
        return Step(event["listing"], "evaluated", "评估", on, _evaluation_detail(payload))
    if action not in PUBLIC_STEPS:
        return None
    kind, label = PUBLIC_STEPS[action]
    changed = changed_fields(payload)
    detail, reason = "", None
    if kind == "exited":
        reason = changed.get("exit_reason")
        detail = exit_reason_label(reason)
    elif kind in ("listed", "renewed") and changed.get("valid_until"):
        until = date.fromisoformat(str(changed["valid_until"]))
        detail = f"有效期至{until.year}年{until.month}月{until.day}日"
    return Step(event["listing"], kind, label, on, detail, reason)


async def _events(
    listing_ids: Sequence[int], before: datetime | None = None
) -> list[dict[str, Any]]:
    if not listing_ids:
        return []
    where = AuditEvent.listing.is_in(list(listing_ids))
    if before is not None:
        where = where & (AuditEvent.occurred_at < before)
    return await (
        AuditEvent.select(
            AuditEvent.id,
            AuditEvent.listing,
            AuditEvent.action,
            AuditEvent.from_state,
            AuditEvent.to_state,
            AuditEvent.occurred_at,
            AuditEvent.payload,
        )
        .where(where)
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )


@dataclass(frozen=True)
class ListingHistory:
    """The public history of one listing (one district)."""

    listing_id: int
    district_code: str
    district_name: str
    steps: list[Step]


async def organisation_history(organisation_id: int) -> list[ListingHistory]:
    """Every listing of an organisation that ever reached the whitelist, with its public steps.

    Applications that never got listed (rejected, withdrawn, in review) leave no public trace.
    """
    listings = await (
        Listing.select(
            Listing.id,
            Listing.district.code.as_alias("district_code"),
            Listing.district.name.as_alias("district_name"),
        )
        .where(Listing.organisation == organisation_id)
        .order_by(Listing.id)
    )
    events = await _events([row["id"] for row in listings])
    steps: dict[int, list[Step]] = {}
    for event in events:
        step = step_of(event)
        if step is not None:
            steps.setdefault(step.listing_id, []).append(step)
    histories = []
    for row in listings:
        own = steps.get(row["id"], [])
        if any(s.kind == "listed" for s in own):
            histories.append(
                ListingHistory(row["id"], row["district_code"], row["district_name"], own)
            )
    return histories


@dataclass(frozen=True)
class AsOfEntry:
    """A listing that was on a district's public whitelist on a date."""

    listing_id: int
    organisation_id: int
    name: str
    district: str
    district_name: str
    categories: list[str]
    state: str
    courses: list[str]
    valid_until: date | None


async def on_whitelist_on(
    day: date,
    districts: Sequence[str] = (),
    categories: Sequence[str] = (),
    organisation_id: int | None = None,
) -> list[AsOfEntry]:
    """The listings public (listed or under rectification) at the end of `day` in Asia/Shanghai.

    Each listing's state is the `to_state` of its last transition before the day ended; its
    validity the last `valid_until` a transition set by then.
    """
    where = (AuditEvent.occurred_at < end_of_day(day)) & AuditEvent.to_state.is_not_null()
    where = where & AuditEvent.listing.is_not_null()
    if districts:
        where = where & AuditEvent.listing.district.code.is_in(list(districts))
    if organisation_id is not None:
        where = where & (AuditEvent.listing.organisation == organisation_id)
    events = await (
        AuditEvent.select(AuditEvent.listing, AuditEvent.to_state, AuditEvent.payload)
        .where(where)
        .order_by(AuditEvent.id)
        .output(load_json=True)
    )
    state: dict[int, str] = {}
    valid_until: dict[int, str] = {}
    for event in events:
        state[event["listing"]] = event["to_state"]
        until = changed_fields(event["payload"]).get("valid_until")
        if until:
            valid_until[event["listing"]] = str(until)
    public = [listing for listing, value in state.items() if value in PUBLIC]
    if not public:
        return []
    rows = await (
        Listing.select(
            Listing.id,
            Listing.form,
            Listing.course_decisions,
            Listing.organisation.id.as_alias("organisation_id"),
            Listing.organisation.name.as_alias("organisation_name"),
            Listing.district.code.as_alias("district_code"),
            Listing.district.name.as_alias("district_name"),
        )
        .where(Listing.id.is_in(public))
        .output(load_json=True)
    )
    wanted = set(categories)
    entries = []
    for row in rows:
        form = row["form"] if isinstance(row["form"], dict) else {}
        codes = [str(c) for c in form.get("categories", [])]
        if wanted and not wanted.intersection(codes):
            continue
        until = valid_until.get(row["id"])
        entries.append(
            AsOfEntry(
                listing_id=row["id"],
                organisation_id=row["organisation_id"],
                name=row["organisation_name"],
                district=row["district_code"],
                district_name=row["district_name"],
                categories=codes,
                state=state[row["id"]],
                courses=[
                    str(c.get("name", ""))
                    for c in approved_courses(form, row["course_decisions"] or {})
                ],
                valid_until=date.fromisoformat(until) if until else None,
            )
        )
    entries.sort(key=lambda e: (e.district, e.name, e.listing_id))
    return entries
