"""The bureau's review API: queues, assignment, per-course decisions, expert scores, diffs.

Reviewers and approvers of the listing's district act; the city reads; everyone else gets 404.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from registry import review
from registry.access.masking import masked_leaf
from registry.access.people import display_names
from registry.api.listings import OrganisationRef
from registry.reference import CATEGORY_LABELS
from registry.web.errors import error_response
from registry.web.security import provide_actor
from workflows.actors import Actor
from workflows.states import State


class QueueCountOut(msgspec.Struct):
    state: str
    label: str
    count: int


class QueuesOut(msgspec.Struct):
    queues: list[QueueCountOut]
    total: int


class UserRef(msgspec.Struct):
    id: int
    username: str
    name: str = ""  # as pages name the person: 王丽（审核员）, else the username


class ReviewItemOut(msgspec.Struct):
    id: int
    state: str
    state_label: str
    version: int
    district: str
    district_name: str
    organisation: OrganisationRef
    categories: list[str]
    submitted_at: datetime | None
    assigned_to: UserRef | None
    blocking: int
    warnings: int
    pending_objections: int = 0  # objections in the notice period not yet decided


class ReviewPage(msgspec.Struct):
    items: list[ReviewItemOut]
    total: int
    page: int
    page_size: int


class AssigneeIn(msgspec.Struct):
    reviewer_id: int | None


class AssigneeOut(msgspec.Struct):
    listing_id: int
    assigned_to: UserRef | None


class CourseDecisionIn(msgspec.Struct):
    approved: bool
    reason: str = ""


class CourseOut(msgspec.Struct):
    index: int
    name: str
    approved: bool
    reason: str


class CoursesOut(msgspec.Struct):
    listing_id: int
    courses: list[CourseOut]


class ExpertScoreIn(msgspec.Struct):
    scores: dict[str, int]
    comment: str = ""


class RubricItemOut(msgspec.Struct):
    item: str
    label: str
    max_points: int


class ExpertScoreOut(msgspec.Struct):
    reviewer: UserRef
    moderator: bool
    scores: dict[str, int]
    total: int
    comment: str
    created_at: datetime


class ExpertReviewOut(msgspec.Struct):
    listing_id: int
    required: bool
    tolerance: float
    rubric: list[RubricItemOut]
    scores: list[ExpertScoreOut]
    hidden: int
    complete: bool
    problems: list[dict[str, str]]
    can_score: bool
    moderator_next: bool
    cannot_score: dict[str, str] | None


class ChangeOut(msgspec.Struct):
    path: str
    kind: str
    old: Any
    new: Any
    label: str = ""  # the path in words, from the schema's titles: 课程 1 · 上课时段 2 · 结束时间


class DocumentRef(msgspec.Struct):
    id: int
    original_name: str


class DocumentChangeOut(msgspec.Struct):
    kind: str  # added | replaced | removed
    document_kind: str
    document_kind_label: str
    staff_index: int | None
    old: DocumentRef | None
    new: DocumentRef | None


class DiffOut(msgspec.Struct):
    listing_id: int
    base_version: int | None
    base_submitted_at: datetime | None
    head_version: int | None
    head_submitted_at: datetime | None
    changes: list[ChangeOut]
    # Documents since the base submission; null when that submission kept no document list.
    documents: list[DocumentChangeOut] | None = None


def _ref(document: dict[str, Any] | None) -> DocumentRef | None:
    return DocumentRef(document["id"], document["original_name"]) if document else None


def _bad_query(field: str, message: str) -> Response[Any]:
    return error_response(
        400, "请求参数不正确", [{"field": field, "code": "enum", "message": message}]
    )


def _states(value: str) -> tuple[State, ...] | None:
    if value == "queue":
        return review.QUEUE_STATES
    if value == "all":
        return tuple(s for s in State if s != State.draft)
    return (State(value),) if value in State.__members__ else None


def _item(row: review.QueueRow) -> ReviewItemOut:
    listing = row.listing
    form = listing["form"] if isinstance(listing["form"], dict) else {}
    assignee = listing["assigned_to"]
    return ReviewItemOut(
        id=listing["id"],
        state=listing["state"],
        state_label=State(listing["state"]).label,
        version=listing["version"],
        district=listing["district_code"],
        district_name=listing["district_name"],
        organisation=OrganisationRef(
            listing["organisation"], listing["organisation_name"], listing["organisation_kind"]
        ),
        categories=[str(c) for c in form.get("categories") or []],
        submitted_at=listing["submitted_at"],
        assigned_to=(
            UserRef(assignee, row.assignee_username or "", row.assignee or "")
            if assignee is not None
            else None
        ),
        blocking=row.blocking,
        warnings=row.warnings,
        pending_objections=row.pending_objections,
    )


def _expert_out(listing_id: int, found: review.ExpertReview) -> ExpertReviewOut:
    return ExpertReviewOut(
        listing_id=listing_id,
        required=found.required,
        tolerance=found.tolerance,
        rubric=[RubricItemOut(i.code, i.label, i.max_points) for i in found.rubric],
        scores=[
            ExpertScoreOut(
                reviewer=UserRef(s["reviewer"], s["username"], s["name"]),
                moderator=s["moderator"],
                scores=s["scores"],
                total=s["total"],
                comment=s["comment"],
                created_at=s["created_at"],
            )
            for s in found.scores
        ],
        hidden=found.hidden,
        complete=found.complete,
        problems=[p.as_dict() for p in found.problems],
        can_score=found.can_score,
        moderator_next=found.moderator_next,
        cannot_score=found.cannot_score.as_dict() if found.cannot_score else None,
    )


class ReviewQueueController(Controller):
    path = "/api/v1/review"
    tags = ["review"]
    dependencies = {"actor": Provide(provide_actor)}

    @get("/queues", operation_id="reviewQueues")
    async def queues(
        self,
        actor: NamedDependency[Actor],
        district: Annotated[str | None, QueryParameter(description="6-digit district code")] = None,
    ) -> QueuesOut:
        """How many listings wait in each review queue of the caller's districts."""
        counts = await review.queue_counts(actor, district)
        return QueuesOut(
            queues=[QueueCountOut(s.value, s.label, n) for s, n in counts.items()],
            total=sum(counts.values()),
        )

    @get("/listings", operation_id="reviewListings")
    async def listings(
        self,
        actor: NamedDependency[Actor],
        state_filter: Annotated[
            str, QueryParameter(name="state", description="a state, queue (default) or all")
        ] = "queue",
        category: FromQuery[str | None] = None,
        submitted_from: FromQuery[date | None] = None,
        submitted_to: FromQuery[date | None] = None,
        assigned: Annotated[
            str, QueryParameter(description="all, unassigned, mine or a user id")
        ] = "all",
        district: FromQuery[str | None] = None,
        q: Annotated[str, QueryParameter(description="part of the organisation's name")] = "",
        page: Annotated[int, QueryParameter(ge=1)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=200)] = 25,
    ) -> Any:
        """The console's table: listings of the caller's districts, oldest submission first."""
        states = _states(state_filter)
        if states is None:
            return _bad_query("state", f"未知的状态：{state_filter}")
        if category and category not in CATEGORY_LABELS:
            return _bad_query("category", f"未知的服务类别：{category}")
        if not review.valid_assigned(assigned):
            return _bad_query("assigned", "assigned 应为 all、unassigned、mine 或审核员编号")
        rows, total = await review.review_listings(
            actor,
            review.QueueFilter(
                states=states,
                category=category,
                submitted_from=submitted_from,
                submitted_to=submitted_to,
                assigned=assigned,
                district=district,
                query=q,
                page=page,
                page_size=page_size,
            ),
        )
        return ReviewPage([_item(r) for r in rows], total, page, page_size)


