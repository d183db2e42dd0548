"""Evaluation over JSON: rubrics (in force, edit, preview), cycles, their inputs and results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from registry.evaluation import cycles, deadlines, decisions, hearings, inputs, preview, rubrics
from registry.evaluation.distribution import distribution, warning_line
from registry.evaluation.summary import STATUS_LABELS
from registry.web.security import provide_actor
from workflows import timesource
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import Refused, district_policy
from workflows.scoring import GRADE_LABELS, Consequence, Evaluation
from workflows.states import exit_reason_label


class CycleIn(msgspec.Struct):
    name: str
    term: str
    starts_on: date | None = None
    ends_on: date | None = None
    self_report_due: date | None = None


class CycleOut(msgspec.Struct):
    id: int
    district: str
    district_name: str
    name: str
    term: str
    starts_on: date
    ends_on: date
    self_report_due: date
    status: str
    opened_at: datetime | None
    closed_at: datetime | None
    rubric: dict[str, Any]
    closed_early: bool = False
    close_reason: str = ""


class CycleList(msgspec.Struct):
    items: list[CycleOut]


class CloseIn(msgspec.Struct):
    early_reason: str = ""


class CloseOut(msgspec.Struct):
    cycle_id: int
    scored: int
    by_grade: dict[str, int]
    by_consequence: dict[str, int]
    sent_for_hearing: int = 0
    closed_early: bool = False


class MissingItem(msgspec.Struct):
    listing_id: int
    organisation_name: str
    missing: list[str]


class MissingOut(msgspec.Struct):
    cycle_id: int
    deadlines_not_passed: list[str]
    items: list[MissingItem]


class GradeIn(msgspec.Struct):
    grade: str = ""
    reason: str = ""
    rectification: bool = False


class BatchIn(msgspec.Struct):
    listing_ids: list[int] | None = None


class HearingOut(msgspec.Struct):
    id: int
    cycle_id: int
    cycle_name: str
    listing_id: int
    organisation_name: str
    consequence: str
    facts: dict[str, Any]
    sent_at: datetime
    answer_due: date
    stage: str
    answer: str
    answer_documents: list[int]
    answered_at: datetime | None
    outcome: str
    decided_at: datetime | None
    decision_reason: str


class HearingList(msgspec.Struct):
    items: list[HearingOut]


class AnswerIn(msgspec.Struct):
    answer: str = ""
    document_ids: list[int] = msgspec.field(default_factory=list)


class ResultOut(msgspec.Struct):
    listing_id: int
    organisation_id: int
    organisation_name: str
    listing_state: str
    score: float | None
    grade: str | None
    grade_label: str
    consequence: str
    consequence_label: str
    exit_reason: str | None
    exit_reason_label: str
    status: str
    adjusted: bool
    adjust_reason: str
    school_responses: int
    parent_responses: int
    confirmed_at: datetime | None
    breakdown: dict[str, Any]
    status_label: str = ""
    grade_reason: str = ""
    decision_reason: str = ""
    evidence_gaps: list[str] = msgspec.field(default_factory=list)


class ResultList(msgspec.Struct):
    cycle: CycleOut
    items: list[ResultOut]


class ConfirmIn(msgspec.Struct):
    score: float | None = None
    reason: str = ""


class ConfirmAllOut(msgspec.Struct):
    confirmed: int


class PlanOut(msgspec.Struct):
    cycle_id: int
    plan: dict[str, Any]
    distribution: dict[str, Any]


class Outcome(msgspec.Struct):
    score: float | None
    grade: str | None
    grade_label: str
    consequence: str
    consequence_label: str
    exit_reason: str | None


class PreviewItem(msgspec.Struct):
    listing_id: int
    organisation_name: str
    state: str
    current: Outcome
    candidate: Outcome
    grade_changed: bool
    would_exit: bool


class PreviewOut(msgspec.Struct):
    cycle_id: int
    cycle_name: str
    evaluated: int
    changed: int
    items: list[PreviewItem]


class SelfReportOut(msgspec.Struct):
    cycle_id: int
    listing_id: int
    body: dict[str, Any]
    complete: bool
    submitted_at: datetime | None
    missing: list[dict[str, str]]


class InspectionIn(msgspec.Struct):
    score: Any = None
    inspected_on: str | None = None
    fee_violation: bool = False
    note: str = ""


class InspectionOut(msgspec.Struct):
    cycle_id: int
    listing_id: int
    score: int
    fee_violation: bool
    inspected_on: date
    note: str


class FeedbackOut(msgspec.Struct):
    cycle_id: int
    engagement_id: int
    listing_id: int
    scores: dict[str, int]
    comment: str
    tallies: dict[str, int | None]
    updated_at: datetime | None


class FeedbackItem(msgspec.Struct):
    engagement_id: int
    listing_id: int
    organisation_name: str
    courses: list[str]
    students: int
    feedback: FeedbackOut | None


class FeedbackList(msgspec.Struct):
    cycle: CycleOut
    items: list[FeedbackItem]


def cycle_out(row: dict[str, Any]) -> CycleOut:
    """The API shape of a cycle row."""
    return CycleOut(
        id=row["id"],
        district=row["district_code"],
        district_name=row["district_name"],
        name=row["name"],
        term=row["term"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        self_report_due=row["self_report_due"],
        status=row["status"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        rubric=row["rubric"] or {},
        closed_early=bool(row.get("closed_early")),
        close_reason=row.get("close_reason") or "",
    )


def _score(centi: int | None) -> float | None:
    return None if centi is None else centi / 100


def result_out(row: dict[str, Any]) -> ResultOut:
    """The API shape of a result row."""
    return ResultOut(
        listing_id=row["listing"],
        organisation_id=row["organisation_id"],
        organisation_name=row["organisation_name"],
        listing_state=row["listing_state"],
        score=_score(row["score_centi"]),
        grade=row["grade"],
        grade_label=GRADE_LABELS.get(row["grade"] or "", "未评定"),
        consequence=row["consequence"],
        consequence_label=Consequence(row["consequence"]).label,
        exit_reason=row["exit_reason"],
        exit_reason_label=exit_reason_label(row["exit_reason"]),
        status=row["status"],
        adjusted=bool(row["adjusted"]),
        adjust_reason=row["adjust_reason"],
        school_responses=row["school_responses"],
        parent_responses=row["parent_responses"],
        confirmed_at=row["confirmed_at"],
        breakdown=row["breakdown"] or {},
        status_label=STATUS_LABELS.get(row["status"], row["status"]),
        grade_reason=row.get("grade_reason") or "",
        decision_reason=row.get("decision_reason") or "",
        evidence_gaps=list((row["breakdown"] or {}).get("evidence_gaps") or []),
    )


def hearing_out(row: dict[str, Any]) -> HearingOut:
    """The API shape of a hearing (the same for the provider and the bureau)."""
    return HearingOut(
        id=row["id"],
        cycle_id=row["cycle"],
        cycle_name=row["cycle_name"],
        listing_id=row["listing"],
        organisation_name=row["organisation_name"],
        consequence=row["consequence"],
        facts=row["facts"] or {},
        sent_at=row["sent_at"],
        answer_due=row["answer_due"],
        stage=hearings.stage_label(row, timesource.local_today()),
        answer=row["answer"],
        answer_documents=[int(d) for d in row["answer_documents"] or []],
        answered_at=row["answered_at"],
        outcome=row["outcome"],
        decided_at=row["decided_at"],
        decision_reason=row["decision_reason"],
    )


def _outcome(evaluation: Evaluation) -> Outcome:
    return Outcome(
        score=_score(evaluation.score_centi),
        grade=evaluation.grade,
        grade_label=evaluation.grade_label,
        consequence=evaluation.consequence.value,
        consequence_label=evaluation.consequence.label,
        exit_reason=evaluation.exit_reason.value if evaluation.exit_reason else None,
    )


def feedback_out(row: dict[str, Any]) -> FeedbackOut:
    """The API shape of a feedback row."""
    return FeedbackOut(
        cycle_id=row["cycle"],
        engagement_id=row["engagement"],
        listing_id=row["listing"],
        scores=row["scores"] or {},
        comment=row["comment"],
        tallies={k: row[k] for k in ("very_satisfied", "satisfied", "neutral", "dissatisfied")},
        updated_at=row["updated_at"],
    )


class RubricController(Controller):
    path = "/api/v1"
    tags = ["evaluation"]
    dependencies = {"actor": Provide(provide_actor)}

    @get("/districts/{code:str}/rubric", operation_id="getRubric")
    async def get_rubric(self, code: FromPath[str]) -> dict[str, Any]:
        """The rubric in force for a district (its own, else the city's default)."""
        await rubrics.district_row(code)
        body, _ = await rubrics.rubric_in_force(code)
        return body

    @put("/districts/{code:str}/rubric", operation_id="putRubric")
    async def put_rubric(
        self, actor: NamedDependency[Actor], code: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        """Replace a district's own rubric (its approvers, the city); 422 names each problem."""
        return await rubrics.save_rubric(actor, code, data)

    @delete("/districts/{code:str}/rubric", operation_id="resetRubric", status_code=200)
    async def reset_rubric(
        self, actor: NamedDependency[Actor], code: FromPath[str]
    ) -> dict[str, Any]:
        """Drop a district's own rubric; returns the city's, now in force."""
        return await rubrics.reset_rubric(actor, code)

    @get("/rubric", operation_id="getCityRubric")
    async def get_city_rubric(self) -> dict[str, Any]:
        """The city's default rubric."""
        return (await rubrics.rubric_in_force(None))[0]

    @put("/rubric", operation_id="putCityRubric")
    async def put_city_rubric(
        self, actor: NamedDependency[Actor], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        """Replace the city's default rubric (city supervisor only)."""
        return await rubrics.save_rubric(actor, rubrics.CITY, data)

    @post("/districts/{code:str}/rubric/preview", operation_id="previewRubric", status_code=200)
    async def preview_rubric(
        self, actor: NamedDependency[Actor], code: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> PreviewOut:
        """Listings whose grade or consequence the candidate would change; nothing is written."""
        found = await preview.preview_rubric(actor, code, data)
        return PreviewOut(
            cycle_id=found.cycle["id"],
            cycle_name=found.cycle["name"],
            evaluated=found.evaluated,
            changed=len(found.changes),
            items=[
                PreviewItem(
                    listing_id=c.listing_id,
                    organisation_name=c.organisation_name,
                    state=c.state,
                    current=_outcome(c.current),
                    candidate=_outcome(c.candidate),
                    grade_changed=c.current.grade != c.candidate.grade,
                    would_exit=c.candidate.consequence == Consequence.exit,
                )
                for c in found.changes
            ],
        )


class CycleController(Controller):
    path = "/api/v1"
    tags = ["evaluation"]
    dependencies = {"actor": Provide(provide_actor)}

    @post("/districts/{code:str}/cycles", operation_id="openCycle", status_code=201)
    async def open_cycle(
        self, actor: NamedDependency[Actor], code: FromPath[str], data: JSONBody[CycleIn]
    ) -> CycleOut:
        """Open a cycle; the rubric in force is snapshotted now."""
        given = cycles.CycleIn(
            data.name, data.term, data.starts_on, data.ends_on, data.self_report_due
        )
        return cycle_out(await cycles.open_cycle(actor, code, given))

    @get("/districts/{code:str}/cycles", operation_id="listCycles")
    async def list_cycles(self, actor: NamedDependency[Actor], code: FromPath[str]) -> CycleList:
        """A district's cycles, newest first (its staff)."""
        return CycleList([cycle_out(r) for r in await cycles.district_cycles(actor, code)])

    @get("/cycles/{cycle_id:int}", operation_id="getCycle")
    async def get_cycle(self, actor: NamedDependency[Actor], cycle_id: FromPath[int]) -> CycleOut:
        """One cycle (its district's staff)."""
        return cycle_out(await cycles.staff_cycle(actor, cycle_id))

    @post("/cycles/{cycle_id:int}/close", operation_id="closeCycle", status_code=200)
    async def close_cycle(
        self,
        actor: NamedDependency[Actor],
        cycle_id: FromPath[int],
        data: JSONBody[CloseIn | None] = None,
    ) -> CloseOut:
        """Close the cycle and compute every listing's result. Before its input deadlines
        have passed, only with `early_reason` (see GET .../missing first)."""
        summary = await cycles.close_cycle(actor, cycle_id, data.early_reason if data else "")
        return CloseOut(
            summary.cycle_id,
            summary.scored,
            summary.by_grade,
            summary.by_consequence,
            summary.sent_for_hearing,
            summary.closed_early,
        )

    @get("/cycles/{cycle_id:int}/missing", operation_id="listMissingInputs")
    async def list_missing(
        self, actor: NamedDependency[Actor], cycle_id: FromPath[int]
    ) -> MissingOut:
        """The deadlines not passed yet and, per provider, the inputs still missing."""
        cycle = await cycles.staff_cycle(actor, cycle_id)
        rows = await deadlines.missing_inputs(cycle)
        return MissingOut(
            cycle_id,
            deadlines.pending(cycle, timesource.local_today()),
            [MissingItem(r["listing_id"], r["organisation_name"], r["missing"]) for r in rows],
        )

    @get("/cycles/{cycle_id:int}/results", operation_id="listResults")
    async def list_results(
        self, actor: NamedDependency[Actor], cycle_id: FromPath[int]
    ) -> ResultList:
        """Every result of a closed cycle with its breakdown."""
        cycle = await cycles.staff_cycle(actor, cycle_id)
        rows = await cycles.cycle_results(actor, cycle_id)
        return ResultList(cycle_out(cycle), [result_out(r) for r in rows])

    @post(
        "/cycles/{cycle_id:int}/results/{listing_id:int}/confirm",
        operation_id="confirmResult",
        status_code=200,
    )
    async def confirm_result(
        self,
        actor: NamedDependency[Actor],
        cycle_id: FromPath[int],
        listing_id: FromPath[int],
        data: JSONBody[ConfirmIn],
    ) -> ResultOut:
        """A reviewer confirms (or adjusts with a reason). An adverse result is first sent to
        the provider to be heard (status `provisional`); after the answer or the deadline,
        confirming it decides it, with a reason that answers the provider."""
        decision = await decisions.confirm_result(
            actor, cycle_id, listing_id, score=data.score, reason=data.reason
        )
        return result_out(decision.result)

    @post(
        "/cycles/{cycle_id:int}/results/{listing_id:int}/grade",
        operation_id="gradeResult",
        status_code=200,
    )
    async def grade_result(
        self,
        actor: NamedDependency[Actor],
        cycle_id: FromPath[int],
        listing_id: FromPath[int],
        data: JSONBody[GradeIn],
    ) -> ResultOut:
        """Manual grading of a result the evidence could not carry, with a reason."""
        decision = await decisions.grade_manually(
            actor,
            cycle_id,
            listing_id,
            grade=data.grade,
            reason=data.reason,
            rectification=data.rectification,
        )
        return result_out(decision.result)

    @get("/cycles/{cycle_id:int}/results/{listing_id:int}/hearings", operation_id="resultHearings")
    async def result_hearings(
        self, actor: NamedDependency[Actor], cycle_id: FromPath[int], listing_id: FromPath[int]
    ) -> HearingList:
        """Every hearing of a result: what was sent, the provider's answer, the decision."""
        await cycles.staff_cycle(actor, cycle_id)
        result = await cycles.result_row(cycle_id, listing_id)
        rows = await hearings.hearings_of_result(result["id"])
        return HearingList([hearing_out(r) for r in rows])

    @get("/cycles/{cycle_id:int}/confirm-plan", operation_id="confirmPlan")
    async def confirm_plan(self, actor: NamedDependency[Actor], cycle_id: FromPath[int]) -> PlanOut:
        """What confirming all at once would do: counts per consequence, the exits by name,
        what it skips; and the cycle's grade distribution."""
        cycle = await cycles.staff_cycle(actor, cycle_id)
        rows = await cycles.cycle_results(actor, cycle_id)
        plan = await decisions.batch_plan(actor, cycle_id, rows)
        policy = await district_policy(cycle["district"])
        spread = distribution(rows, warning_line(policy))
        return PlanOut(cycle_id, plan.as_dict(), spread)

    @post("/cycles/{cycle_id:int}/confirm", operation_id="confirmAll", status_code=200)
    async def confirm_all(
        self,
        actor: NamedDependency[Actor],
        cycle_id: FromPath[int],
        data: JSONBody[BatchIn | None] = None,
    ) -> ConfirmAllOut:
        """Confirm the results GET .../confirm-plan listed: send back its `listing_ids`."""
        expected = data.listing_ids if data else None
        if expected is None:
            raise Refused(
                "请先查看将要确认的结果",
                [
                    Refusal(
                        "listing_ids",
                        "required",
                        "批量确认前请先查看确认清单（confirm-plan），并提交其中的listing_ids",
                    )
                ],
            )
        return ConfirmAllOut(await decisions.confirm_batch(actor, cycle_id, expected))

    @get("/hearings", operation_id="myHearings")
    async def my_hearings(self, actor: NamedDependency[Actor]) -> HearingList:
        """The provider's provisional results and their hearings, newest first."""
        return HearingList([hearing_out(r) for r in await hearings.provider_hearings(actor)])

    @get("/hearings/{hearing_id:int}", operation_id="getHearing")
    async def get_hearing(
        self, actor: NamedDependency[Actor], hearing_id: FromPath[int]
    ) -> HearingOut:
        """One of the provider's hearings."""
        return hearing_out(await hearings.hearing_for_provider(actor, hearing_id))

    @post("/hearings/{hearing_id:int}/answer", operation_id="answerHearing", status_code=200)
    async def answer_hearing(
        self, actor: NamedDependency[Actor], hearing_id: FromPath[int], data: JSONBody[AnswerIn]
    ) -> HearingOut:
        """The provider's written statement and defence (陈述、申辩), before the deadline."""
        row = await hearings.answer_hearing(actor, hearing_id, data.answer, data.document_ids)
        return hearing_out(row)

    @get("/cycles/{cycle_id:int}/feedback", operation_id="listFeedback")
    async def list_feedback(
        self, actor: NamedDependency[Actor], cycle_id: FromPath[int]
    ) -> FeedbackList:
        """The school's engagements this cycle evaluates, with the feedback given so far."""
        rows = await inputs.feedback_engagements(actor, cycle_id)
        cycle = await cycles.cycle_row(cycle_id)
        return FeedbackList(
            cycle_out(cycle),
            [
                FeedbackItem(
                    engagement_id=r["id"],
                    listing_id=r["listing"],
                    organisation_name=r["organisation_name"],
                    courses=list(r["courses"] or []),
                    students=r["students"],
                    feedback=feedback_out(r["feedback"]) if r["feedback"] else None,
                )
                for r in rows
            ],
        )

    @put("/cycles/{cycle_id:int}/feedback/{engagement_id:int}", operation_id="giveFeedback")
    async def give_feedback(
        self,
        actor: NamedDependency[Actor],
        cycle_id: FromPath[int],
        engagement_id: FromPath[int],
        data: JSONBody[dict[str, Any]],
    ) -> FeedbackOut:
        """A school's feedback and parent tallies for one engagement (404 if not engaged)."""
        return feedback_out(await inputs.give_feedback(actor, cycle_id, engagement_id, data))

    @put("/cycles/{cycle_id:int}/inspections/{listing_id:int}", operation_id="recordInspection")
    async def record_inspection(
        self,
        actor: NamedDependency[Actor],
        cycle_id: FromPath[int],
        listing_id: FromPath[int],
        data: JSONBody[InspectionIn],
    ) -> InspectionOut:
        """A reviewer's on-site inspection score for a listing."""
        row = await inputs.record_inspection(actor, cycle_id, listing_id, msgspec.to_builtins(data))
        return InspectionOut(
            cycle_id,
            listing_id,
            row["score"],
            row["fee_violation"],
            row["inspected_on"],
            row["note"],
        )

    @get("/cycles/{cycle_id:int}/self-report/{listing_id:int}", operation_id="getSelfReport")
    async def get_self_report(
        self, actor: NamedDependency[Actor], cycle_id: FromPath[int], listing_id: FromPath[int]
    ) -> SelfReportOut:
        """The provider's self-report (empty before the first save)."""
        row = await inputs.self_report_of(actor, cycle_id, listing_id)
        body = row["body"] if row else {}
        _, missing = inputs.self_report_problems(body)
        return SelfReportOut(
            cycle_id,
            listing_id,
            body,
            bool(row and row["complete"]),
            row["submitted_at"] if row else None,
            [m.as_dict() for m in missing],
        )

    @put("/cycles/{cycle_id:int}/self-report/{listing_id:int}", operation_id="submitSelfReport")
    async def submit_self_report(
        self,
        actor: NamedDependency[Actor],
        cycle_id: FromPath[int],
        listing_id: FromPath[int],
        data: JSONBody[dict[str, Any]],
    ) -> SelfReportOut:
        """Save the self-report; `missing` lists what keeps it from being complete."""
        row, missing = await inputs.submit_self_report(actor, cycle_id, listing_id, data)
        return SelfReportOut(
            cycle_id,
            listing_id,
            row["body"],
            row["complete"],
            row["submitted_at"],
            [m.as_dict() for m in missing],
        )


ROUTES: list[Any] = [RubricController, CycleController]
