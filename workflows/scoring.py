"""Evaluation scoring: a rubric and one listing's inputs give a score, a grade and a consequence.

Pure functions, no database: the same code scores a closing cycle, a rubric preview and the
table-driven tests. Every figure is a Decimal rounded to hundredths, and the total is the sum
of the rounded item points, so a person adding up the breakdown by hand gets the same score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from schemas import RUBRIC, FieldError, validate
from workflows.states import ExitReason

CENT = Decimal("0.01")
HUNDRED = Decimal(100)

GRADE_LABELS: dict[str, str] = {
    "excellent": "优秀",
    "good": "良好",
    "pass": "合格",
    "fail": "不合格",
}
# Best first: the order the grade sort and the summary use.
GRADE_ORDER: tuple[str, ...] = ("excellent", "good", "pass", "fail")


class Consequence(StrEnum):
    renew = "renew"
    rectification = "rectification"
    exit = "exit"
    none = "none"

    @property
    def label(self) -> str:
        return CONSEQUENCE_LABELS[self]


CONSEQUENCE_LABELS: dict[Consequence, str] = {
    Consequence.renew: "合格续期",
    Consequence.rectification: "责令整改",
    Consequence.exit: "退出白名单",
    Consequence.none: "暂不处理（需人工评定）",
}

SCORE_SOURCES = frozenset({"school_feedback", "parent_satisfaction", "inspection", "self_report"})
SOURCE_LABELS: dict[str, str] = {
    "school_feedback": "学校评价",
    "parent_satisfaction": "家长满意度",
    "inspection": "现场检查",
    "self_report": "自查报告",
    "upheld_complaints": "投诉查实",
    "safety_incidents": "安全事故",
    "missing_self_report": "未提交自查报告",
}
EVIDENCE_LABELS: dict[str, str] = {
    "school_ratings": "学校评价",
    "parent_responses": "家长问卷",
    "inspection": "现场检查",
}
SEVERITY_LABELS: dict[str, str] = {"minor": "一般", "serious": "较大", "major": "重大"}
TALLY_LABELS: dict[str, str] = {
    "very_satisfied": "非常满意",
    "satisfied": "满意",
    "neutral": "一般",
    "dissatisfied": "不满意",
}


def cents(value: Decimal | int | float) -> Decimal:
    """Round half up to hundredths (the precision every figure is shown and compared in)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Tally:
    """Parent-survey answers (家长满意度问卷), summed over a listing's engagements."""

    very_satisfied: int = 0
    satisfied: int = 0
    neutral: int = 0
    dissatisfied: int = 0

    @property
    def total(self) -> int:
        return self.very_satisfied + self.satisfied + self.neutral + self.dissatisfied

    @property
    def content(self) -> int:
        return self.very_satisfied + self.satisfied

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.very_satisfied + other.very_satisfied,
            self.satisfied + other.satisfied,
            self.neutral + other.neutral,
            self.dissatisfied + other.dissatisfied,
        )

    def as_dict(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in TALLY_LABELS}


class SelfReportStatus(StrEnum):
    on_time = "on_time"
    late = "late"
    incomplete = "incomplete"


@dataclass(frozen=True)
class Inputs:
    """Everything a cycle knows about one listing."""

    listing_id: int
    school_scores: Sequence[Mapping[str, int]] = ()
    tally: Tally = field(default_factory=Tally)
    upheld_complaints: int = 0
    complaint_fee_violations: int = 0
    incidents: Mapping[str, int] = field(default_factory=dict)
    inspection: int | None = None
    inspection_fee_violation: bool = False
    self_report: SelfReportStatus | None = None
    # True only once the report's deadline has passed without one (before it, none is owed).
    self_report_overdue: bool = False
    rectified_last_cycle: bool = False

    @property
    def school_ratings(self) -> int:
        return len([s for s in self.school_scores if any(v is not None for v in s.values())])

    def evidence(self) -> dict[str, Any]:
        """What the result can rest on, in the terms of the rubric's evidence rules."""
        return {
            "school_ratings": self.school_ratings,
            "parent_responses": self.tally.total,
            "inspection": self.inspection is not None,
        }


