"""Guards: pure predicates over a Context. Each returns the refusals (empty when it passes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from schemas import APPLICATION, validate
from workflows.context import Context, Refusal
from workflows.states import EVALUATION_EXIT_REASONS, REVOCATION_REASONS, ExitReason

Guard = Callable[[Context], list[Refusal]]


def _fmt(day: object) -> str:
    return str(day) if day is not None else "未设定"


def not_the_recommender(ctx: Context) -> list[Refusal]:
    """Four-eyes: the approver must not be the reviewer who recommended."""
    if ctx.actor.user_id is not None and ctx.actor.user_id == ctx.listing["recommended_by"]:
        return [Refusal("actor", "four_eyes", "审批人不能是提出推荐意见的审核员（双人复核）")]
    return []


def not_the_rejecter_after_appeal(ctx: Context) -> list[Refusal]:
    """An appeal is decided by a reviewer other than the one who rejected."""
    if ctx.listing["appealed"] and ctx.actor.user_id == ctx.listing["rejected_by"]:
        return [Refusal("actor", "appeal_same_reviewer", "复核须由原审核员以外的审核员办理")]
    return []


def within_appeal_window(ctx: Context) -> list[Refusal]:
    """A rejection may be appealed once, within the policy's working days."""
    if ctx.listing["appealed"]:
        return [Refusal("action", "appeal_used", "该申请已复核过一次，不能再次申请复核")]
    due = ctx.listing["appeal_due"]
    if due is None or ctx.today > due:
        return [Refusal("action", "appeal_window_closed", f"复核申请期限已过（截止 {_fmt(due)}）")]
    return []


def due_passed(column: str, label: str) -> Guard:
    """A time-driven transition fires only after the day in `column` has ended."""

    def guard(ctx: Context) -> list[Refusal]:
        due = ctx.listing[column]
        if due is None or ctx.today <= due:
            return [Refusal(column, "not_due", f"{label}尚未届满（截止 {_fmt(due)}）")]
        return []

    guard.__name__ = f"{column}_passed"
    guard.__doc__ = f"Fires only after {column} has passed."
    return guard


def _exit_reason_in(allowed: frozenset[ExitReason], default: ExitReason | None) -> Guard:
    def guard(ctx: Context) -> list[Refusal]:
        code = ctx.params.get("exit_reason") or (default.value if default else None)
        if code not in {r.value for r in allowed}:
            choices = "、".join(sorted(r.label for r in allowed))
            return [
                Refusal("exit_reason", "invalid_exit_reason", f"退出原因必须是以下之一：{choices}")
            ]
        return []

    return guard


valid_revocation_reason = _exit_reason_in(REVOCATION_REASONS, None)
valid_revocation_reason.__name__ = "valid_revocation_reason"
valid_evaluation_reason = _exit_reason_in(EVALUATION_EXIT_REASONS, ExitReason.evaluation_failed)
valid_evaluation_reason.__name__ = "valid_evaluation_reason"


def form_is_complete(ctx: Context) -> list[Refusal]:
    """The application form validates against its JSON Schema."""
    return [
        Refusal(f"form.{e.field}" if e.field else "form", e.code, e.message)
        for e in validate(APPLICATION, ctx.listing["form"])
    ]


def not_banned(ctx: Context) -> list[Refusal]:
    """A provider exited with a ban may not apply to that district again before it ends."""
    banned_until = ctx.facts.get("banned_until")
    if banned_until is not None and ctx.today <= banned_until:
        return [
            Refusal("district", "banned", f"该机构在本区被禁止重新申请，禁入期至 {banned_until}")
        ]
    return []


def no_other_live_listing(ctx: Context) -> list[Refusal]:
    """One live listing per provider and district."""
    if ctx.facts.get("other_live_listing"):
        return [
            Refusal("district", "duplicate_listing", "该机构在本区已有进行中的申请或已入库记录")
        ]
    return []


def checks_pass(ctx: Context) -> list[Refusal]:
    """The automatic checks find nothing that blocks submission (warnings go to the reviewer)."""
    from workflows.checks import run_checks  # checks import guards' neighbours; avoid a cycle

    return [finding.refusal for finding in run_checks(ctx) if finding.blocking]


