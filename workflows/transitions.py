"""The one transition table of the listing lifecycle. Anything not declared here is refused."""

from __future__ import annotations

from dataclasses import dataclass

from workflows import effects as fx
from workflows import guards as g
from workflows.effects import Effect
from workflows.guards import Guard
from workflows.states import ExitReason, Role, State

S = State
R = Role


@dataclass(frozen=True)
class Transition:
    """One declared move: who may fire it, from where, to where, on what conditions."""

    name: str
    label: str
    sources: frozenset[State]
    target: State
    roles: frozenset[Role]
    guards: tuple[Guard, ...] = ()
    reason_required: bool = False
    effects: tuple[Effect, ...] = ()
    # Time-driven: the listing column whose date must have passed (the clock's work list).
    due: str | None = None
    # Facts the engine loads from the database before the guards run.
    needs: frozenset[str] = frozenset()
    # Keep a copy of the form as submitted (FormSnapshot), for "what changed since".
    snapshot: bool = False
    # The supplement request's items: "open" stores the request's items (params["items"]) as a
    # new round; "submit" stamps the open round's answers with the new version.
    supplement: str = ""

    @property
    def all_guards(self) -> tuple[Guard, ...]:
        """Declared guards plus the deadline guard of a time-driven transition."""
        if self.due is None:
            return self.guards
        return (g.due_passed(self.due, DUE_LABELS[self.due]), *self.guards)


DUE_LABELS = {
    "notice_end": "公示期",
    "supplement_due": "补正期限",
    "valid_until": "入库有效期",
    "rectification_due": "整改期限",
}

BEFORE_DECISION = frozenset({S.submitted, S.in_review, S.needs_supplement, S.pending_approval})
ON_WHITELIST = frozenset({S.listed, S.under_rectification})


def _t(
    name: str,
    label: str,
    sources: set[State] | frozenset[State],
    target: State,
    roles: set[Role],
    **options: object,
) -> Transition:
    return Transition(name, label, frozenset(sources), target, frozenset(roles), **options)  # type: ignore[arg-type]


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        # Application and review.
        _t("submit", "提交申请", {S.draft}, S.submitted, {R.provider},
           guards=(g.form_is_complete, g.checks_pass, g.not_banned, g.no_other_live_listing),
           effects=(fx.stamp_submission,), snapshot=True,
           needs=frozenset({"banned_until", "other_live_listing", "documents", "district"})),
        _t("withdraw", "撤回申请", BEFORE_DECISION, S.withdrawn, {R.provider}),
        _t("accept", "形式审查通过", {S.submitted}, S.in_review, {R.reviewer}),
        _t("request_supplement", "要求补正", {S.submitted, S.in_review}, S.needs_supplement,
           {R.reviewer}, guards=(g.valid_supplement_due, g.valid_supplement_items),
           reason_required=True, effects=(fx.open_supplement,), supplement="open"),
        _t("resubmit", "提交补正材料", {S.needs_supplement}, S.in_review, {R.provider},
           guards=(g.before_supplement_due, g.supplement_answered, g.form_is_complete,
                   g.checks_pass), snapshot=True,
           effects=(fx.close_supplement, fx.stamp_submission), supplement="submit",
           needs=frozenset({"documents", "district", "supplement_items"})),
        _t("recommend", "推荐入库", {S.in_review}, S.pending_approval, {R.reviewer},
           guards=(g.not_the_rejecter_after_appeal, g.expert_review_complete),
           effects=(fx.record_recommender,), needs=frozenset({"expert_scores"})),
        _t("reject", "不予通过", {S.in_review}, S.rejected, {R.reviewer},
           guards=(g.not_the_rejecter_after_appeal,), reason_required=True,
           effects=(fx.record_rejection,)),
        _t("approve", "审批同意（进入公示）", {S.pending_approval}, S.in_public_notice,
           {R.approver},
           guards=(g.not_the_recommender,), effects=(fx.open_notice,)),
        _t("send_back", "退回重审", {S.pending_approval}, S.in_review, {R.approver},
           reason_required=True, effects=(fx.forget_recommender,)),
        _t("appeal", "申请复核", {S.rejected}, S.in_review, {R.provider},
           guards=(g.within_appeal_window,), reason_required=True,
           effects=(fx.record_appeal, fx.forget_recommender)),
        # A district's existing whitelist, brought in by `registry import whitelist`.
        _t("import", "导入白名单", {S.draft}, S.listed, {R.system},
           guards=(g.valid_import_validity, g.not_banned),
           effects=(fx.put_on_whitelist, fx.imported_validity), needs=frozenset({"banned_until"})),
        # Public notice.
        _t("uphold_objection", "异议成立", {S.in_public_notice}, S.rejected, {R.reviewer},
           reason_required=True, effects=(fx.record_rejection,)),
        _t("end_notice", "公示期满入库", {S.in_public_notice}, S.listed, {R.clock},
           due="notice_end", guards=(g.no_pending_objection,), effects=(fx.put_on_whitelist,),
           needs=frozenset({"pending_objections"})),
        _t("lapse_supplement", "补正逾期", {S.needs_supplement}, S.withdrawn, {R.clock},
           due="supplement_due", effects=(fx.close_supplement,)),
        # On the whitelist.
        _t("put_under_rectification", "责令整改", {S.listed}, S.under_rectification,
           {R.reviewer}, reason_required=True, effects=(fx.open_rectification,)),
        _t("close_rectification", "整改完成", {S.under_rectification}, S.listed, {R.reviewer},
           effects=(fx.close_rectification,)),
        _t("lapse_rectification", "整改逾期退出", {S.under_rectification}, S.exited, {R.clock},
           due="rectification_due", effects=(fx.exit_with(ExitReason.evaluation_failed),)),
        _t("suspend", "暂停", ON_WHITELIST, S.suspended, {R.reviewer}, reason_required=True),
        # A major safety incident suspends at once, whoever reported it (the system fires it).
        _t("suspend_for_incident", "重大安全事故暂停", ON_WHITELIST, S.suspended, {R.system},
           reason_required=True),
        _t("reinstate", "恢复", {S.suspended}, S.listed, {R.reviewer}, reason_required=True,
           effects=(fx.close_rectification,)),
        _t("renew", "续期", {S.listed}, S.listed, {R.reviewer}, effects=(fx.extend_validity,)),
        # Exit.
        _t("exit_voluntary", "自愿退出", ON_WHITELIST, S.exited, {R.provider},
           effects=(fx.exit_with(ExitReason.voluntary),)),
        _t("revoke", "撤销入库", ON_WHITELIST | {S.suspended, S.in_public_notice}, S.exited,
           {R.reviewer}, guards=(g.valid_revocation_reason,), reason_required=True,
           effects=(fx.exit_with(),)),
        _t("fail_evaluation", "评估不合格退出", ON_WHITELIST | {S.suspended}, S.exited,
           {R.reviewer},
           guards=(g.valid_evaluation_reason,), reason_required=True, effects=(fx.exit_with(),)),
        _t("expire", "有效期届满", ON_WHITELIST, S.exited, {R.clock}, due="valid_until",
           effects=(fx.exit_with(ExitReason.expired),)),
    )
}  # fmt: skip

CLOCK_TRANSITIONS: tuple[Transition, ...] = tuple(
    t for t in TRANSITIONS.values() if Role.clock in t.roles
)