@dataclass(frozen=True)
class Line:
    """One rubric item of the breakdown: what went in and the points that came out."""

    key: str
    label: str
    source: str
    kind: str  # "score" or "deduction"
    inputs: dict[str, Any]
    note: str
    weight: Decimal | None = None
    effective_weight: Decimal | None = None
    score: Decimal | None = None
    # None: the item is unscored (its input is missing) and counts for nothing either way.
    points: Decimal | None = Decimal(0)

    def as_dict(self) -> dict[str, Any]:
        def num(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "key": self.key,
            "label": self.label,
            "source": self.source,
            "kind": self.kind,
            "inputs": self.inputs,
            "note": self.note,
            "weight": num(self.weight),
            "effective_weight": num(self.effective_weight),
            "score": num(self.score),
            "points": num(self.points),
        }


@dataclass(frozen=True)
class Evaluation:
    """A listing's result in a cycle."""

    listing_id: int
    score: Decimal | None
    grade: str | None
    lines: tuple[Line, ...]
    vetoes: tuple[tuple[ExitReason, str], ...]
    consequence: Consequence
    exit_reason: ExitReason | None
    explanation: str
    school_responses: int
    parent_responses: int
    # The grade the score alone reaches, and why the evidence does not carry it (if it does not).
    score_grade: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    evidence_gaps: tuple[str, ...] = ()

    @property
    def needs_manual_grading(self) -> bool:
        return self.consequence == Consequence.none

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS.get(self.grade or "", "未评定")

    @property
    def score_centi(self) -> int | None:
        return None if self.score is None else int(self.score * 100)

    def breakdown(self) -> dict[str, Any]:
        """A JSON-safe record a person can check by hand."""
        return {
            "score": None if self.score is None else str(self.score),
            "grade": self.grade,
            "lines": [line.as_dict() for line in self.lines],
            "vetoes": [{"exit_reason": r.value, "text": text} for r, text in self.vetoes],
            "consequence": self.consequence.value,
            "exit_reason": self.exit_reason.value if self.exit_reason else None,
            "explanation": self.explanation,
            "school_responses": self.school_responses,
            "parent_responses": self.parent_responses,
            "score_grade": self.score_grade,
            "evidence": dict(self.evidence),
            "evidence_gaps": list(self.evidence_gaps),
        }


# --- the rubric ----------------------------------------------------------------------------


def rubric_problems(rubric: object) -> list[FieldError]:
    """Every problem of a candidate rubric: its schema first, then the rules between fields."""
    problems = validate(RUBRIC, rubric)
    if problems or not isinstance(rubric, dict):
        return problems
    items: list[dict[str, Any]] = rubric["items"]
    seen_keys: set[str] = set()
    seen_sources: set[str] = set()
    for index, item in enumerate(items):
        if item["key"] in seen_keys:
            problems.append(
                FieldError(f"items[{index}].key", "duplicate", f"项目代码“{item['key']}”重复")
            )
        if item["source"] in seen_sources:
            problems.append(
                FieldError(
                    f"items[{index}].source",
                    "duplicate",
                    f"数据来源“{SOURCE_LABELS[item['source']]}”只能出现一次",
                )
            )
        seen_keys.add(item["key"])
        seen_sources.add(item["source"])
        questions = [q["key"] for q in item.get("questions", ())]
        if len(set(questions)) != len(questions):
            problems.append(
                FieldError(f"items[{index}].questions", "duplicate", "学校评价题目代码有重复")
            )
    weights = [Decimal(str(i["weight"])) for i in items if i["source"] in SCORE_SOURCES]
    total_weight = sum(weights, Decimal(0))
    if not weights:
        problems.append(FieldError("items", "no_scored_item", "评估细则至少需要一个加权评分项"))
    elif total_weight != HUNDRED:
        problems.append(
            FieldError("items", "weights", f"各评分项权重之和应为100，现为{_plain(total_weight)}")
        )
    grades = rubric["grades"]
    if not grades["excellent"] > grades["good"] > grades["pass"]:
        problems.append(
            FieldError("grades", "order", "等级线应满足：优秀等级线 > 良好等级线 > 合格等级线")
        )
    if not grades["pass"] <= rubric["rectification_below"] <= grades["good"]:
        problems.append(
            FieldError(
                "rectification_below",
                "range",
                "整改线应不低于合格等级线、不高于良好等级线",
            )
        )
    return problems


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def grade_of(score: Decimal, grades: Mapping[str, Any]) -> str:
    """The grade of a score by the rubric's thresholds (inclusive lower bounds)."""
    for grade in ("excellent", "good", "pass"):
        if score >= Decimal(str(grades[grade])):
            return grade
    return "fail"