def valid_supplement_due(ctx: Context) -> list[Refusal]:
    """A reviewer-chosen supplement deadline is a real date after today."""
    due = ctx.params.get("due")
    if due in (None, ""):
        return []
    try:
        day = date.fromisoformat(str(due))
    except ValueError:
        return [Refusal("due", "format", "补正期限应为日期，格式如 2026-12-31")]
    if day <= ctx.today:
        return [Refusal("due", "minimum", f"补正期限必须晚于今天（{ctx.today}）")]
    return []


SUPPLEMENT_ITEMS_MAX = 30
SUPPLEMENT_ITEM_LENGTH = 500


def _short(text: str, length: int = 20) -> str:
    return text if len(text) <= length else text[:length] + "…"


def valid_supplement_items(ctx: Context) -> list[Refusal]:
    """A supplement request's items: a readable number of them, each of a readable length."""
    items = list(ctx.params.get("items") or [])
    if len(items) > SUPPLEMENT_ITEMS_MAX:
        return [
            Refusal(
                "supplement_items",
                "maxItems",
                f"补正事项最多 {SUPPLEMENT_ITEMS_MAX} 项（现有 {len(items)} 项），请合并相近的事项",
            )
        ]
    return [
        Refusal(
            f"supplement_items[{index}]",
            "maxLength",
            f"补正事项 {index + 1}「{_short(str(item))}」超过 {SUPPLEMENT_ITEM_LENGTH} 字，"
            "请分成几项",
        )
        for index, item in enumerate(items)
        if len(str(item)) > SUPPLEMENT_ITEM_LENGTH
    ]


def supplement_answered(ctx: Context) -> list[Refusal]:
    """Every item of the open supplement request has an answer: a text or a document.

    An item answered only by editing the form still needs a line saying so ("已在申请表中修改"):
    the reviewer reads the answers item by item and must not have to guess which edit meant what.
    """
    return [
        Refusal(
            f"supplement_items[{item['number'] - 1}]",
            "unanswered",
            f"补正事项 {item['number']}「{_short(item['text'])}」尚未答复："
            "请填写答复说明或上传材料（仅修改了申请表的，写明“已在申请表中修改”即可）",
        )
        for item in ctx.facts.get("supplement_items") or []
        if not str(item["answer"]).strip() and not item["documents"]
    ]


def expert_review_complete(ctx: Context) -> list[Refusal]:
    """Where policy asks for expert review: two scores, and a moderator's if they disagree."""
    review = ctx.policy.get("expert_review") or {}
    if not review.get("required"):
        return []
    scores = ctx.facts.get("expert_scores", [])
    independent = [s for s in scores if not s["moderator"]]
    if len({s["reviewer"] for s in independent}) < 2:
        return [
            Refusal(
                "expert_review",
                "incomplete",
                f"本区要求专家评审：须两名审核员独立评分（已有 {len(independent)} 份）",
            )
        ]
    first, second = independent[0]["total"], independent[1]["total"]
    if abs(first - second) > float(review.get("tolerance", 0)) and not any(
        s["moderator"] for s in scores
    ):
        return [
            Refusal(
                "expert_review",
                "needs_moderator",
                f"两名审核员评分相差 {abs(first - second)} 分，超过允许的 "
                f"{review.get('tolerance')} 分，须由第三名审核员裁定",
            )
        ]
    return []


def no_pending_objection(ctx: Context) -> list[Refusal]:
    """A notice with an undecided objection waits for the reviewer before listing."""
    pending = int(ctx.facts.get("pending_objections", 0))
    if pending:
        return [Refusal("objections", "pending_objection", f"公示期内有 {pending} 件异议尚未处理")]
    return []


def before_supplement_due(ctx: Context) -> list[Refusal]:
    """A supplement is accepted until the end of its deadline day."""
    due = ctx.listing["supplement_due"]
    if due is not None and ctx.today > due:
        return [
            Refusal("supplement_due", "deadline_passed", f"补正期限已于 {due} 届满，不能再提交")
        ]
    return []


def valid_import_validity(ctx: Context) -> list[Refusal]:
    """An imported listing's end of validity, when given, is a date not yet past."""
    given = ctx.params.get("valid_until")
    if given in (None, ""):
        return []
    try:
        day = date.fromisoformat(str(given))
    except ValueError:
        return [
            Refusal("valid_until", "format", f"有效期至应为日期，如 2027-08-31，实际为“{given}”")
        ]
    if day < ctx.today:
        return [Refusal("valid_until", "minimum", f"有效期已于 {day} 届满，不能导入")]
    return []
