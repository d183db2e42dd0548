"""The Chinese words for every code a person can see: events, actors and roles.

States, roles and exit reasons have their labels beside their enums (workflows/states.py),
transitions in their table (workflows/transitions.py); this is the one table for everything
else that is recorded with a code (audit actions, the actors that are not people), and the
functions every page, history and export reads them through. An unknown code is shown as
a neutral word, never as the code: a page must not leak `application.created` to a parent.
"""

from __future__ import annotations

from workflows.states import ROLE_LABELS, STATE_LABELS, Role, State
from workflows.transitions import TRANSITIONS

# Audited actions that are not transitions (those take their label from the transition table).
EVENT_LABELS: dict[str, str] = {
    "application.created": "创建申请",
    "application.form_saved": "保存申请表",
    "document.uploaded": "上传材料",
    "document.deleted": "删除材料",
    "supplement.answered": "答复补正事项",
    "review.assign": "分配审核员",
    "review.course_decision": "课程审核",
    "review.expert_score": "专家评分",
    "personal_data.revealed": "查看完整个人信息",
    "objection.lodged": "收到异议",
    "objection.dismissed": "异议不成立",
    "complaint.lodged": "收到投诉",
    "complaint.investigating": "投诉调查中",
    "complaint.upheld": "投诉查实",
    "complaint.dismissed": "投诉不成立",
    "incident.reported": "报告安全事故",
    "incident.resolved": "安全事故处理完毕",
    "inspection.saved": "记录现场检查",
    "feedback.saved": "学校评价",
    "self_report.saved": "提交自查报告",
    "evaluation.provisional": "告知拟评估结果（陈述、申辩）",
    "evaluation.graded": "人工评定等级",
    "evaluation.confirmed": "确认评估结果",
    "evaluation.answered": "提交陈述、申辩",
    "cycle.opened": "开启评估周期",
    "cycle.closed": "关闭评估周期",
    "cycle.closed_early": "提前关闭评估周期",
    "rubric.saved": "保存评估细则",
    "rubric.reset": "恢复市级默认评估细则",
    "engagement.created": "登记合作项目",
    "engagement.updated": "修改合作项目",
    "engagement.deleted": "删除合作项目",
    "organisation.user_added": "添加机构账号",
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.locked": "账号锁定",
    "auth.login_locked_out": "锁定期间尝试登录",
    "auth.logout": "退出登录",
    "auth.password_changed": "修改密码",
}
# The admin records `admin.<table>.<create|update|delete>`: the verb in words.
ADMIN_VERBS = {"create": "新增", "update": "修改", "delete": "删除"}
UNKNOWN_EVENT = "其他操作"

# Who acted, when it was not a person: the audit's role column for such events.
ACTOR_LABELS: dict[str, str] = {
    **{role.value: label for role, label in ROLE_LABELS.items()},
    "public": "公众",
    "auth": "登录服务",
    "admin": "管理后台",
}
# The name recorded for an actor that is not a person (workflows/actors.py CLOCK, system jobs).
NAMELESS_ACTORS = {Role.clock.value: "系统（定时任务）", Role.system.value: "系统"}


def event_label(action: str) -> str:
    """The Chinese name of an audited action."""
    if action in TRANSITIONS:
        return TRANSITIONS[action].label
    if action in EVENT_LABELS:
        return EVENT_LABELS[action]
    parts = action.split(".")
    if len(parts) == 3 and parts[0] == "admin" and parts[2] in ADMIN_VERBS:
        return f"管理后台{ADMIN_VERBS[parts[2]]}"
    return UNKNOWN_EVENT


def role_label(role: str | None) -> str:
    """The Chinese name of a role or actor kind ('' for none)."""
    if not role:
        return ""
    return ACTOR_LABELS.get(role, "其他")


def state_label(value: str | None) -> str:
    """The Chinese name of a state code ('' for none or an unknown code)."""
    return STATE_LABELS[State(value)] if value in State.__members__ else ""


def actor_label(name: str, role: str | None) -> str:
    """Who did it, as recorded: a person's name, or the words for the clock, a job, the public."""
    if role in (Role.clock.value, Role.system.value) or not name:
        return NAMELESS_ACTORS.get(role or "", role_label(role) or "—")
    return name
