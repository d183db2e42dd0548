"""The rubric's rules, table-driven and at their boundaries (pure: no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import city_default_rubric
from workflows.scoring import (
    Consequence,
    Inputs,
    SelfReportStatus,
    Tally,
    consequence_for,
    evaluate,
    evidence_gaps,
    grade_of,
    rubric_problems,
)
from workflows.states import ExitReason

RUBRIC = city_default_rubric()
MAJOR = ((ExitReason.safety_incident, "发生重大安全事故，一票否决"),)


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("100", "excellent"),
        ("90", "excellent"),
        ("89.99", "good"),
        ("80", "good"),
        ("79.99", "pass"),
        ("60", "pass"),
        ("59.99", "fail"),
        ("0", "fail"),
    ],
)
def test_grade_thresholds_are_inclusive_lower_bounds(score: str, grade: str) -> None:
    assert grade_of(Decimal(score), RUBRIC["grades"]) == grade


@pytest.mark.parametrize(
    ("score", "rectified_before", "vetoes", "expected", "reason"),
    [
        ("95", False, (), Consequence.renew, None),
        ("80", False, (), Consequence.renew, None),
        ("79.99", False, (), Consequence.renew, None),
        ("70", False, (), Consequence.renew, None),
        ("69.99", False, (), Consequence.rectification, None),
        ("60", False, (), Consequence.rectification, None),
        ("60", True, (), Consequence.exit, ExitReason.evaluation_failed),
        ("69.99", True, (), Consequence.exit, ExitReason.evaluation_failed),
        ("70", True, (), Consequence.renew, None),
        ("59.99", False, (), Consequence.exit, ExitReason.evaluation_failed),
        ("95", False, MAJOR, Consequence.exit, ExitReason.safety_incident),
    ],
)
def test_consequence_rules(
    score: str,
    rectified_before: bool,
    vetoes: tuple[tuple[ExitReason, str], ...],
    expected: Consequence,
    reason: ExitReason | None,
) -> None:
    value = Decimal(score)
    consequence, exit_reason, text = consequence_for(
        RUBRIC, value, grade_of(value, RUBRIC["grades"]), vetoes, rectified_before
    )
    assert (consequence, exit_reason) == (expected, reason)
    assert text


def full_marks(**changes: object) -> Inputs:
    base: dict[str, object] = {
        "listing_id": 1,
        "school_scores": (
            {
                "teaching_quality": 100,
                "punctuality": 100,
                "safety_management": 100,
                "communication": 100,
            },
        ),
        "tally": Tally(very_satisfied=10),
        "inspection": 100,
        "self_report": SelfReportStatus.on_time,
    }
    base.update(changes)
    return Inputs(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tally", "exits"),
    [
        (Tally(very_satisfied=40, satisfied=40, neutral=20), False),  # exactly 80%
        (Tally(very_satisfied=7999, neutral=2001), True),  # 79.99%
        (Tally(satisfied=4, dissatisfied=1), False),
        (Tally(satisfied=3, dissatisfied=2), True),
    ],
)
def test_low_satisfaction_exits_whatever_the_score(tally: Tally, exits: bool) -> None:
    result = evaluate(RUBRIC, full_marks(tally=tally))
    assert (result.exit_reason == ExitReason.low_satisfaction) is exits
    if exits:
        assert result.consequence == Consequence.exit
        assert "低于80%" in result.explanation


def test_a_major_incident_or_a_fee_violation_vetoes_full_marks() -> None:
    incident = evaluate(RUBRIC, full_marks(incidents={"major": 1}))
    fee = evaluate(RUBRIC, full_marks(inspection_fee_violation=True))
    complaint_fee = evaluate(RUBRIC, full_marks(complaint_fee_violations=1))
    assert incident.score is not None and incident.score >= 90
    assert (incident.consequence, incident.exit_reason) == (
        Consequence.exit,
        ExitReason.safety_incident,
    )
    assert fee.exit_reason == complaint_fee.exit_reason == ExitReason.fee_violation


def test_the_breakdown_adds_up_by_hand() -> None:
    result = evaluate(
        RUBRIC,
        full_marks(
            school_scores=(
                {
                    "teaching_quality": 90,
                    "punctuality": 80,
                    "safety_management": 85,
                    "communication": 95,
                },
                {
                    "teaching_quality": 70,
                    "punctuality": 70,
                    "safety_management": 70,
                    "communication": 70,
                },
            ),
            tally=Tally(very_satisfied=10, satisfied=5, neutral=2, dissatisfied=1),
            inspection=88,
            upheld_complaints=5,
            incidents={"minor": 1, "serious": 1},
        ),
    )
    lines = {line.key: line for line in result.lines}
    # Schools: (87.50 + 70.00) / 2 = 78.75 → × 40% = 31.50.
    assert lines["school_feedback"].score == Decimal("78.75")
    assert lines["school_feedback"].points == Decimal("31.50")
    # Parents: (10×100 + 5×80 + 2×50) / 18 = 83.33 → × 30% = 25.00.
    assert lines["parent_satisfaction"].points == Decimal("25.00")
    assert lines["inspection"].points == Decimal("17.60")
    assert lines["self_report"].points == Decimal("10.00")
    # Five upheld complaints at 5 points are capped at 20; incidents 3 + 10.
    assert lines["complaints"].points == Decimal("-20.00")
    assert "上限20" in lines["complaints"].note
    assert lines["incidents"].points == Decimal("-13.00")
    assert result.score == sum(line.points for line in result.lines) == Decimal("51.10")
    assert result.grade == "fail" and result.school_responses == 2
    assert result.parent_responses == 18


def test_missing_school_feedback_is_unscored_and_said() -> None:
    result = evaluate(RUBRIC, full_marks(school_scores=(), inspection=70))
    lines = {line.key: line for line in result.lines}
    school = lines["school_feedback"]
    # Unscored: neither zero nor part of the total.
    assert school.score is None and school.points is None and school.effective_weight is None
    assert school.note == "无合作学校评价，本项不计分"
    # The other 60 weight points become 100 in the open: inspection 20 → 33.33.
    assert lines["inspection"].effective_weight == Decimal("33.33")
    assert "权重由20按比例调整为33.33（学校评价不计分）" in lines["inspection"].note
    assert result.score == Decimal("90.00")  # 50.00 + 23.33 + 16.67
    # 90 would be 优秀, but no school rated the provider: no grade, manual grading.
    assert result.score_grade == "excellent" and result.grade is None
    assert result.consequence == Consequence.none and result.needs_manual_grading
    assert "优秀须至少3所学校评价，现有0所" in result.evidence_gaps
    assert result.explanation.startswith("证据不足，需人工评定：")


def test_no_data_at_all_gives_no_score_and_no_grade() -> None:
    nothing = evaluate(RUBRIC, Inputs(listing_id=2))
    assert nothing.score is None and nothing.grade is None
    assert all(line.points is None for line in nothing.lines if line.kind == "score")
    assert nothing.consequence == Consequence.none and "人工评定" in nothing.explanation


def test_only_a_self_report_never_makes_full_marks() -> None:
    # The complaint of the issue: 100.00 优秀 with no school, parent or inspection.
    only = evaluate(RUBRIC, Inputs(listing_id=3, self_report=SelfReportStatus.on_time))
    assert only.score == Decimal("100.00") and only.grade is None
    assert only.consequence == Consequence.none
    assert len(only.evidence_gaps) == 3  # schools, parents, inspection


def scene(mark: int, schools: int, parents: int, inspection: bool) -> Inputs:
    """Schools and the inspection at `mark`, parents "satisfied" (80), no self-report due yet;
    each row's mark keeps the score in its grade's band with or without the parents."""
    answers = dict.fromkeys(
        ("teaching_quality", "punctuality", "safety_management", "communication"), mark
    )
    return Inputs(
        listing_id=1,
        school_scores=tuple(answers for _ in range(schools)),
        tally=Tally(satisfied=parents),
        inspection=mark if inspection else None,
    )


@pytest.mark.parametrize(
    ("mark", "schools", "parents", "inspection", "grade", "gap"),
    [
        # 优秀: 3 schools, 30 parent answers and an inspection.
        (98, 3, 30, True, "excellent", None),
        (98, 2, 30, True, None, "优秀须至少3所学校评价，现有2所"),
        (98, 3, 29, True, None, "优秀须至少30份家长问卷，现有29份"),
        (98, 3, 30, False, None, "优秀须有现场检查，本周期未检查"),
        # 良好: 2 schools and 10 answers, no inspection needed.
        (82, 2, 10, False, "good", None),
        (82, 1, 10, False, None, "良好须至少2所学校评价，现有1所"),
        (82, 2, 9, False, None, "良好须至少10份家长问卷，现有9份"),
        # 合格: one school.
        (65, 1, 0, False, "pass", None),
        (65, 0, 5, True, None, "合格须至少1所学校评价，现有0所"),
        # 不合格 (an exit) needs a school's rating and an inspection.
        (30, 1, 0, True, "fail", None),
        (30, 1, 0, False, None, "不合格须有现场检查，本周期未检查"),
        (30, 0, 0, True, None, "不合格须至少1所学校评价，现有0所"),
    ],
)
def test_each_grade_needs_its_minimum_evidence(
    mark: int, schools: int, parents: int, inspection: bool, grade: str | None, gap: str | None
) -> None:
    result = evaluate(RUBRIC, scene(mark, schools, parents, inspection))
    assert result.grade == grade
    if gap is None:
        assert result.evidence_gaps == () and result.consequence != Consequence.none
    else:
        assert gap in result.evidence_gaps
        assert result.consequence == Consequence.none and result.exit_reason is None


def test_a_veto_rests_on_its_own_fact_whatever_the_evidence() -> None:
    result = evaluate(RUBRIC, Inputs(listing_id=1, incidents={"major": 1}))
    assert result.consequence == Consequence.exit
    assert result.exit_reason == ExitReason.safety_incident


@pytest.mark.parametrize(
    ("report", "overdue", "deduction", "report_points"),
    [
        (None, False, None, None),  # not due yet: nothing owed, nothing lost
        (None, True, Decimal("-10.00"), None),  # the rubric's own rule for not submitting
        (SelfReportStatus.on_time, False, None, Decimal("10.00")),
        (SelfReportStatus.late, False, None, Decimal("5.00")),
        (SelfReportStatus.incomplete, False, None, Decimal("0.00")),
    ],
)
def test_a_self_report_not_submitted_is_its_own_rule(
    report: SelfReportStatus | None,
    overdue: bool,
    deduction: Decimal | None,
    report_points: Decimal | None,
) -> None:
    result = evaluate(RUBRIC, full_marks(self_report=report, self_report_overdue=overdue))
    lines = {line.key: line for line in result.lines}
    assert lines["self_report"].points == report_points
    if deduction is None:
        assert "no_self_report" not in lines
    else:
        assert lines["no_self_report"].points == deduction
        assert "逾期未提交" in lines["no_self_report"].note
    counted = [line.points for line in result.lines if line.points is not None]
    assert result.score == sum(counted, Decimal(0))


def test_late_and_incomplete_self_reports() -> None:
    late = evaluate(RUBRIC, full_marks(self_report=SelfReportStatus.late))
    incomplete = evaluate(RUBRIC, full_marks(self_report=SelfReportStatus.incomplete))
    assert {line.key: line for line in late.lines}["self_report"].points == Decimal("5.00")
    # An incomplete report was submitted: it is scored (zero), not missing.
    assert {line.key: line for line in incomplete.lines}["self_report"].points == 0


def test_rubric_rules_between_fields_are_named() -> None:
    rubric = city_default_rubric()
    rubric["items"][0]["weight"] = 35
    rubric["items"][3]["key"] = "inspection"
    rubric["grades"]["good"] = 95
    problems = {p.field: p.message for p in rubric_problems(rubric)}
    assert problems["items"] == "各评分项权重之和应为100，现为95"
    assert problems["items[3].key"] == "项目代码“inspection”重复"
    assert "优秀等级线 > 良好等级线" in problems["grades"]
    assert rubric_problems(city_default_rubric()) == []


score_maps = st.fixed_dictionaries(
    {},
    optional={
        q: st.integers(min_value=0, max_value=100)
        for q in ("teaching_quality", "punctuality", "safety_management", "communication")
    },
)
counts = st.integers(min_value=0, max_value=500)


@given(
    schools=st.lists(score_maps, max_size=5),
    tally=st.builds(Tally, counts, counts, counts, counts),
    inspection=st.none() | st.integers(min_value=0, max_value=100),
    report=st.none() | st.sampled_from(SelfReportStatus),
    overdue=st.booleans(),
    complaints=st.integers(min_value=0, max_value=30),
    minor=st.integers(min_value=0, max_value=5),
    serious=st.integers(min_value=0, max_value=5),
)
@settings(max_examples=300, deadline=None)
def test_any_inputs_give_a_score_a_person_can_add_up(
    schools: list[dict[str, int]],
    tally: Tally,
    inspection: int | None,
    report: SelfReportStatus | None,
    overdue: bool,
    complaints: int,
    minor: int,
    serious: int,
) -> None:
    result = evaluate(
        RUBRIC,
        Inputs(
            listing_id=1,
            school_scores=tuple(schools),
            tally=tally,
            inspection=inspection,
            self_report=report,
            self_report_overdue=overdue and report is None,
            upheld_complaints=complaints,
            incidents={"minor": minor, "serious": serious},
        ),
    )
    # A missing input is never counted: its item has no points at all.
    for line in result.lines:
        if line.kind == "score" and line.score is None:
            assert line.points is None and line.effective_weight is None
    if result.score is None:
        assert result.grade is None and result.consequence == Consequence.none
        return
    # The score is the sum of its scored items (and deductions), floored at zero.
    total = sum((line.points for line in result.lines if line.points is not None), Decimal(0))
    assert result.score == max(total, Decimal(0))
    assert Decimal(0) <= result.score <= Decimal(100)
    assert result.score_grade == grade_of(result.score, RUBRIC["grades"])
    weights = [line.effective_weight for line in result.lines if line.effective_weight]
    assert abs(sum(weights) - 100) <= Decimal("0.05")
    # A grade is given only on its minimum evidence (or rests on a veto).
    if result.grade is not None and not result.vetoes:
        assert result.grade == result.score_grade
        assert evidence_gaps(RUBRIC, result.grade, result.evidence) == []
    elif not result.vetoes:
        assert result.consequence == Consequence.none
