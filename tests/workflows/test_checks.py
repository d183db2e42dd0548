"""Automatic checks: each rule on a realistic example, and submission blocked by the engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pytest

from registry.demo.courses import COURSES
from registry.reference import INNER_SIX_POLICY
from registry.tables import Document
from tests.cast import CAST, HEPING, T0, actor
from tests.factories import individual_application, new_listing, state_of, step, valid_application
from workflows import engine
from workflows.checks import (
    CHECK_LABELS,
    CHECKS,
    DOCUMENT_KINDS,
    Finding,
    findings_for,
)
from workflows.policy import calendar_for, effective_policy
from workflows.states import State
from workflows.subjects import subject_words

TODAY = date(2026, 3, 2)  # T0; approved today, the notice of 5 working days ends on 9 March
HEPING_DISTRICT = {"code": HEPING, "name": "和平区", "inner_six": True}
BINHAI_DISTRICT = {"code": "120116", "name": "滨海新区", "inner_six": False}
ALL_PAPERS = [{"id": 1, "kind": "licence"}, {"id": 2, "kind": "insurance"}]


def check(
    form: Mapping[str, Any],
    documents: Sequence[Mapping[str, Any]] = ALL_PAPERS,
    inner: bool = True,
    **policy: Any,
) -> list[Finding]:
    """The findings for a form in Heping (or Binhai) on T0."""
    effective = effective_policy({**(INNER_SIX_POLICY if inner else {}), **policy})
    district = HEPING_DISTRICT if inner else BINHAI_DISTRICT
    return findings_for(form, list(documents), district, effective, TODAY, calendar_for(effective))


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def test_the_valid_forms_pass_every_check() -> None:
    assert check(valid_application()) == []
    assert check(individual_application(), [{"id": 2, "kind": "insurance"}]) == []
    assert check(valid_application(), inner=False) == []


def test_checks_are_listed_as_data() -> None:
    assert len(CHECKS) == len(CHECK_LABELS) == 8
    assert all(c.__doc__ and c.__name__ in CHECK_LABELS for c in CHECKS)
    assert DOCUMENT_KINDS["no_criminal_record"] == "无犯罪记录证明"


def test_bad_uscc_blocks() -> None:
    form = valid_application()
    form["organisation"]["uscc"] = "91120101MA06B2C3DD"
    finding = only(check(form))
    assert (finding.field, finding.code, finding.blocking) == (
        "form.organisation.uscc",
        "uscc",
        True,
    )
    assert finding.message == "统一社会信用代码有误：第18位校验码应为“U”，实际为“D”"


def test_bad_resident_ids_block_for_staff_and_individuals() -> None:
    form = individual_application()
    form["organisation"]["resident_id"] = "120104195802304562"  # 30 February
    form["staff"][1]["resident_id"] = "120102198507082344"
    findings = check(form, [{"id": 2, "kind": "insurance"}])
    assert [(f.field, f.message) for f in findings] == [
        (
            "form.organisation.resident_id",
            "申请人的身份证号有误：第7–14位的出生日期不是真实存在的日期",
        ),
        (
            "form.staff[1].resident_id",
            "从业人员“赵助教”的身份证号有误：第18位校验码应为“3”，实际为“4”",
        ),
    ]
    assert all(f.blocking for f in findings)


def test_staff_under_sixteen_block() -> None:
    form = valid_application()
    form["staff"][1]["resident_id"] = "120101201006150027"  # 15 years old on T0
    finding = only(check(form))
    assert (finding.field, finding.code) == ("form.staff[1].resident_id", "minimum_age")
    assert (
        finding.message == "从业人员“赵助教”按身份证号出生日期计算未满16周岁，不能从事课后服务工作"
    )


def test_papers_expired_or_expiring_before_the_listing_starts_block() -> None:
    form = valid_application()
    form["insurance"]["valid_until"] = "2026-02-28"
    form["staff"][0]["certificates"][1]["valid_until"] = "2026-03-06"
    form["staff"][1]["no_criminal_record_valid_until"] = "2026-03-09"  # valid on the start day
    findings = [f for f in check(form) if f.code != "staff_not_cleared"]
    assert [(f.field, f.code, f.message) for f in findings] == [
        (
            "form.insurance.valid_until",
            "expired",
            "保险单有效期至2026-02-28，已过期",
        ),
        (
            "form.staff[0].certificates[1].valid_until",
            "expires_before_listing",
            "从业人员“张伟”的“社会体育指导员证书”有效期至2026-03-06，早于预计入库日期"
            "2026-03-09（按今日获批并经公示期计算），请更新后再提交",
        ),
    ]


def test_uploaded_documents_are_checked_one_by_one() -> None:
    documents = [
        {"id": 7, "kind": "licence", "valid_until": None, "original_name": "执照.pdf"},
        {"id": 8, "kind": "insurance", "valid_until": date(2027, 8, 31)},
        {
            "id": 9,
            "kind": "health_certificate",
            "valid_until": date(2026, 3, 5),
            "original_name": "健康证.jpg",
            "staff_index": 1,
        },
    ]
    finding = only(check(valid_application(), documents))
    assert (finding.field, finding.code, finding.blocking) == (
        "documents.9",
        "expires_before_listing",
        True,
    )
    assert finding.message.startswith(
        "已上传的从业人员“赵助教”的健康证明（健康证.jpg）有效期至2026-03-05"
    )


def test_staff_without_valid_papers_cannot_be_assigned() -> None:
    form = valid_application()
    form["staff"][1]["health_certificate_valid_until"] = "2026-03-06"
    findings = check(form)
    assigned = only([f for f in findings if f.code == "staff_not_cleared"])
    assert (assigned.field, assigned.blocking) == ("form.courses[0].staff[1]", True)
    assert assigned.message == (
        "从业人员“赵助教”没有在2026-03-09前有效的健康证明，不能担任课程“少儿篮球”的授课人员"
    )
    assert {f.field for f in findings} == {
        "form.courses[0].staff[1]",
        "form.staff[1].health_certificate_valid_until",
    }


def test_course_staff_must_be_on_the_staff_list() -> None:
    form = valid_application()
    form["courses"][0]["staff"] = [0, 2, "钱老师", "赵助教"]
    findings = check(form)
    assert [(f.field, f.code, f.message) for f in findings] == [
        (
            "form.courses[0].staff[1]",
            "unknown_staff",
            "课程“少儿篮球”的授课人员序号2（从业人员共2人，序号从0开始）不在从业人员名单中",
        ),
        (
            "form.courses[0].staff[2]",
            "unknown_staff",
            "课程“少儿篮球”的授课人员“钱老师”不在从业人员名单中",
        ),
    ]


@pytest.mark.parametrize(
    ("name", "outline", "words"),
    [
        ("小学数学思维训练", "通过趣味游戏学习数学思维方法。", ["数学思维"]),
        ("新概念英语", "每课学习课文、单词和语法，配合口语练习。", ["新概念英语", "单词", "语法"]),
        ("快乐作文", "学习记叙文写作方法，每周完成一篇作文。", ["作文", "写作"]),
        (
            "小升初语文提高班",
            "阅读理解专项训练，讲解文言文与考点。",
            ["小升初", "语文", "阅读理解", "文言文", "考点"],
        ),
        ("少儿口才", "同步辅导课内作业，培优提分。", ["同步辅导", "培优", "提分"]),
        ("初中物理实验探究", "结合课本实验，预习新课内容。", ["物理", "课本", "预习", "新课"]),
        ("趣味奥数", "口算速算与应用题训练。", ["奥数", "口算", "速算", "应用题"]),
        ("中国历史精讲", "按七年级历史知识体系梳理朝代更替。", ["历史"]),
    ],
)
def test_subject_tutoring_is_refused_by_name_and_flagged_by_outline(
    name: str, outline: str, words: list[str]
) -> None:
    assert list(dict.fromkeys(subject_words(name) + subject_words(outline))) == words
    form = valid_application()
    form["courses"][0].update(name=name, outline=outline)
    finding = only(check(form))
    in_name = subject_words(name)
    # A subject in the course's own name is unambiguous and blocks; the outline only warns.
    where, matched = ("name", in_name) if in_name else ("outline", subject_words(outline))
    assert (finding.field, finding.code, finding.blocking) == (
        f"form.courses[0].{where}",
        "subject_tutoring",
        bool(in_name),
    )
    assert "".join(f"“{word}”" for word in matched) in finding.message


def test_outline_only_match_points_at_the_outline() -> None:
    form = valid_application()
    form["courses"][0]["outline"] = "篮球训练之外，每周安排一次英语口语练习。"
    finding = only(check(form))
    assert finding.field == "form.courses[0].outline" and not finding.blocking
    assert finding.message == ("课程“少儿篮球”的大纲含有“英语口语”，疑似学科类培训，请审核员核实")


@pytest.mark.parametrize(
    "text",
    [
        "围棋：学习吃子、死活和布局常识，培养专注力与思维能力",
        "趣味科学实验：观察水的三态变化，动手制作简易净水器",
        "历史故事会：讲述天津历史故事，了解家乡的历史文化",
        "软笔书法：从笔画入手临习颜体楷书",
        "经典诵读：诵读《三字经》《弟子规》及古诗词名篇",
        "绘本阅读：培养阅读兴趣与表达能力",
        "拉丁舞：按等级教材循序教学，学期末进行汇报演出",
        "素描：从几何体结构与明暗入手",
        "园艺种植：观察校园植物，认识生物多样性",
        "街舞：全新课程体系，复习上节课的组合动作",
    ],
)
def test_allowed_activities_are_not_flagged(text: str) -> None:
    assert subject_words(text) == []


def test_no_demo_course_looks_like_subject_tutoring() -> None:
    for course in COURSES:
        for text in (course.name, *course.outlines):
            assert subject_words(text) == [], text


def test_fees_above_the_cap_block() -> None:
    form = valid_application()
    form["courses"][0]["fee_per_student_month"] = 200
    finding = only(check(form))
    assert (finding.field, finding.code, finding.blocking) == (
        "form.courses[0].fee_per_student_month",
        "fee_over_cap",
        True,
    )
    assert finding.message == "课程“少儿篮球”收费200元/生/月，超过和平区课后服务收费上限180元/生/月"
    form["courses"][0]["fee_per_student_month"] = 180
    assert check(form) == []


def _evening(form: dict[str, Any], **changes: Any) -> dict[str, Any]:
    evening = {
        "name": "初中围棋晚自习",
        "evening_study": True,
        "grade_bands": ["middle"],
        "weekly_schedule": [{"weekday": 2, "start": "19:00", "end": "20:30"}],
        "fee_per_student_month": 100,
    }
    form["courses"][0].update({**evening, **changes})
    return form


def test_evening_study_has_its_own_cap_end_time_and_grade_band() -> None:
    assert check(_evening(valid_application())) == []
    form = _evening(
        valid_application(),
        fee_per_student_month=120,
        grade_bands=["upper_primary", "middle"],
        weekly_schedule=[{"weekday": 2, "start": "19:30", "end": "21:00"}],
    )
    assert [(f.field, f.message) for f in check(form)] == [
        (
            "form.courses[0].fee_per_student_month",
            "课程“初中围棋晚自习”收费120元/生/月，超过和平区晚自习收费上限100元/生/月",
        ),
        (
            "form.courses[0].grade_bands",
            "晚自习面向初中学生，课程“初中围棋晚自习”的适用学段不能包含小学高年级",
        ),
        (
            "form.courses[0].weekly_schedule[0].end",
            "课程“初中围棋晚自习”为晚自习，结束时间21:00晚于和平区规定的20:30",
        ),
    ]


def test_schedule_days_and_times() -> None:
    form = valid_application()
    form["courses"][0]["weekly_schedule"] = [
        {"weekday": 6, "start": "09:00", "end": "10:30"},
        {"weekday": 2, "start": "18:30", "end": "17:00"},
    ]
    findings = [f for f in check(form) if f.blocking]
    assert [(f.field, f.code, f.message) for f in findings] == [
        (
            "form.courses[0].weekly_schedule[0].weekday",
            "weekday",
            "课程“少儿篮球”安排在星期六：课后服务仅在上学日（周一至周五，1–5）开展",
        ),
        (
            "form.courses[0].weekly_schedule[1].end",
            "time_order",
            "课程“少儿篮球”的开始时间18:30应早于结束时间17:00",
        ),
    ]


def test_ending_before_the_inner_districts_service_end_is_a_warning() -> None:
    form = valid_application()
    form["courses"][0]["weekly_schedule"] = [{"weekday": 1, "start": "16:30", "end": "17:30"}]
    finding = only(check(form))
    assert (finding.field, finding.code, finding.blocking) == (
        "form.courses[0].weekly_schedule[0].end",
        "service_end_early",
        False,
    )
    assert "课后服务结束时间原则上不早于18:30" in finding.message
    assert check(form, inner=False) == []  # outside the six inner districts there is no floor


def test_years_in_operation_below_the_district_minimum_block() -> None:
    form = valid_application()
    form["organisation"]["founded_on"] = "2024-06-01"
    assert check(form) == []  # the city default asks for one year
    finding = only(check(form, admission={"min_years_in_operation": 3}))
    assert (finding.field, finding.code, finding.blocking) == (
        "form.organisation.founded_on",
        "years_in_operation",
        True,
    )
    assert (
        finding.message
        == "和平区准入条件要求成立（从业）满3年，申请主体成立（从业）于2024-06-01，至今满1年"
    )
    form["organisation"]["founded_on"] = "2025-06-01"
    assert only(check(form)).message.endswith("成立（从业）于2025-06-01，至今不足1年")
    del form["organisation"]["founded_on"]
    form["organisation"]["years_in_operation"] = 2
    finding = only(check(form, admission={"min_years_in_operation": 3}))
    assert finding.field == "form.organisation.years_in_operation"
    assert finding.message.endswith("申请主体填报从业年限2年")


def test_missing_licence_and_insurance_are_warnings() -> None:
    findings = check(valid_application(), [])
    assert [(f.field, f.message, f.blocking) for f in findings] == [
        ("documents", "未上传营业执照/办学许可证", False),
        ("documents", "未上传保险单", False),
    ]
    # An individual has no business licence to upload.
    assert [f.message for f in check(individual_application(), [])] == ["未上传保险单"]


def test_a_half_filled_draft_is_checked_without_errors() -> None:
    draft: dict[str, Any] = {
        "organisation": {"kind": "organisation", "uscc": "9112"},
        "courses": [{"name": "少儿篮球", "staff": [None], "weekly_schedule": [{"start": "1"}]}],
        "staff": ["not an object", {"name": "张伟", "health_certificate_valid_until": "soon"}],
        "insurance": None,
    }
    assert {f.code for f in check(draft) if f.blocking} == {"uscc"}
    assert (
        check({}, [])
        == check({"organisation": "x"}, [])
        == [Finding("document_missing", "documents", "未上传保险单", False)]
    )


# --- through the engine -------------------------------------------------------------------


async def _submit(form: dict[str, Any]) -> tuple[int, list[tuple[str, str]]]:
    listing_id = await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING], form)
    try:
        await step(listing_id, "submit", await actor("provider"), now=T0)
    except engine.Refused as refused:
        return listing_id, [(e.field, e.code) for e in refused.errors]
    return listing_id, []


async def test_submit_is_refused_with_the_blocking_findings(db: object) -> None:
    form = valid_application()
    form["courses"][0]["fee_per_student_month"] = 260
    form["insurance"]["valid_until"] = "2026-02-27"
    form["staff"][1]["no_criminal_record_valid_until"] = "2026-03-04"
    listing_id, errors = await _submit(form)
    assert errors == [
        ("form.insurance.valid_until", "expired"),
        ("form.staff[1].no_criminal_record_valid_until", "expires_before_listing"),
        ("form.courses[0].staff[1]", "staff_not_cleared"),
        ("form.courses[0].fee_per_student_month", "fee_over_cap"),
    ]
    assert (await state_of(listing_id))[0] == State.draft


async def test_an_expired_uploaded_document_blocks_submission(db: object) -> None:
    listing_id = await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING])
    rows = await Document.insert(
        Document(
            listing=listing_id,
            kind="insurance",
            sha256="0" * 64,
            original_name="保单.pdf",
            mime_type="application/pdf",
            size=1024,
            valid_until=date(2026, 3, 1),
        )
    ).returning(Document.id)
    with pytest.raises(engine.Refused) as refused:
        await step(listing_id, "submit", await actor("provider"), now=T0)
    (error,) = refused.value.errors
    assert (error.field, error.code) == (f"documents.{rows[0]['id']}", "expired")
    assert error.message == "已上传的保险单（保单.pdf）有效期至2026-03-01，已过期"


async def test_warnings_alone_do_not_block_submission(db: object) -> None:
    form = valid_application()
    form["courses"][0]["outline"] = "篮球基本功训练，课间穿插英语口语小游戏，培养团队协作。"
    form["courses"][0]["weekly_schedule"] = [{"weekday": 1, "start": "16:30", "end": "17:30"}]
    listing_id, errors = await _submit(form)
    assert errors == []
    assert (await state_of(listing_id))[0] == State.submitted


async def test_course_named_for_a_school_subject_is_refused_at_submit(db: object) -> None:
    form = valid_application()
    form["courses"][0]["name"] = "小学数学同步辅导"
    listing_id, errors = await _submit(form)
    assert errors == [("form.courses[0].name", "subject_tutoring")]
    assert (await state_of(listing_id))[0] == State.draft
