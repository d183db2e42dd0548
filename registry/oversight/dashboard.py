"""A district's supervision figures (policy clause 15): the whitelist, the flow of work, what is
due, complaints and incidents, evaluation.

Every figure is counted here from the tables for a set of districts, so the district dashboard
(one district), the city's side-by-side view and the supervision report show the same numbers.
What is due comes from workflows.deadlines, which the clock itself uses.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count

from registry.evaluation.gather import EVALUATED_STATES
from registry.reference import CATEGORY_LABELS
from registry.settings import get_settings
from registry.tables import (
    AuditEvent,
    Complaint,
    ComplaintStatus,
    CycleStatus,
    District,
    EvaluationCycle,
    EvaluationResult,
    Incident,
    Inspection,
    Listing,
    ResultStatus,
    SchoolFeedback,
    SelfReport,
    WhitelistEntry,
)
from workflows import deadlines
from workflows.deadlines import Deadline
from workflows.policy import calendar_for, effective_policy
from workflows.scoring import GRADE_LABELS, GRADE_ORDER
from workflows.states import ExitReason, State

# How far ahead each list looks.
NOTICE_DAYS = 7
DUE_SOON_DAYS = 7
EXPIRY_DAYS = 90
DEADLINE_DAYS = 14
MONTHS = 12
# How far before a period a submission is looked for, to time a decision made in the period.
PAIRING_DAYS = 366
# A decision ends the review an application's submission started.
DECISIONS = ("approve", "reject")
OPEN_COMPLAINTS = (ComplaintStatus.received.value, ComplaintStatus.investigating.value)
UNGRADED = "ungraded"


@dataclass(frozen=True)
class Figure:
    """One number, its name and the list behind it."""

    key: str
    label: str
    value: int
    href: str = ""


@dataclass(frozen=True)
class MonthFlow:
    """One month's applications received and decided, listings added and exits by reason."""

    month: str  # 2026-11
    received: int
    decided: int
    listed: int
    exits: Mapping[str, int]

    @property
    def exited(self) -> int:
        """Exits of every reason."""
        return sum(self.exits.values())


@dataclass(frozen=True)
class CycleProgress:
    """An open evaluation cycle and how far its inputs are."""

    id: int
    name: str
    ends_on: date
    self_report_due: date
    evaluated: int
    with_feedback: int
    inspected: int
    self_reported: int


@dataclass
class Dashboard:
    """Everything the district dashboard shows, for one or more districts."""

    today: date
    by_state: list[Figure]
    by_category: list[Figure]
    by_grade: list[Figure]
    last_cycle_grades: list[Figure]
    last_cycle_name: str
    months: list[MonthFlow]
    median_review_days: float | None
    reviews_measured: int
    notices_ending: list[Deadline]
    supplements_due: list[Deadline]
    rectifications_due: list[Deadline]
    expiring: list[Deadline]
    deadlines: list[Deadline]
    open_complaints: int
    open_incidents: int
    cycles: list[CycleProgress]
    whitelist_size: int

    def overdue(self) -> list[Deadline]:
        """Deadlines whose last day has passed (the clock acts on them at its next run)."""
        return [d for d in self.deadlines if d.due < self.today]


def _month(moment: datetime | date, zone: ZoneInfo) -> str:
    day = moment.astimezone(zone).date() if isinstance(moment, datetime) else moment
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class Period:
    """The days the flow figures count (applications, decisions, listings, exits, complaints),
    both ends included."""

    start: date
    end: date

    @classmethod
    def months_to(cls, today: date, count: int = MONTHS) -> Period:
        """The dashboards' period: `count` calendar months, the last being today's, to today."""
        year, month = today.year, today.month - (count - 1)
        while month < 1:
            year, month = year - 1, month + 12
        return cls(date(year, month, 1), today)

    def month_keys(self) -> list[str]:
        """Its months, oldest first (2026-11)."""
        keys = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            keys.append(f"{year:04d}-{month:02d}")
            year, month = (year, month + 1) if month < 12 else (year + 1, 1)
        return keys

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Its first moment and the moment after it, in the registry's time zone."""
        start = datetime.combine(self.start, datetime.min.time(), zone)
        return start, datetime.combine(self.end + timedelta(days=1), datetime.min.time(), zone)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def _console(codes: list[str], **query: str) -> str:
    """The review console's list behind a figure (the district named when there is one)."""
    if len(codes) == 1:
        query["district"] = codes[0]
    return "/bureau?" + urlencode(query)


def _whitelist(codes: list[str], **query: str) -> str:
    """The public whitelist search behind a figure of the whitelist."""
    return "/?" + urlencode([*(("district", code) for code in codes), *query.items()])


def _evaluation(codes: list[str]) -> str:
    return "/bureau/evaluation" + (f"?district={codes[0]}" if len(codes) == 1 else "")


