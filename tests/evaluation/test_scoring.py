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


def test_missing_school_feedback_is_reweighted_and_said() -> None:
    result = evaluate(RUBRIC, full_marks(school_scores=(), inspection=70))
    lines = {line.key: line for line in result.lines}
    school = lines["school_feedback"]
    assert school.effective_weight is None and school.points == 0
    assert "无合作学校评价" in school.note and "权重按比例" in school.note
    # The other 60 weight points become 100: inspection 20 → 33.33.
    assert lines["inspection"].effective_weight == Decimal("33.33")
    assert "权重由20调整为33.33" in lines["inspection"].note
    assert result.score == Decimal("90.00")  # 50.00 + 23.33 + 16.67


def test_a_missing_self_report_counts_zero_and_no_data_at_all_gives_no_grade() -> None:
    missing = evaluate(RUBRIC, full_marks(self_report=None))
    report = {line.key: line for line in missing.lines}["self_report"]
    assert report.points == 0 and "按0分计" in report.note and missing.score == Decimal("90.00")
    nothing = evaluate(RUBRIC, Inputs(listing_id=2))
    assert nothing.score is None and nothing.grade is None
    assert nothing.consequence == Consequence.none and "人工评定" in nothing.explanation


def test_late_and_incomplete_self_reports() -> None:
    late = evaluate(RUBRIC, full_marks(self_report=SelfReportStatus.late))
    incomplete = evaluate(RUBRIC, full_marks(self_report=SelfReportStatus.incomplete))
    assert {line.key: line for line in late.lines}["self_report"].points == Decimal("5.00")
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
            upheld_complaints=complaints,
            incidents={"minor": minor, "serious": serious},
        ),
    )
    if result.score is None:
        assert result.grade is None and result.consequence == Consequence.none
        return
    total = sum(line.points for line in result.lines)
    assert result.score == max(total, Decimal(0))
    assert Decimal(0) <= result.score <= Decimal(100)
    assert result.grade == grade_of(result.score, RUBRIC["grades"])
    weights = [line.effective_weight for line in result.lines if line.effective_weight]
    assert abs(sum(weights) - 100) <= Decimal("0.05")
