"""Demo evaluation: engagements, a confirmed spring cycle and an open autumn one, complaints.

Runs after the lifecycle steps. The spring cycle is closed and confirmed through the real
code (scores, grades, renewals, rectifications and the occasional exit all happen through the
engine); the autumn cycle is left open with part of its inputs in, so that a demo school,
provider or reviewer has something to do.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from registry.access.personal_data import CONTACT, seal_text
from registry.evaluation.cycles import close_cycle
from registry.evaluation.decisions import (
    batch_plan,
    confirm_batch,
    confirm_result,
    grade_manually,
)
from registry.evaluation.hearings import answer_hearing
from registry.evaluation.rubrics import rubric_in_force
from registry.tables import (
    Complaint,
    District,
    Engagement,
    EvaluationCycle,
    EvaluationResult,
    Hearing,
    Incident,
    Inspection,
    ResultStatus,
    School,
    SchoolFeedback,
    SelfReport,
    WhitelistEntry,
)
from workflows.actors import Actor, Grant
from workflows.states import Role, State

SPRING = {
    "name": "2026年春季学期",
    "term": "2025-2026学年第二学期",
    "starts_on": date(2026, 3, 1),
    "ends_on": date(2026, 7, 10),
    "self_report_due": date(2026, 6, 30),
}
AUTUMN = {
    "name": "2026年秋季学期",
    "term": "2026-2027学年第一学期",
    "starts_on": date(2026, 9, 1),
    "ends_on": date(2027, 1, 20),
    "self_report_due": date(2026, 12, 31),
}
ANSWERS = (
    "本机构对检查中发现的问题已于当月整改完毕，附整改报告和复查照片，请予复核。",
    "家长问卷集中在课程调整期间，不能反映全学期服务情况，恳请结合学校意见综合评定。",
    "对扣分所涉投诉，本机构已与家长沟通并退还相关费用，事实经过见附件。",
)
BANDS = {"primary": ("lower_primary", "upper_primary"), "middle": ("middle",)}
QUESTIONS = ("teaching_quality", "punctuality", "safety_management", "communication")
COMPLAINTS = (
    "孩子反映教练上课经常迟到十几分钟，课程时间被压缩。",
    "机构临时更换授课老师，没有提前通知家长。",
    "课上要求家长另行购买指定器材，费用不低。",
    "上课期间老师看手机，对学生疏于看管。",
    "课程内容与报名时介绍的不一致，孩子兴趣下降。",
)
REPLIES = {
    "upheld": "经核查，情况属实，已责令机构整改并向家长说明。",
    "dismissed": "经核查，机构按计划开课，未发现所述问题，已向家长说明情况。",
}
SELF_REPORT = {
    "service_summary": "本学期按合作协议在合作学校开展课后服务，每周两次，按时到岗，未发生停课。",
    "schools_served": 2,
    "students_served": 60,
    "safety_measures": "课前检查场地和器材，配备急救包，学生签到签退，与班主任交接。",
    "staff_changes": "无变动",
    "fee_compliance": True,
    "no_subject_tutoring": True,
    "improvement_plan": "加强与家长沟通，每月反馈一次学生学习情况。",
}


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


def _tallies(rng: random.Random, students: int, happy: float) -> dict[str, int]:
    answered = rng.randint(max(1, students * 2 // 3), students)
    content = round(answered * happy)
    very = rng.randint(content // 2, content)
    neutral = rng.randint(0, answered - content)
    return {
        "very_satisfied": very,
        "satisfied": content - very,
        "neutral": neutral,
        "dissatisfied": answered - content - neutral,
    }


def _contact(given: bool, listing_id: int) -> str:
    """A parent's mobile number (or none), stored sealed like every contact."""
    if not given:
        return ""
    return seal_text(f"13{(listing_id * 7_919_019) % 10**9:09d}", CONTACT)