async def _by_state(ids: list[int], codes: list[str]) -> list[Figure]:
    rows = await (
        Listing.select(Listing.state, Count())
        .where(Listing.district.is_in(ids) & (Listing.state != State.draft.value))
        .group_by(Listing.state)
    )
    found = {r["state"]: int(r["count"]) for r in rows}
    return [
        Figure(s.value, s.label, found.get(s.value, 0), _console(codes, state=s.value))
        for s in State
        if s != State.draft
    ]


async def _entries(codes: list[str]) -> list[dict[str, Any]]:
    return await WhitelistEntry.select(
        WhitelistEntry.categories, WhitelistEntry.latest_grade
    ).where(WhitelistEntry.district_code.is_in(codes))


def _by_category(entries: Iterable[Mapping[str, Any]], codes: list[str]) -> list[Figure]:
    counts: Counter[str] = Counter()
    for entry in entries:
        counts.update(set(str(entry["categories"] or "").split()))
    return [
        Figure(code, label, counts.get(code, 0), _whitelist(codes, category=code))
        for code, label in CATEGORY_LABELS.items()
    ]


def _grades(grades: Iterable[str | None], href: Callable[[str], str]) -> list[Figure]:
    counts = Counter(g if g in GRADE_LABELS else UNGRADED for g in grades)
    figures = [Figure(g, GRADE_LABELS[g], counts.get(g, 0), href(g)) for g in GRADE_ORDER]
    return [*figures, Figure(UNGRADED, "未评定", counts.get(UNGRADED, 0), href(UNGRADED))]


async def _last_cycle(ids: list[int], codes: list[str]) -> tuple[str, list[Figure]]:
    """The grades confirmed in each district's latest closed cycle."""
    cycles = await (
        EvaluationCycle.select(EvaluationCycle.id, EvaluationCycle.name, EvaluationCycle.district)
        .where(
            EvaluationCycle.district.is_in(ids)
            & (EvaluationCycle.status == CycleStatus.closed.value)
        )
        .order_by(EvaluationCycle.closed_at, ascending=False)
    )
    latest: dict[int, dict[str, Any]] = {}
    for cycle in cycles:
        latest.setdefault(cycle["district"], cycle)
    if not latest:
        return "", _grades((), lambda _: _evaluation(codes))
    rows = await EvaluationResult.select(EvaluationResult.grade).where(
        EvaluationResult.cycle.is_in([c["id"] for c in latest.values()])
        & (EvaluationResult.status == ResultStatus.confirmed.value)
    )
    names = sorted({c["name"] for c in latest.values()})
    href = (
        f"/bureau/evaluation/{next(iter(latest.values()))['id']}"
        if len(latest) == 1
        else _evaluation(codes)
    )
    return "、".join(names), _grades((r["grade"] for r in rows), lambda _: href)


async def _flow(
    ids: list[int], period: Period, zone: ZoneInfo
) -> tuple[list[MonthFlow], list[Any]]:
    """Monthly counts from the audit trail (a resubmission is not a new application); and the
    events, from a year before the period on, that pair a decision with its submission."""
    since, until = period.bounds(zone)
    events = await (
        AuditEvent.select(
            AuditEvent.listing,
            AuditEvent.listing.district.as_alias("district"),
            AuditEvent.action,
            AuditEvent.occurred_at,
        )
        .where(
            AuditEvent.listing.district.is_in(ids)
            & AuditEvent.action.is_in(["submit", *DECISIONS, "end_notice", "import"])
            & (AuditEvent.occurred_at >= since - timedelta(days=PAIRING_DAYS))
            & (AuditEvent.occurred_at < until)
        )
        .order_by(AuditEvent.id)
    )
    exits = await Listing.select(Listing.exited_at, Listing.exit_reason).where(
        Listing.district.is_in(ids)
        & (Listing.state == State.exited.value)
        & (Listing.exited_at >= since)
        & (Listing.exited_at < until)
    )
    received: Counter[str] = Counter()
    decided: Counter[str] = Counter()
    listed: Counter[str] = Counter()
    for event in events:
        if event["occurred_at"] < since:
            continue  # only there to pair a decision with its submission
        key = _month(event["occurred_at"], zone)
        if event["action"] == "submit":
            received[key] += 1
        elif event["action"] in DECISIONS:
            decided[key] += 1
        else:
            listed[key] += 1
    exited: dict[str, Counter[str]] = defaultdict(Counter)
    for row in exits:
        exited[_month(row["exited_at"], zone)][row["exit_reason"] or ExitReason.other.value] += 1
    flows = [
        MonthFlow(key, received[key], decided[key], listed[key], dict(exited[key]))
        for key in period.month_keys()
    ]
    return flows, events


