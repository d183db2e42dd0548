"""The one list of states, roles and exit reasons, with their Chinese labels."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """A listing's standing on one district's whitelist."""

    draft = "draft"
    submitted = "submitted"
    in_review = "in_review"
    needs_supplement = "needs_supplement"
    pending_approval = "pending_approval"
    in_public_notice = "in_public_notice"
    listed = "listed"
    under_rectification = "under_rectification"
    suspended = "suspended"
    exited = "exited"
    rejected = "rejected"
    withdrawn = "withdrawn"

    @property
    def label(self) -> str:
        """The state's Chinese name."""
        return STATE_LABELS[self]


STATE_LABELS: dict[State, str] = {
    State.draft: "草稿",
    State.submitted: "已提交",
    State.in_review: "审核中",
    State.needs_supplement: "待补正",
    State.pending_approval: "待审批",
    State.in_public_notice: "公示中",
    State.listed: "已入库",
    State.under_rectification: "整改中",
    State.suspended: "暂停",
    State.exited: "已退出",
    State.rejected: "未通过",
    State.withdrawn: "已撤回",
}

# On the public whitelist (under rectification is shown with a flag).
PUBLIC_STATES: frozenset[State] = frozenset({State.listed, State.under_rectification})
# A provider holds at most one listing per district in these states.
LIVE_STATES: frozenset[State] = frozenset(State) - {State.exited, State.rejected, State.withdrawn}
# The bureau never sees a provider's unsent draft.
HIDDEN_FROM_BUREAU: frozenset[State] = frozenset({State.draft})


class Role(StrEnum):
    """Who acts. `clock` fires time-driven transitions; `system` runs jobs such as imports."""

    provider = "provider"
    reviewer = "reviewer"
    approver = "approver"
    school = "school"
    city = "city"
    clock = "clock"
    system = "system"

    @property
    def label(self) -> str:
        """The role's Chinese name."""
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.provider: "机构/个人",
    Role.reviewer: "区教育局审核员",
    Role.approver: "区教育局负责人",
    Role.school: "学校",
    Role.city: "市教委",
    Role.clock: "系统时钟",
    Role.system: "系统导入",
}

# Roles a person can hold (the clock is not a login).
HUMAN_ROLES: tuple[Role, ...] = (
    Role.provider,
    Role.reviewer,
    Role.approver,
    Role.school,
    Role.city,
)


class ExitReason(StrEnum):
    """Coded reasons a listing leaves the whitelist; each has a ban length in district policy."""

    voluntary = "voluntary"
    evaluation_failed = "evaluation_failed"
    low_satisfaction = "low_satisfaction"
    safety_incident = "safety_incident"
    upheld_complaints = "upheld_complaints"
    fee_violation = "fee_violation"
    subject_tutoring = "subject_tutoring"
    false_materials = "false_materials"
    licence_invalid = "licence_invalid"
    staff_blacklisted = "staff_blacklisted"
    no_delivery = "no_delivery"
    expired = "expired"
    merger = "merger"
    other = "other"

    @property
    def label(self) -> str:
        """The reason's Chinese name."""
        return EXIT_REASON_LABELS[self]


EXIT_REASON_LABELS: dict[ExitReason, str] = {
    ExitReason.voluntary: "自愿退出",
    ExitReason.evaluation_failed: "评估不合格",
    ExitReason.low_satisfaction: "满意度低于阈值",
    ExitReason.safety_incident: "安全事故",
    ExitReason.upheld_complaints: "投诉查实",
    ExitReason.fee_violation: "违规收费",
    ExitReason.subject_tutoring: "违规开展学科类培训",
    ExitReason.false_materials: "提供虚假材料",
    ExitReason.licence_invalid: "证照失效或年审不合格",
    ExitReason.staff_blacklisted: "从业人员失信",
    ExitReason.no_delivery: "长期未提供服务",
    ExitReason.expired: "有效期届满未续",
    ExitReason.merger: "合并注销",
    ExitReason.other: "其他",
}


def exit_reason_label(code: str | None) -> str:
    """The Chinese name of an exit reason code; "" for none, an unknown code as stored."""
    if code is not None and code in ExitReason.__members__:
        return EXIT_REASON_LABELS[ExitReason(code)]
    return code or ""


# Reasons a reviewer may give when revoking a listing (a forced exit, banned per policy).
REVOCATION_REASONS: frozenset[ExitReason] = frozenset(ExitReason) - {
    ExitReason.voluntary,
    ExitReason.expired,
    ExitReason.evaluation_failed,
}
# Reasons an evaluation can fail a listing with.
EVALUATION_EXIT_REASONS: frozenset[ExitReason] = frozenset(
    {
        ExitReason.evaluation_failed,
        ExitReason.low_satisfaction,
        ExitReason.safety_incident,
        ExitReason.fee_violation,
        ExitReason.upheld_complaints,
    }
)
