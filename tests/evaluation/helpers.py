"""Building evaluation scenes: listed providers, engagements and an open cycle.

The cycle's timeline around the suite's NOW (Monday 2026-11-16): inputs are given at NOW,
self-reports are due on 2026-11-20 and the cycle ends on 2026-11-30, so a test closes it at
CLOSE_AT (Tuesday 2026-12-01), when every deadline has passed. A provisional result sent then
may be answered until 2026-12-08 (five working days); a test decides it at DECIDE_AT.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from registry.tables import Engagement, Organisation, School, SchoolFeedback, SelfReport
from tests.cast import CAST, HEPING, T0
from tests.factories import at, new_listing
from workflows import engine, timesource
from workflows.actors import system_actor

TERM = "2026-2027学年第一学期"
CYCLE = {
    "name": "2026年秋季学期",
    "term": TERM,
    "starts_on": "2026-09-01",
    "ends_on": "2026-11-30",
    "self_report_due": "2026-11-20",
}
CLOSE_AT = at("2026-12-01T10:00:00")  # every input deadline has passed
ANSWER_DUE = "2026-12-08"  # the fifth working day after CLOSE_AT
DECIDE_AT = at("2026-12-09T10:00:00")  # the answer window has closed
EARLY = {"early_reason": "区教育局统一安排提前结束本学期评估"}


@contextmanager
def after_deadlines() -> Iterator[None]:
    """The rest of the block happens on CLOSE_AT, after the cycle's input deadlines."""
    with timesource.frozen(CLOSE_AT):
        yield


@contextmanager
def after_answers() -> Iterator[None]:
    """The rest of the block happens on DECIDE_AT, when the providers' answer window is over."""
    with timesource.frozen(DECIDE_AT):
        yield


FULL_MARKS = {
    "teaching_quality": 95,
    "punctuality": 95,
    "safety_management": 95,
    "communication": 95,
}
SELF_REPORT = {
    "service_summary": "本学期在和平区三所小学开展篮球课后服务，每周两次，共计四十课时。",
    "schools_served": 3,
    "students_served": 120,
    "safety_measures": "每次课前检查场地器材，配备急救箱，教练持急救证上岗。",
    "staff_changes": "无变动",
    "fee_compliance": True,
    "no_subject_tutoring": True,
    "improvement_plan": "加强与班主任沟通，按时反馈学生出勤和训练情况。",
}


async def listed_provider(name: str, district: str = HEPING) -> int:
    """A provider imported straight onto a district's whitelist; returns the listing id."""
    rows = await Organisation.insert(Organisation(name=name)).returning(Organisation.id)
    listing_id = await new_listing(rows[0]["id"], CAST.districts[district])
    await engine.fire(listing_id, "import", system_actor("import:test"), now=T0)
    return listing_id


async def engagement(
    listing_id: int, school: str = "heping_primary", school_id: int | None = None, **changes: Any
) -> int:
    """An engagement of the listing by a cast school (or the school `school_id`)."""
    values: dict[str, Any] = {
        "school": school_id or CAST.schools[school],
        "listing": listing_id,
        "courses": ["少儿篮球"],
        "term": TERM,
        "grade_band": "upper_primary",
        "students": 100,
        "weekly_schedule": [{"weekday": 1, "start": "16:30", "end": "18:30"}],
        "fee_per_student_month": 150,
        **changes,
    }
    rows = await Engagement.insert(Engagement(**values)).returning(Engagement.id)
    return int(rows[0]["id"])


def feedback(
    scores: dict[str, int] | None = None, tallies: tuple[int, int, int, int] | None = None
) -> dict[str, Any]:
    """A school's feedback body."""
    body: dict[str, Any] = {"scores": scores if scores is not None else FULL_MARKS}
    if tallies is not None:
        keys = ("very_satisfied", "satisfied", "neutral", "dissatisfied")
        body["tallies"] = dict(zip(keys, tallies, strict=True))
    return body


async def rated_by_more_schools(
    cycle_id: int, listing_id: int, count: int, scores: dict[str, int], tallies: tuple[int, ...]
) -> None:
    """Feedback from `count` further schools of the district (the cast has one per district),
    stored as a school's own feedback is: one row per engagement."""
    keys = ("very_satisfied", "satisfied", "neutral", "dissatisfied")
    for index in range(count):
        rows = await School.insert(
            School(
                name=f"天津市和平区第{index + 2}实验小学",
                district=CAST.districts[HEPING],
                level="primary",
            )
        ).returning(School.id)
        school_id = int(rows[0]["id"])
        engagement_id = await engagement(listing_id, school_id=school_id)
        await SchoolFeedback.insert(
            SchoolFeedback(
                key=f"{cycle_id}:{engagement_id}",
                cycle=cycle_id,
                engagement=engagement_id,
                listing=listing_id,
                school=school_id,
                scores=scores,
                **dict(zip(keys, tallies, strict=True)),
            )
        )


async def self_report_on_time(cycle_id: int, listing_id: int) -> None:
    """A complete self-report submitted now (for providers the cast has no user for)."""
    await SelfReport.insert(
        SelfReport(
            key=f"{cycle_id}:{listing_id}",
            cycle=cycle_id,
            listing=listing_id,
            body=SELF_REPORT,
            complete=True,
            submitted_at=timesource.now(),
        )
    )


def today_iso() -> str:
    return timesource.local_today().isoformat()
