"""Evaluation over JSON: rubrics (in force, edit, preview), cycles, their inputs and results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from registry.evaluation import cycles, inputs, preview, rubrics
from registry.web.security import provide_actor
from workflows.actors import Actor
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


class CycleList(msgspec.Struct):
    items: list[CycleOut]


class CloseOut(msgspec.Struct):
    cycle_id: int
    scored: int
    by_grade: dict[str, int]
    by_consequence: dict[str, int]


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


class ResultList(msgspec.Struct):
    cycle: CycleOut
    items: list[ResultOut]


class ConfirmIn(msgspec.Struct):
    score: float | None = None
    reason: str = ""


class ConfirmAllOut(msgspec.Struct):
    confirmed: int


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
    async def close_cycle(self, actor: NamedDependency[Actor], cycle_id: FromPath[int]) -> CloseOut:
        """Close the cycle and compute every listing's score, grade and consequence."""
        summary = await cycles.close_cycle(actor, cycle_id)
        return CloseOut(summary.cycle_id, summary.scored, summary.by_grade, summary.by_consequence)

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
        """A reviewer confirms (or adjusts with a reason); the consequence's transitions fire."""
        row = await cycles.confirm_result(
            actor, cycle_id, listing_id, score=data.score, reason=data.reason
        )
        return result_out(row)

    @post("/cycles/{cycle_id:int}/confirm", operation_id="confirmAll", status_code=200)
    async def confirm_all(
        self, actor: NamedDependency[Actor], cycle_id: FromPath[int]
    ) -> ConfirmAllOut:
        """Confirm every result still waiting, as computed."""
        return ConfirmAllOut(await cycles.confirm_all(actor, cycle_id))

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