# --- the items -----------------------------------------------------------------------------


def _school_feedback(
    item: Mapping[str, Any], inputs: Inputs
) -> tuple[Decimal | None, dict[str, Any]]:
    keys = [q["key"] for q in item["questions"]]
    means: list[Decimal] = []
    for scores in inputs.school_scores:
        answered = [Decimal(int(scores[k])) for k in keys if scores.get(k) is not None]
        if answered:
            means.append(cents(sum(answered) / len(answered)))
    info = {"schools": len(means), "school_means": [str(m) for m in means]}
    return (cents(sum(means) / len(means)) if means else None), info


def _parent_satisfaction(
    item: Mapping[str, Any], inputs: Inputs
) -> tuple[Decimal | None, dict[str, Any]]:
    tally = inputs.tally
    info: dict[str, Any] = {**tally.as_dict(), "responses": tally.total}
    if not tally.total:
        return None, info
    points = item["points"]
    weighted = sum(Decimal(str(points[k])) * n for k, n in tally.as_dict().items())
    return cents(weighted / tally.total), info


def _inspection(item: Mapping[str, Any], inputs: Inputs) -> tuple[Decimal | None, dict[str, Any]]:
    info = {"inspection": inputs.inspection, "fee_violation": inputs.inspection_fee_violation}
    return (None if inputs.inspection is None else cents(inputs.inspection)), info


_SELF_REPORT_NOTES = {
    SelfReportStatus.on_time: "按时提交且内容完整",
    SelfReportStatus.late: "逾期提交",
    SelfReportStatus.incomplete: "内容不完整",
}


def _self_report(item: Mapping[str, Any], inputs: Inputs) -> tuple[Decimal | None, dict[str, Any]]:
    status = inputs.self_report
    info = {"status": status.value if status else None}
    if status is None:
        return None, info
    score = {
        SelfReportStatus.on_time: HUNDRED,
        SelfReportStatus.late: cents(item["late_score"]),
        SelfReportStatus.incomplete: Decimal(0),
    }[status]
    return cents(score), info


_SCORERS = {
    "school_feedback": _school_feedback,
    "parent_satisfaction": _parent_satisfaction,
    "inspection": _inspection,
    "self_report": _self_report,
}
_MISSING_NOTES = {
    "school_feedback": "无合作学校评价",
    "parent_satisfaction": "无家长问卷",
    "inspection": "未进行现场检查",
    "self_report": "未提交自查报告",
}


def _scored_lines(rubric: Mapping[str, Any], inputs: Inputs) -> list[Line]:
    """The weighted items. A missing input leaves its item unscored: it is neither zero nor
    part of the total, and the weights of the scored items are scaled up to 100 in the open
    (the note names the items left out); the evidence rules then decide whether so little
    can carry a grade at all."""
    raw: list[tuple[Mapping[str, Any], Decimal | None, dict[str, Any], str]] = []
    for item in rubric["items"]:
        if item["source"] not in SCORE_SOURCES:
            continue
        score, info = _SCORERS[item["source"]](item, inputs)
        if score is None:
            note = f"{_MISSING_NOTES[item['source']]}，本项不计分"
        elif item["source"] == "self_report" and inputs.self_report is not None:
            note = _SELF_REPORT_NOTES[inputs.self_report]
        else:
            note = ""
        raw.append((item, score, info, note))
    present = sum(Decimal(str(i["weight"])) for i, s, _, _ in raw if s is not None)
    left_out = "、".join(i["label"] for i, s, _, _ in raw if s is None)
    lines = []
    for item, score, info, note in raw:
        weight = Decimal(str(item["weight"]))
        effective = cents(weight * HUNDRED / present) if score is not None and present else None
        points = cents(score * effective / HUNDRED) if score is not None and effective else None
        if score is not None and present != HUNDRED and present:
            note = (note + "；" if note else "") + (
                f"权重由{_plain(weight)}按比例调整为{effective}（{left_out}不计分）"
            )
        lines.append(
            Line(
                key=item["key"],
                label=item["label"],
                source=item["source"],
                kind="score",
                inputs=info,
                note=note,
                weight=weight,
                effective_weight=effective,
                score=score,
                points=points,
            )
        )
    return lines


