"""What bureau staff and providers write with each decision: internal notes and messages."""

from __future__ import annotations

import random
from datetime import date

from workflows.states import ExitReason

SUPPLEMENT_ITEMS = (
    "主教练资格证书复印件不清晰，请重新上传",
    "缺少培训场地租赁合同及消防验收合格证明",
    "保险单未附被保险人清单，请补充保单附件",
    "一名授课人员的无犯罪记录证明缺失",
    "安全保障方案未写明放学接送交接流程",
    "课程大纲过于简略，请补充每周教学安排",
    "收费标准未注明是否包含材料费",
    "营业执照副本未加盖公章",
)
REJECTION_REASONS = (
    "主教练无有效资格证书，师资不符合准入条件",
    "培训场地未取得消防验收合格证明",
    "申报课程实际为学科类培训内容，不属于非学科类范围",
    "机构从业人员健康证明均已过期，且未能补正",
    "安全保障方案缺少突发事件处置流程，经补正仍不完整",
)
OBJECTIONS = (
    "公示期间收到家长实名异议，反映该机构在校外开展学科类培训，经现场核查属实，异议成立。",
    "公示期间收到实名异议，反映主教练曾因体罚学员受到行政处罚，经核实属实，异议成立。",
    "公示期间收到学校实名异议，反映该机构申报场地与实际上课场地不符，经核查属实，异议成立。",
)
RECTIFICATIONS = (
    "家长反映上课多次迟到、课堂秩序松散",
    "抽查发现两名授课人员健康证明已过期仍在授课",
    "学校反馈放学接送交接记录不完整",
    "学期评估得分68分（合格），低于本区整改线",
    "家长投诉课程实际收费高于公示标准，经核实已退还差额",
)
SUSPENSIONS = (
    "学生训练中意外受伤送医，暂停服务并开展调查",
    "接到多起实名投诉反映超标准收费，暂停服务待查",
    "授课人员涉嫌不当言行，暂停服务待查",
    "消防检查发现培训场地安全出口堵塞，暂停服务待查",
)
REVOCATIONS: dict[ExitReason, str] = {
    ExitReason.safety_incident: "课后服务期间发生学生骨折事故，经调查机构未落实安全保护措施",
    ExitReason.fee_violation: "经查实向学生收取课程费以外的教材费、服装费，违反收费规定",
    ExitReason.subject_tutoring: "经查实在课后服务时段开展小学奥数学科类培训",
    ExitReason.false_materials: "申报的教练员资格证书经发证机关核查系伪造",
    ExitReason.upheld_complaints: "本学期三起家长投诉经调查均属实，且拒不整改",
    ExitReason.licence_invalid: "机构营业执照已被市场监管部门吊销",
    ExitReason.staff_blacklisted: "授课人员被列入失信被执行人名单，机构未及时调整人员",
    ExitReason.no_delivery: "入库后连续两个学期未与任何学校开展合作",
}
PROVIDER_WITHDRAWALS = (
    "培训场地租约变更，暂不申请",
    "课程安排调整，撤回后另行申请",
    "机构经营计划调整，撤回本次申请",
)
VOLUNTARY_EXITS = (
    "机构经营调整，申请自愿退出本区白名单",
    "培训场地搬迁至外区，申请退出本区白名单",
    "主要授课人员离职，暂停课后服务业务",
)
APPEALS = (
    "已补充主教练有效资格证书及场地消防验收合格证明，申请复核。",
    "对不予通过的理由有异议：所申报课程均为非学科类内容，附课程教案，申请复核。",
    "健康证明已重新办理，附新证明，申请复核。",
)


def day(value: date) -> str:
    """A date as officials write it: 2026年3月2日."""
    return f"{value.year}年{value.month}月{value.day}日"


def term(value: date) -> str:
    """The school term a date falls in: 2025年秋季学期."""
    if value.month >= 9:
        return f"{value.year}年秋季学期"
    if value.month >= 2:
        return f"{value.year}年春季学期"
    return f"{value.year - 1}年秋季学期"


def supplement(rng: random.Random, due: date) -> tuple[str, str]:
    """A supplement request: what is missing, and the deadline."""
    items = "；".join(rng.sample(SUPPLEMENT_ITEMS, rng.randint(1, 2)))
    message = f"您的申请材料需要补正：{items}。请于{day(due)}前提交补正材料，逾期视为撤回申请。"
    return f"材料不全：{items}", message


def rejection(rng: random.Random, appeal_due: date | None) -> tuple[str, str]:
    """A rejection with the appeal deadline (none when it decides an appeal)."""
    reason = rng.choice(REJECTION_REASONS)
    if appeal_due is None:
        return f"复核维持原意见：{reason}", f"经复核，维持不予通过的决定。理由：{reason}。"
    return (
        reason,
        f"经资格审查，您的申请未予通过。理由：{reason}。如有异议，可于{day(appeal_due)}前申请复核。",
    )


def objection(rng: random.Random, appeal_due: date | None) -> tuple[str, str]:
    """An objection upheld during the public notice."""
    tail = f"如有异议，可于{day(appeal_due)}前申请复核。" if appeal_due else ""
    return rng.choice(OBJECTIONS), f"公示期间收到的异议经核查成立，您的入库申请未予通过。{tail}"


def rectification(rng: random.Random, due: date) -> tuple[str, str]:
    """An order to rectify by a deadline."""
    finding = rng.choice(RECTIFICATIONS)
    return (
        finding,
        f"经核查：{finding}。请于{day(due)}前完成整改并提交整改报告，整改期间学校不得新增合作。",
    )


def suspension(rng: random.Random) -> tuple[str, str]:
    """A suspension while an incident is investigated."""
    return rng.choice(SUSPENSIONS), "您的课后服务资格已暂停，调查期间不得开展新的合作，请配合调查。"


def ban_text(banned_until: date | None) -> str:
    """The re-application ban, as the provider reads it."""
    return f"自即日起至{day(banned_until)}不得在本区重新申请。" if banned_until else ""


def revocation(reason: ExitReason, banned_until: date | None) -> tuple[str, str]:
    """A forced exit with its coded reason and ban."""
    finding = REVOCATIONS[reason]
    return finding, f"因{reason.label}（{finding}），撤销您的入库资格。{ban_text(banned_until)}"


def evaluation_exit(
    rng: random.Random, reason: ExitReason, when: date, banned_until: date | None
) -> tuple[str, str]:
    """An exit after a failed evaluation or low satisfaction."""
    if reason == ExitReason.low_satisfaction:
        finding = f"{term(when)}家长满意度调查满意率为{rng.randint(48, 66)}%，低于70%的阈值"
    else:
        finding = f"{term(when)}综合评估得分{rng.randint(41, 59)}分，评定为不合格"
    return finding, f"{finding}，您已退出本区白名单。{ban_text(banned_until)}"
