"""Seconds (and peak memory) to close an evaluation cycle and score every listing in it.

    python benchmarks/evaluation.py [--listings 10000] [--rounds 3]

Builds a fresh migrated database (SQLite under a temporary folder by default, or the empty
database named by REGISTRY_DATABASE_URL) with N listed providers in one district and
realistic inputs for one cycle: one to three engaged schools' feedback with parent-survey
tallies per listing, inspections for most, self-reports (on time, late, incomplete, missing),
upheld and dismissed complaints, minor/serious/major incidents and fee violations. Then it
closes the cycle through `registry.evaluation.cycles.close_cycle` — the same code the API
calls — and times it; between rounds the results are deleted and the cycle reopened.
Target: <= 10 s for 10,000 listings on SQLite, with the rules of evidence and the hearings
opened for the adverse results (one audit event each) inside the close.

Then, for the pages that follow: the time to read what the closed cycle's page shows (every
result's status, the grade distribution, the batch plan), and the time to confirm the whole
batch that page offers (each renewal fires through the engine, one listing at a time).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
_TMP = Path(tempfile.mkdtemp(prefix="registry-bench-"))
os.environ.setdefault("REGISTRY_VAR_DIR", str(_TMP))
os.environ.setdefault("REGISTRY_DATABASE_URL", f"sqlite:///{_TMP / 'bench.sqlite'}")

from faker import Faker  # noqa: E402

from registry.cli import migrate_database  # noqa: E402
from registry.evaluation.cycles import close_cycle, staff_cycle  # noqa: E402
from registry.evaluation.decisions import batch_plan, confirm_batch  # noqa: E402
from registry.pages.evaluation.cycles import closed_context  # noqa: E402
from registry.tables import (  # noqa: E402
    Complaint,
    CycleStatus,
    District,
    Engagement,
    EvaluationCycle,
    EvaluationResult,
    Hearing,
    Incident,
    Inspection,
    Listing,
    Organisation,
    School,
    SchoolFeedback,
    SelfReport,
)
from schemas import city_default_rubric  # noqa: E402
from workflows import timesource  # noqa: E402
from workflows.actors import Actor, Grant  # noqa: E402
from workflows.states import Role, State  # noqa: E402

TERM = "2026-2027学年第一学期"
STARTS, ENDS, DUE = date(2026, 9, 1), date(2027, 1, 20), date(2026, 12, 31)
# The close runs the day after the last input deadline, as the rules require.
CLOSE_AT = datetime(2027, 1, 21, 2, tzinfo=UTC)
BATCH = 500
WORDS = ("篮球", "足球", "书法", "国画", "编程", "机器人", "舞蹈", "合唱", "围棋", "陶艺")
QUESTIONS = ("teaching_quality", "punctuality", "safety_management", "communication")


async def _insert(table: Any, rows: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for start in range(0, len(rows), BATCH):
        out += await table.insert(*rows[start : start + BATCH]).returning(table.id)
    return out


def _tallies(rng: random.Random, students: int, happy: float) -> dict[str, int]:
    answered = rng.randint(students // 2, students)
    content = int(answered * happy)
    very = rng.randint(0, content)
    rest = answered - content
    neutral = rng.randint(0, rest)
    return {
        "very_satisfied": very,
        "satisfied": content - very,
        "neutral": neutral,
        "dissatisfied": rest - neutral,
    }


async def build(listings: int, seed: int) -> int:
    """A district with `listings` listed providers and one open cycle full of inputs."""
    rng = random.Random(seed)
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    district = await District.select(District.id).where(District.code == "120101").first()
    district_id = district["id"]
    orgs = await _insert(
        Organisation,
        [
            Organisation(name=f"{fake.city_name()}{rng.choice(WORDS)}培训中心{n:05d}")
            for n in range(listings)
        ],
    )
    now = datetime.now(UTC)
    listing_ids = [
        r["id"]
        for r in await _insert(
            Listing,
            [
                Listing(
                    organisation=o["id"],
                    district=district_id,
                    state=State.listed.value,
                    listed_at=now,
                    valid_until=date(2027, 8, 31),
                )
                for o in orgs
            ],
        )
    ]
    schools = [
        r["id"]
        for r in await _insert(
            School,
            [School(name=f"{fake.city_name()}第{n}小学", district=district_id) for n in range(200)],
        )
    ]
    cycle = await EvaluationCycle.insert(
        EvaluationCycle(
            district=district_id,
            name="2026年秋季学期",
            term=TERM,
            starts_on=STARTS,
            ends_on=ENDS,
            self_report_due=DUE,
            rubric=city_default_rubric(),
        )
    ).returning(EvaluationCycle.id)
    cycle_id = cycle[0]["id"]

    engagements, feedback, inspections, reports, complaints, incidents = [], [], [], [], [], []
    plan: list[tuple[int, int, float]] = []
    for listing_id in listing_ids:
        # Most providers are liked; a tail is not (low satisfaction exits).
        happy = rng.choice((0.97, 0.95, 0.92, 0.9, 0.88, 0.85, 0.83, 0.72))
        for school in rng.sample(schools, rng.randint(1, 3)):
            plan.append((listing_id, school, happy))
            engagements.append(
                Engagement(
                    school=school,
                    listing=listing_id,
                    courses=[rng.choice(WORDS)],
                    term=TERM,
                    grade_band="upper_primary",
                    students=rng.randint(15, 60),
                    weekly_schedule=[{"weekday": 2, "start": "16:30", "end": "18:30"}],
                    fee_per_student_month=150,
                )
            )
        if rng.random() < 0.85:
            inspections.append(
                Inspection(
                    key=f"{cycle_id}:{listing_id}",
                    cycle=cycle_id,
                    listing=listing_id,
                    score=rng.randint(45, 100),
                    fee_violation=rng.random() < 0.005,
                    inspected_on=date(2026, 11, 10),
                )
            )
        kind = rng.random()
        if kind < 0.9:
            reports.append(
                SelfReport(
                    key=f"{cycle_id}:{listing_id}",
                    cycle=cycle_id,
                    listing=listing_id,
                    body={"service_summary": "略"},
                    complete=kind < 0.8,
                    submitted_at=datetime(2026, 12, 20 if kind < 0.7 else 31, 8, tzinfo=UTC)
                    + timedelta(days=0 if kind < 0.7 else 10),
                )
            )
        for _ in range(rng.choice((0, 0, 0, 1, 2))):
            complaints.append(
                Complaint(
                    listing=listing_id,
                    content="上课时间经常变动，家长未被提前告知。",
                    status=rng.choice(("upheld", "dismissed", "investigating")),
                    fee_violation=rng.random() < 0.01,
                    submitted_at=datetime(2026, 10, 15, tzinfo=UTC),
                )
            )
        if rng.random() < 0.03:
            incidents.append(
                Incident(
                    listing=listing_id,
                    severity=rng.choice(("minor", "minor", "serious", "major")),
                    occurred_on=date(2026, 11, 3),
                    description="学生训练中扭伤脚踝，已送医处理。",
                    reporter_role="school",
                )
            )
    engagement_ids = [r["id"] for r in await _insert(Engagement, engagements)]
    for (listing_id, school, happy), engagement_id, row in zip(
        plan, engagement_ids, engagements, strict=True
    ):
        scores = {q: max(0, min(100, int(rng.gauss(happy * 95, 8)))) for q in QUESTIONS}
        feedback.append(
            SchoolFeedback(
                key=f"{cycle_id}:{engagement_id}",
                cycle=cycle_id,
                engagement=engagement_id,
                listing=listing_id,
                school=school,
                scores=scores,
                **_tallies(rng, row.students, happy),
            )
        )
    for table, rows in (
        (SchoolFeedback, feedback),
        (Inspection, inspections),
        (SelfReport, reports),
        (Complaint, complaints),
        (Incident, incidents),
    ):
        await _insert(table, rows)
    print(
        f"built: {listings:,} listings, {len(engagement_ids):,} engagements with feedback, "
        f"{len(inspections):,} inspections, {len(reports):,} self-reports, "
        f"{len(complaints):,} complaints, {len(incidents):,} incidents"
    )
    return int(cycle_id)


async def reopen(cycle_id: int) -> None:
    await Hearing.delete().where(Hearing.cycle == cycle_id)
    await EvaluationResult.delete().where(EvaluationResult.cycle == cycle_id)
    await EvaluationCycle.update({EvaluationCycle.status: CycleStatus.open.value}).where(
        EvaluationCycle.id == cycle_id
    )


async def main(listings: int, rounds: int, seed: int) -> None:
    await migrate_database()
    began = time.perf_counter()
    cycle_id = await build(listings, seed)
    print(f"build time: {time.perf_counter() - began:.1f} s")
    district = await District.select(District.id).where(District.code == "120101").first()
    reviewer = Actor(None, "bench_reviewer", (Grant(Role.reviewer, district_id=district["id"]),))
    timings = []
    summary = None
    for number in range(rounds):
        if number:
            await reopen(cycle_id)
        began = time.perf_counter()
        with timesource.frozen(CLOSE_AT):
            summary = await close_cycle(reviewer, cycle_id)
        timings.append(time.perf_counter() - began)
    # Peak Python allocations of one more close, measured apart (tracemalloc slows it down).
    await reopen(cycle_id)
    tracemalloc.start()
    with timesource.frozen(CLOSE_AT):
        await close_cycle(reviewer, cycle_id)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert summary is not None
    # What the closed cycle's page reads for a reviewer (statuses, distribution, the batch
    # plan, one page of 50 results): a page of the same 10,000 results.
    page_times = []
    with timesource.frozen(CLOSE_AT):
        cycle = await staff_cycle(reviewer, cycle_id)
        for _ in range(3):
            began = time.perf_counter()
            context = await closed_context(reviewer, cycle, "", "", "1")
            page_times.append(time.perf_counter() - began)
    # Confirming the batch the page offers: every renewal fires through the engine.
    with timesource.frozen(CLOSE_AT):
        plan = await batch_plan(reviewer, cycle_id)
        began = time.perf_counter()
        confirmed = await confirm_batch(reviewer, cycle_id, [r["listing"] for r in plan.included])
        batch_time = time.perf_counter() - began
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine = os.environ["REGISTRY_DATABASE_URL"].split(":", 1)[0]
    print(f"\nengine: {engine}; listings scored per close: {summary.scored:,}")
    print(f"grades: {dict(Counter(summary.by_grade))}")
    print(f"consequences: {summary.by_consequence}")
    print(f"sent to their providers to be heard first: {summary.sent_for_hearing:,}")
    print(f"close + score, {rounds} rounds: " + ", ".join(f"{t:.2f} s" for t in timings))
    print(f"median: {statistics.median(timings):.2f} s  (target <= 10 s for 10,000 on SQLite)")
    print(
        f"closed cycle page data ({context['total']:,} results, batch of "
        f"{context['batch_count']:,}), 3 reads: " + ", ".join(f"{t:.2f} s" for t in page_times)
    )
    print(f"batch confirmation of {confirmed:,} results: {batch_time:.1f} s")
    print(
        f"peak Python memory during a close: {peak / 2**20:.1f} MiB; process max RSS {rss:.0f} MiB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    asyncio.run(main(args.listings, args.rounds, args.seed))