def _deduction_lines(rubric: Mapping[str, Any], inputs: Inputs) -> list[Line]:
    lines = []
    for item in rubric["items"]:
        cap = Decimal(str(item.get("cap", 0)))
        if item["source"] == "upheld_complaints":
            per = Decimal(str(item["per_complaint"]))
            raw = per * inputs.upheld_complaints
            info: dict[str, Any] = {"upheld": inputs.upheld_complaints}
            note = f"查实投诉{inputs.upheld_complaints}件，每件扣{_plain(per)}分"
        elif item["source"] == "safety_incidents":
            per_severity = item["per_severity"]
            raw = sum(
                (Decimal(str(per_severity.get(sev, 0))) * n for sev, n in inputs.incidents.items()),
                Decimal(0),
            )
            info = {sev: inputs.incidents.get(sev, 0) for sev in SEVERITY_LABELS}
            counted = "、".join(f"{SEVERITY_LABELS[s]}{n}起" for s, n in info.items() if n)
            note = f"安全事故：{counted}" if counted else "无安全事故"
        elif item["source"] == "missing_self_report":
            if not inputs.self_report_overdue:
                continue
            raw = cap = Decimal(str(item["deduct"]))
            info = {"self_report": None}
            note = f"自查报告逾期未提交，按细则扣{_plain(cap)}分"
        else:
            continue
        points = cents(min(raw, cap))
        if raw > cap:
            note += f"，扣分以上限{_plain(cap)}分计"
        lines.append(
            Line(
                key=item["key"],
                label=item["label"],
                source=item["source"],
                kind="deduction",
                inputs=info,
                note=note,
                points=-points,
            )
        )
    return lines


def _vetoes(rubric: Mapping[str, Any], inputs: Inputs) -> list[tuple[ExitReason, str]]:
    found: list[tuple[ExitReason, str]] = []
    veto = rubric["veto"]
    if veto["major_incident"] and inputs.incidents.get("major", 0):
        found.append((ExitReason.safety_incident, "发生重大安全事故，一票否决"))
    fee = inputs.inspection_fee_violation or inputs.complaint_fee_violations
    if veto["fee_violation"] and fee:
        found.append((ExitReason.fee_violation, "查实违规收费，一票否决"))
    rule = rubric["satisfaction"]
    tally = inputs.tally
    threshold = Decimal(str(rule["threshold"]))
    enough = tally.total and tally.total >= int(rule.get("min_responses", 1))
    # Compared in integers, so 79.99% never rounds up to the threshold.
    if enough and tally.content * HUNDRED < threshold * tally.total:
        share = cents(Decimal(tally.content) * HUNDRED / tally.total)
        found.append(
            (
                ExitReason.low_satisfaction,
                f"家长满意度{share}%（{tally.content}/{tally.total}）低于{_plain(threshold)}%",
            )
        )
    return found


def evidence_gaps(rubric: Mapping[str, Any], grade: str, evidence: Mapping[str, Any]) -> list[str]:
    """What a grade needs by the rubric's evidence rules and the result does not have."""
    rule = (rubric.get("evidence") or {}).get(grade)
    if not rule:
        return []
    label = GRADE_LABELS[grade]
    gaps = []
    for key in ("school_ratings", "parent_responses"):
        need, have = int(rule.get(key, 0)), int(evidence.get(key, 0))
        if have < need:
            unit = "所" if key == "school_ratings" else "份"
            gaps.append(f"{label}须至少{need}{unit}{EVIDENCE_LABELS[key]}，现有{have}{unit}")
    if rule.get("inspection") and not evidence.get("inspection"):
        gaps.append(f"{label}须有现场检查，本周期未检查")
    return gaps