class ListingReviewController(Controller):
    path = "/api/v1/listings"
    tags = ["review"]
    dependencies = {"actor": Provide(provide_actor)}

    @put("/{listing_id:int}/assignee", operation_id="assignReviewer")
    async def assign(
        self, actor: NamedDependency[Actor], listing_id: FromPath[int], data: JSONBody[AssigneeIn]
    ) -> AssigneeOut:
        """Hand the listing to a reviewer of its district (null: to nobody)."""
        reviewer_id = await review.assign(listing_id, actor, data.reviewer_id)
        if reviewer_id is None:
            return AssigneeOut(listing_id, None)
        logins, names = await review.usernames({reviewer_id}), await display_names([reviewer_id])
        ref = UserRef(reviewer_id, logins[reviewer_id], names[reviewer_id])
        return AssigneeOut(listing_id, ref)

    @get("/{listing_id:int}/courses", operation_id="listCourseDecisions")
    async def courses(self, actor: NamedDependency[Actor], listing_id: FromPath[int]) -> CoursesOut:
        """Every course of the application with the bureau's decision."""
        listing, _ = await review.staff_listing(listing_id, actor)
        form = listing["form"] if isinstance(listing["form"], dict) else {}
        decided = review.course_decisions(form, listing["course_decisions"] or {})
        return CoursesOut(
            listing_id, [CourseOut(c.index, c.name, c.approved, c.reason) for c in decided]
        )

    @put("/{listing_id:int}/courses/{index:int}", operation_id="decideCourse")
    async def decide_course(
        self,
        actor: NamedDependency[Actor],
        listing_id: FromPath[int],
        index: FromPath[int],
        data: JSONBody[CourseDecisionIn],
    ) -> CoursesOut:
        """Approve or strike one course (striking needs a reason; one must stay approved)."""
        decided = await review.decide_course(listing_id, actor, index, data.approved, data.reason)
        return CoursesOut(
            listing_id, [CourseOut(c.index, c.name, c.approved, c.reason) for c in decided]
        )

    @get("/{listing_id:int}/expert-scores", operation_id="getExpertReview")
    async def expert_scores(
        self, actor: NamedDependency[Actor], listing_id: FromPath[int]
    ) -> ExpertReviewOut:
        """The expert review so far and whether it is complete."""
        return _expert_out(listing_id, await review.expert_review(listing_id, actor))

    @post("/{listing_id:int}/expert-scores", operation_id="addExpertScore", status_code=201)
    async def add_expert_score(
        self,
        actor: NamedDependency[Actor],
        listing_id: FromPath[int],
        data: JSONBody[ExpertScoreIn],
    ) -> ExpertReviewOut:
        """The caller's admission score: one per reviewer; a third only to settle a disagreement."""
        found = await review.add_expert_score(listing_id, actor, data.scores, data.comment)
        return _expert_out(listing_id, found)

    @get("/{listing_id:int}/diff", operation_id="getFormDiff")
    async def diff(self, actor: NamedDependency[Actor], listing_id: FromPath[int]) -> DiffOut:
        """What changed since the previous submission (head_version null: the unsent form)."""
        found = await review.form_diff(listing_id, actor)
        return DiffOut(
            listing_id=listing_id,
            base_version=found.base_version,
            base_submitted_at=found.base_submitted_at,
            head_version=found.head_version,
            head_submitted_at=found.head_submitted_at,
            # Personal leaves masked, like everywhere (a full one: personal-data/reveal).
            changes=[
                ChangeOut(
                    c.path,
                    c.kind,
                    masked_leaf(c.path, c.old),
                    masked_leaf(c.path, c.new),
                    label=c.label,
                )
                for c in found.changes
            ],
            documents=None
            if found.documents is None
            else [
                DocumentChangeOut(
                    d.kind,
                    d.document_kind,
                    d.document_kind_label,
                    d.staff_index,
                    _ref(d.old),
                    _ref(d.new),
                )
                for d in found.documents
            ],
        )


ROUTES: list[Any] = [ReviewQueueController, ListingReviewController]