async def _review_days(
    ids: list[int], events: list[Mapping[str, Any]], period: Period, zone: ZoneInfo
) -> list[int]:
    """Working days from the latest submission to the decision, for each decision in the
    period."""
    policies = {
        row["id"]: row["policy"]
        for row in await District.select(District.id, District.policy)
        .where(District.id.is_in(ids))
        .output(load_json=True)
    }
    calendars = {d: calendar_for(effective_policy(p)) for d, p in policies.items()}
    submitted: dict[int, date] = {}
    days: list[int] = []
    for event in events:
        day = event["occurred_at"].astimezone(zone).date()
        if event["action"] == "submit":
            submitted[event["listing"]] = day
        elif event["action"] in DECISIONS and event["listing"] in submitted:
            calendar = calendars[event["district"]]
            start = submitted.pop(event["listing"])
            if day in period:
                days.append(calendar.working_days_between(start, day))
    return days


async def _cycles(ids: list[int]) -> list[CycleProgress]:
    cycles = (
        await EvaluationCycle.select(
            EvaluationCycle.id,
            EvaluationCycle.name,
            EvaluationCycle.district,
            EvaluationCycle.ends_on,
            EvaluationCycle.self_report_due,
        )
        .where(
            EvaluationCycle.district.is_in(ids) & (EvaluationCycle.status == CycleStatus.open.value)
        )
        .order_by(EvaluationCycle.ends_on)
    )
    progress = []
    for cycle in cycles:
        evaluated = await Listing.count().where(
            (Listing.district == cycle["district"])
            & Listing.state.is_in([s.value for s in EVALUATED_STATES])
        )
        progress.append(
            CycleProgress(
                id=cycle["id"],
                name=cycle["name"],
                ends_on=cycle["ends_on"],
                self_report_due=cycle["self_report_due"],
                evaluated=evaluated,
                with_feedback=await _distinct_listings(SchoolFeedback, cycle["id"]),
                inspected=await _distinct_listings(Inspection, cycle["id"]),
                self_reported=await _distinct_listings(SelfReport, cycle["id"]),
            )
        )
    return progress


async def _distinct_listings(table: Any, cycle_id: int) -> int:
    rows = await table.select(table.listing).where(table.cycle == cycle_id).distinct()
    return len(rows)


async def dashboard(
    districts: Collection[Mapping[str, Any]], today: date, period: Period | None = None
) -> Dashboard:
    """The figures of `districts` ([{id, code, name}]) as of `today`; the flows over `period`
    (by default the twelve months to today)."""
    period = period or Period.months_to(today)
    ids = [int(d["id"]) for d in districts]
    codes = [str(d["code"]) for d in districts]
    zone = ZoneInfo(get_settings().timezone)
    entries = await _entries(codes)
    flows, events = await _flow(ids, period, zone)
    review_days = await _review_days(ids, events, period, zone)
    ahead = await deadlines.due_by(today + timedelta(days=EXPIRY_DAYS), districts=ids)
    by_column: dict[str, list[Deadline]] = defaultdict(list)
    for deadline in ahead:
        by_column[deadline.transition.due or ""].append(deadline)

    def within(column: str, days: int) -> list[Deadline]:
        last = today + timedelta(days=days)
        return sorted((d for d in by_column[column] if d.due <= last), key=_by_day)

    cycle_name, cycle_grades = await _last_cycle(ids, codes)
    return Dashboard(
        today=today,
        by_state=await _by_state(ids, codes),
        by_category=_by_category(entries, codes),
        by_grade=_grades(
            (e["latest_grade"] for e in entries),
            lambda g: _whitelist(codes, grade=g) if g != UNGRADED else _whitelist(codes),
        ),
        last_cycle_grades=cycle_grades,
        last_cycle_name=cycle_name,
        months=flows,
        median_review_days=statistics.median(review_days) if review_days else None,
        reviews_measured=len(review_days),
        notices_ending=within("notice_end", NOTICE_DAYS),
        supplements_due=within("supplement_due", DUE_SOON_DAYS),
        rectifications_due=within("rectification_due", DUE_SOON_DAYS),
        expiring=within("valid_until", EXPIRY_DAYS),
        deadlines=sorted(
            (d for d in ahead if d.due <= today + timedelta(days=DEADLINE_DAYS)), key=_by_day
        ),
        open_complaints=await Complaint.count().where(
            Complaint.listing.district.is_in(ids) & Complaint.status.is_in(list(OPEN_COMPLAINTS))
        ),
        open_incidents=await Incident.count().where(
            Incident.listing.district.is_in(ids) & Incident.resolved_at.is_null()
        ),
        cycles=await _cycles(ids),
        whitelist_size=len(entries),
    )


def _by_day(deadline: Deadline) -> tuple[date, int]:
    return (deadline.due, deadline.listing_id)