def evaluate(rubric: Mapping[str, Any], inputs: Inputs) -> Evaluation:
    """Score one listing against a rubric and decide what follows."""
    scored = _scored_lines(rubric, inputs)
    deductions = _deduction_lines(rubric, inputs)
    vetoes = tuple(_vetoes(rubric, inputs))
    evidence = inputs.evidence()
    score: Decimal | None = None
    score_grade: str | None = None
    if any(line.points is not None for line in scored):
        total = sum((line.points for line in scored + deductions if line.points), Decimal(0))
        score = max(cents(total), Decimal("0.00"))
        score_grade = grade_of(score, rubric["grades"])
    # A veto rests on its own proven fact (an incident, a fee found, the parents' answers).
    gaps = [] if vetoes or score_grade is None else evidence_gaps(rubric, score_grade, evidence)
    grade = None if gaps else score_grade
    consequence, reason, explanation = consequence_for(
        rubric, score, grade, vetoes, inputs.rectified_last_cycle
    )
    if gaps:
        explanation = "证据不足，需人工评定：" + "；".join(gaps)
    return Evaluation(
        listing_id=inputs.listing_id,
        score=score,
        grade=grade,
        lines=tuple(scored + deductions),
        vetoes=vetoes,
        consequence=consequence,
        exit_reason=reason,
        explanation=explanation,
        school_responses=inputs.school_ratings,
        parent_responses=inputs.tally.total,
        score_grade=score_grade,
        evidence=evidence,
        evidence_gaps=tuple(gaps),
    )


def consequence_for(
    rubric: Mapping[str, Any],
    score: Decimal | None,
    grade: str | None,
    vetoes: tuple[tuple[ExitReason, str], ...],
    rectified_last_cycle: bool,
) -> tuple[Consequence, ExitReason | None, str]:
    """What follows from a result: a veto exits whatever the score, then the grade decides."""
    if vetoes:
        reason, text = vetoes[0]
        return Consequence.exit, reason, text
    if score is None or grade is None:
        return Consequence.none, None, "没有可评分的数据，需人工评定"
    label = GRADE_LABELS[grade]
    if grade == "fail":
        return Consequence.exit, ExitReason.evaluation_failed, f"得分{score}，评定为{label}"
    line = Decimal(str(rubric["rectification_below"]))
    if grade == "pass" and score < line:
        if rectified_last_cycle:
            return (
                Consequence.exit,
                ExitReason.evaluation_failed,
                f"得分{score}低于整改线{_plain(line)}，连续两次责令整改",
            )
        return Consequence.rectification, None, f"得分{score}低于整改线{_plain(line)}"
    return Consequence.renew, None, f"得分{score}，评定为{label}，续期"


# --- rubrics written before the evidence rules ----------------------------------------------


def upgraded_rubric(body: Mapping[str, Any], evidence: Mapping[str, Any]) -> dict[str, Any]:
    """A rubric of the earlier format in today's terms, its scoring otherwise unchanged.

    The earlier format let a missing input score zero (`when_missing: zero`) and had no
    evidence rules. Missing inputs are now unscored; a self-report item that scored zero when
    missing becomes a deduction of its weight for a report not submitted by its deadline (the
    same points lost, now said as the provider's own failure); `evidence` is added as given.
    """
    rubric = dict(body)
    items: list[dict[str, Any]] = []
    deductions: list[dict[str, Any]] = []
    for raw in rubric.get("items") or []:
        item = dict(raw)
        when_missing = item.pop("when_missing", None)
        if item.get("source") == "self_report" and when_missing == "zero":
            deductions.append(
                {
                    "key": "no_self_report",
                    "label": "未提交自查报告",
                    "source": "missing_self_report",
                    "deduct": item.get("weight", 0),
                }
            )
        items.append(item)
    if not any(i.get("source") == "missing_self_report" for i in items):
        items.extend(deductions)
    rubric["items"] = items
    rubric.setdefault("evidence", dict(evidence))
    return rubric