class _Seeder:
    def __init__(self, rng: random.Random, reviewers: dict[str, Actor]) -> None:
        self.rng = rng
        self.reviewers = reviewers
        self.counts: Counter[str] = Counter()
        # A provider's quality and how much parents like it stay the same across cycles.
        self.quality: dict[int, float] = {}
        self.happy: dict[int, float] = {}

    def traits(self, listing_id: int) -> tuple[float, float]:
        if listing_id not in self.quality:
            self.quality[listing_id] = min(98.0, max(55.0, self.rng.gauss(84, 8)))
            self.happy[listing_id] = self.rng.choice((0.97, 0.95, 0.92, 0.9, 0.88, 0.85))
            if self.rng.random() < 0.03:
                self.happy[listing_id] = 0.7
        return self.quality[listing_id], self.happy[listing_id]

    async def engagements(
        self, term: str, entries: list[dict[str, Any]], schools: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        made = []
        for school in schools:
            fitting = [
                e for e in entries if set(e["grade_bands"].split()) & set(BANDS[school["level"]])
            ]
            for entry in self.rng.sample(fitting, min(len(fitting), self.rng.randint(1, 3))):
                band = self.rng.choice(
                    [b for b in BANDS[school["level"]] if b in entry["grade_bands"].split()]
                )
                values = {
                    "school": school["id"],
                    "listing": entry["listing"],
                    "courses": entry["courses"].split("\n")[:1],
                    "term": term,
                    "grade_band": band,
                    "students": self.rng.randint(20, 45),
                    "weekly_schedule": [
                        {"weekday": day, "start": "16:40", "end": "18:30"} for day in (2, 4)
                    ],
                    "fee_per_student_month": entry["fee_min"] or 120,
                }
                rows = await Engagement.insert(Engagement(**values)).returning(Engagement.id)
                made.append({**values, "id": rows[0]["id"]})
                self.counts["engagements"] += 1
        return made

    async def inputs(
        self,
        cycle: dict[str, Any],
        engagements: list[dict[str, Any]],
        listings: list[int],
        share: float,
    ) -> None:
        rng = self.rng
        for engagement in engagements:
            if rng.random() > share:
                continue
            quality, happy = self.traits(engagement["listing"])
            await SchoolFeedback.insert(
                SchoolFeedback(
                    key=f"{cycle['id']}:{engagement['id']}",
                    cycle=cycle["id"],
                    engagement=engagement["id"],
                    listing=engagement["listing"],
                    school=engagement["school"],
                    scores={q: max(0, min(100, round(rng.gauss(quality, 5)))) for q in QUESTIONS},
                    comment=rng.choice(("", "课程组织有序，学生喜欢。", "希望增加比赛和展示。")),
                    **_tallies(rng, engagement["students"], happy),
                )
            )
            self.counts["feedback"] += 1
        for listing_id in listings:
            quality, _ = self.traits(listing_id)
            if rng.random() < share * 0.9:
                await Inspection.insert(
                    Inspection(
                        key=f"{cycle['id']}:{listing_id}",
                        cycle=cycle["id"],
                        listing=listing_id,
                        score=max(40, min(100, round(rng.gauss(quality - 2, 8)))),
                        inspected_on=cycle["starts_on"].replace(month=cycle["starts_on"].month + 2),
                        note="场地、器材、人员资质与备案一致。",
                    )
                )
                self.counts["inspections"] += 1
            if rng.random() < share:
                due = cycle["self_report_due"]
                late = rng.random() < 0.08
                submitted = due + timedelta(days=5) if late else due - timedelta(days=7)
                await SelfReport.insert(
                    SelfReport(
                        key=f"{cycle['id']}:{listing_id}",
                        cycle=cycle["id"],
                        listing=listing_id,
                        body=SELF_REPORT,
                        complete=rng.random() < 0.93,
                        submitted_at=_moment(submitted),
                    )
                )
                self.counts["self_reports"] += 1

    async def complaints_and_incidents(self, listings: list[int]) -> None:
        rng = self.rng
        for listing_id in listings:
            if rng.random() < 0.1:
                status = rng.choice(("received", "investigating", "upheld", "dismissed"))
                decided = status in REPLIES
                await Complaint.insert(
                    Complaint(
                        listing=listing_id,
                        content=rng.choice(COMPLAINTS),
                        contact=_contact(rng.choice((False, True)), listing_id),
                        submitted_at=_moment(date(2026, rng.randint(3, 6), rng.randint(1, 28))),
                        status=status,
                        reply=REPLIES.get(status, ""),
                        decided_at=_moment(date(2026, 7, 1)) if decided else None,
                    )
                )
                self.counts["complaints"] += 1
            if rng.random() < 0.03:
                await Incident.insert(
                    Incident(
                        listing=listing_id,
                        severity=rng.choice(("minor", "minor", "serious")),
                        occurred_on=date(2026, rng.randint(3, 6), rng.randint(1, 28)),
                        description="训练中学生摔倒擦伤，教练现场处置并通知家长，已就医无大碍。",
                        reporter_role="school",
                        resolution="已核实，机构已加强场地防护。",
                        resolved_at=_moment(date(2026, 7, 1)),
                    )
                )
                self.counts["incidents"] += 1

    async def cycle(self, district_id: int, code: str, spec: dict[str, Any]) -> dict[str, Any]:
        rubric, _ = await rubric_in_force(code)
        rows = await EvaluationCycle.insert(
            EvaluationCycle(district=district_id, rubric=rubric, **spec)
        ).returning(EvaluationCycle.id)
        self.counts["cycles"] += 1
        return {"id": rows[0]["id"], **spec}

    async def decide(self, reviewer: Actor, cycle_id: int) -> None:
        """Results in every stage: some graded by hand, some providers heard and decided,
        some still within their answer window; the rest confirmed in one batch."""
        manual = await EvaluationResult.select(EvaluationResult.listing).where(
            (EvaluationResult.cycle == cycle_id)
            & (EvaluationResult.status == ResultStatus.manual.value)
        )
        for row in manual[: len(manual) // 2]:
            grade = self.rng.choice(("good", "pass", "pass"))
            await grade_manually(
                reviewer,
                cycle_id,
                row["listing"],
                grade=grade,
                reason="学校评价份数不足，结合日常巡查记录和家长来访情况人工评定",
            )
        heard = await Hearing.select(
            Hearing.id, Hearing.listing, Hearing.listing.organisation.as_alias("organisation")
        ).where((Hearing.cycle == cycle_id) & (Hearing.outcome == ""))
        for index, row in enumerate(heard):
            if index % 3 == 2:
                continue  # still within its answer window
            provider = Actor(None, "demo-provider", (Grant(Role.provider, row["organisation"]),))
            await answer_hearing(provider, row["id"], self.rng.choice(ANSWERS))
            if index % 3 == 0:
                await confirm_result(
                    reviewer,
                    cycle_id,
                    row["listing"],
                    reason="已核查机构陈述意见及所附材料：所述情况与检查记录不符，维持拟定结果",
                )
        plan = await batch_plan(reviewer, cycle_id)
        self.counts["results"] += await confirm_batch(
            reviewer, cycle_id, [r["listing"] for r in plan.included]
        )

    async def district(self, district: dict[str, Any]) -> None:
        code = district["code"]
        entries = (
            await WhitelistEntry.select()
            .where(
                (WhitelistEntry.district_code == code)
                & (WhitelistEntry.state == State.listed.value)
            )
            .order_by(WhitelistEntry.listing)
        )
        schools = await School.select().where(School.district == district["id"]).order_by(School.id)
        reviewer = self.reviewers.get(code)
        if not entries or not schools or reviewer is None:
            return
        listings = [e["listing"] for e in entries]
        spring = await self.cycle(district["id"], code, SPRING)
        await self.inputs(
            spring, await self.engagements(SPRING["term"], entries, schools), listings, 1
        )
        await self.complaints_and_incidents(listings)
        await close_cycle(reviewer, spring["id"])
        await self.decide(reviewer, spring["id"])
        still = await WhitelistEntry.select(WhitelistEntry.listing).where(
            (WhitelistEntry.district_code == code) & (WhitelistEntry.state == State.listed.value)
        )
        live = {r["listing"] for r in still}
        autumn = await self.cycle(district["id"], code, AUTUMN)
        engaged = await self.engagements(
            AUTUMN["term"], [e for e in entries if e["listing"] in live], schools
        )
        await self.inputs(autumn, engaged, sorted(live), 0.5)


async def seed_evaluations(seed: int, reviewers: dict[str, Actor]) -> Counter[str]:
    """Evaluate every district that has listed providers, schools and a demo reviewer."""
    seeder = _Seeder(random.Random(seed), reviewers)
    for district in await District.select().order_by(District.code):
        await seeder.district(district)
    return seeder.counts
