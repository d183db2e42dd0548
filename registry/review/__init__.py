"""Review services for the district bureaus, shared by the JSON API and the bureau pages.

No HTTP here. Refusals are the engine's TransitionErrors (404 outside scope, 403 for a role that
only looks on, 422 refused), so the API and the pages answer them as they answer transitions.
"""

from __future__ import annotations

from registry.review.decisions import (
    CourseDecision,
    assign,
    course_decisions,
    decide_course,
    may_decide_courses,
)
from registry.review.detail import (
    ActionForm,
    action_forms,
    documents,
    submitted_form,
    supplement_rounds,
)
from registry.review.diff import Change, FormDiff, diff_forms, flatten, form_diff
from registry.review.expert import (
    DEFAULT_ADMISSION_RUBRIC,
    ExpertReview,
    RubricItem,
    add_expert_score,
    admission_rubric,
    expert_review,
)
from registry.review.history import HistoryEntry, action_label, history, recommendation
from registry.review.queues import (
    QUEUE_STATES,
    QueueFilter,
    QueueRow,
    queue_counts,
    review_listings,
    valid_assigned,
)
from registry.review.scope import (
    check_context,
    district_staff,
    findings,
    staff_districts,
    staff_listing,
    usernames,
)

__all__ = [
    "DEFAULT_ADMISSION_RUBRIC",
    "QUEUE_STATES",
    "ActionForm",
    "Change",
    "CourseDecision",
    "ExpertReview",
    "FormDiff",
    "HistoryEntry",
    "QueueFilter",
    "QueueRow",
    "RubricItem",
    "action_forms",
    "action_label",
    "add_expert_score",
    "admission_rubric",
    "assign",
    "check_context",
    "course_decisions",
    "decide_course",
    "diff_forms",
    "district_staff",
    "documents",
    "expert_review",
    "findings",
    "flatten",
    "form_diff",
    "history",
    "may_decide_courses",
    "queue_counts",
    "recommendation",
    "review_listings",
    "staff_districts",
    "staff_listing",
    "submitted_form",
    "supplement_rounds",
    "usernames",
    "valid_assigned",
]
