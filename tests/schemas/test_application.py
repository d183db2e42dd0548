from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from schemas import (
    APPLICATION,
    SCHEMA_VERSION,
    FieldError,
    load_schema,
    schema_id,
    validate,
)
from tests.factories import (
    USCC,
    individual_application,
    valid_application,
)


def errors_of(form: object) -> list[FieldError]:
    return validate(APPLICATION, form)


def only_error(form: object) -> FieldError:
    errors = errors_of(form)
    assert len(errors) == 1, errors
    return errors[0]


def assert_chinese(message: str) -> None:
    assert re.search(r"[\u4e00-\u9fff]", message), message
    # Nothing of jsonschema's English wording may leak through.
    for english in ("is a required", "is not", "does not match", "should", "too short"):
        assert english not in message, message


def test_complete_application_has_no_errors() -> None:
    assert errors_of(valid_application()) == []


def test_individual_application_without_uscc_or_legal_representative_is_valid() -> None:
    assert errors_of(individual_application()) == []


def test_schema_is_valid_draft_2020_12_with_its_id() -> None:
    Draft202012Validator.check_schema(load_schema(APPLICATION))
    assert schema_id(APPLICATION) == "urn:tj-registry:schema:application:v1"
    assert SCHEMA_VERSION == "application.v1+policy.v1"


def test_load_schema_returns_a_copy_that_cannot_change_validation() -> None:
    schema = load_schema(APPLICATION)
    schema["required"].clear()
    schema["properties"]["organisation"]["required"].clear()
    assert [e.field for e in errors_of({})] == [
        "categories",
        "courses",
        "insurance",
        "organisation",
        "safety_plan",
        "staff",
    ]


def test_unknown_schema_name_is_refused() -> None:
    with pytest.raises(ValueError):
        load_schema("../pyproject")
    with pytest.raises(ValueError):
        validate("application.v9", {})


def test_field_error_as_dict() -> None:
    error = FieldError("courses[0].name", "required", "课程名称为必填项")
    assert error.as_dict() == {
        "field": "courses[0].name",
        "code": "required",
        "message": "课程名称为必填项",
    }


def test_non_object_form_is_a_root_type_error() -> None:
    error = only_error(["not", "a", "form"])
    assert (error.field, error.code) == ("", "type")
    assert error.message == "入库申请表应为对象"


# --- organisation ---------------------------------------------------------------------------


def test_organisation_without_uscc_says_it_is_required_for_organisations() -> None:
    form = valid_application()
    del form["organisation"]["uscc"]
    error = only_error(form)
    assert (error.field, error.code) == ("organisation.uscc", "required")
    assert error.message == "以机构名义申请时，统一社会信用代码为必填项"


def test_individual_without_resident_id_says_it_is_required_for_individuals() -> None:
    form = individual_application()
    del form["organisation"]["resident_id"]
    error = only_error(form)
    assert (error.field, error.code) == ("organisation.resident_id", "required")
    assert error.message == "以个人名义申请时，申请人身份证号为必填项"


def test_uscc_with_letter_o_fails_pattern_with_charset_hint() -> None:
    form = valid_application()
    form["organisation"]["uscc"] = "91120101MA06B2C3DO"
    error = only_error(form)
    assert (error.field, error.code) == ("organisation.uscc", "pattern")
    expected = "统一社会信用代码格式不正确：应为18位数字或大写字母（不含I、O、Z、S、V）"
    assert error.message == expected


def test_uscc_of_wrong_length_fails_pattern() -> None:
    form = valid_application()
    form["organisation"]["uscc"] = USCC[:-1]
    assert only_error(form).code == "pattern"


def test_unknown_applicant_kind_fails_enum() -> None:
    form = valid_application()
    form["organisation"]["kind"] = "company"
    error = only_error(form)
    assert (error.field, error.code) == ("organisation.kind", "enum")
    assert error.message == "申请主体类型的取值“company”不在允许范围内"


@pytest.mark.parametrize("phone", ["13820001234", "022-23456789", "02223456789", "022-2345678-801"])
def test_mobile_and_landline_contact_phones_are_accepted(phone: str) -> None:
    form = valid_application()
    form["organisation"]["contact_phone"] = phone
    assert errors_of(form) == []


@pytest.mark.parametrize("phone", ["12820001234", "1382000123", "23456789", "电话"])
def test_malformed_contact_phone_fails_pattern(phone: str) -> None:
    form = valid_application()
    form["organisation"]["contact_phone"] = phone
    error = only_error(form)
    assert (error.field, error.code) == ("organisation.contact_phone", "pattern")
    assert error.message.startswith("联系电话格式不正确")


def test_contact_email_is_optional_but_checked_when_given() -> None:
    form = valid_application()
    del form["organisation"]["contact_email"]
    assert errors_of(form) == []
    form["organisation"]["contact_email"] = "lixiaomei-at-163.com"
    error = only_error(form)
    assert (error.field, error.code) == ("organisation.contact_email", "pattern")
    assert error.message == "联系邮箱格式不正确：应为有效的电子邮箱地址"


@pytest.mark.parametrize("founded_on", ["2023-02-30", "2023/01/05", "20230105", "去年"])
def test_impossible_or_non_iso_founding_date_fails_format(founded_on: str) -> None:
    form = valid_application()
    form["organisation"]["founded_on"] = founded_on
    error = only_error(form)
    assert (error.field, error.code) == ("organisation.founded_on", "format")
    assert error.message == "成立日期不是有效日期，应为YYYY-MM-DD格式"


def test_blank_organisation_name_is_reported_as_empty() -> None:
    form = valid_application()
    form["organisation"]["name"] = "   "
    error = only_error(form)
    assert (error.field, error.code) == ("organisation.name", "pattern")
    assert error.message == "机构名称不能为空"


def test_negative_years_in_operation_fails_minimum() -> None:
    form = valid_application()
    form["organisation"]["years_in_operation"] = -1
    error = only_error(form)
    assert (error.field, error.code, error.message) == (
        "organisation.years_in_operation",
        "minimum",
        "从业年限不能小于0",
    )


def test_unknown_organisation_field_is_named() -> None:
    form = valid_application()
    form["organisation"]["wechat"] = "feiyue"
    error = only_error(form)
    assert (error.field, error.code) == ("organisation.wechat", "additionalProperties")
    assert error.message == "“wechat”不是申请主体信息中允许的字段"


# --- categories -----------------------------------------------------------------------------


def test_empty_categories_fail_min_items() -> None:
    form = valid_application()
    form["categories"] = []
    error = only_error(form)
    assert (error.field, error.code, error.message) == (
        "categories",
        "minItems",
        "服务类别至少需要填写1项",
    )


def test_unknown_category_is_reported_at_its_index() -> None:
    form = valid_application()
    form["categories"] = ["sports", "math"]
    error = only_error(form)
    assert (error.field, error.code) == ("categories[1]", "enum")
    assert error.message == "服务类别的取值“math”不在允许范围内"


def test_duplicate_category_fails_unique_items() -> None:
    form = valid_application()
    form["categories"] = ["sports", "sports"]
    error = only_error(form)
    assert (error.field, error.code, error.message) == (
        "categories",
        "uniqueItems",
        "服务类别中有重复项",
    )


# --- courses --------------------------------------------------------------------------------


def test_course_without_name_is_required() -> None:
    form = valid_application()
    del form["courses"][0]["name"]
    error = only_error(form)
    assert (error.field, error.code, error.message) == (
        "courses[0].name",
        "required",
        "课程名称为必填项",
    )


def test_negative_fee_fails_minimum() -> None:
    form = valid_application()
    form["courses"][0]["fee_per_student_month"] = -5
    error = only_error(form)
    assert (error.field, error.code, error.message) == (
        "courses[0].fee_per_student_month",
        "minimum",
        "收费标准不能小于0",
    )


def test_fee_as_text_fails_type() -> None:
    form = valid_application()
    form["courses"][0]["fee_per_student_month"] = "150元"
    error = only_error(form)
    assert (error.code, error.message) == ("type", "收费标准应为数字")


def test_saturday_class_is_outside_school_days() -> None:
    form = valid_application()
    form["courses"][0]["weekly_schedule"][1]["weekday"] = 6
    error = only_error(form)
    assert (error.field, error.code) == ("courses[0].weekly_schedule[1].weekday", "maximum")
    assert error.message.startswith("上课星期应为1–5（周一至周五）")


@pytest.mark.parametrize("end", ["25:00", "18:60", "6:30", "18.30", "18:30:00"])
def test_malformed_end_time_fails_pattern(end: str) -> None:
    form = valid_application()
    form["courses"][0]["weekly_schedule"][1]["end"] = end
    error = only_error(form)
    assert (error.field, error.code) == ("courses[0].weekly_schedule[1].end", "pattern")
    assert error.message == "结束时间格式不正确：应为HH:MM（00:00–23:59）"


def test_empty_weekly_schedule_fails_min_items() -> None:
    form = valid_application()
    form["courses"][0]["weekly_schedule"] = []
    error = only_error(form)
    assert (error.field, error.code) == ("courses[0].weekly_schedule", "minItems")


def test_short_outline_fails_min_length() -> None:
    form = valid_application()
    form["courses"][0]["outline"] = "打篮球"
    error = only_error(form)
    assert (error.field, error.code, error.message) == (
        "courses[0].outline",
        "minLength",
        "课程大纲不能少于10个字",
    )


def test_unknown_grade_band_fails_enum() -> None:
    form = valid_application()
    form["courses"][0]["grade_bands"] = ["high"]
    error = only_error(form)
    assert (error.field, error.code) == ("courses[0].grade_bands[0]", "enum")


def test_evening_study_must_be_boolean() -> None:
    form = valid_application()
    form["courses"][0]["evening_study"] = "是"
    error = only_error(form)
    assert (error.field, error.code, error.message) == (
        "courses[0].evening_study",
        "type",
        "是否为晚自习应为是或否",
    )


def test_course_staff_reference_must_be_index_or_name() -> None:
    form = valid_application()
    form["courses"][0]["staff"] = [-1]
    error = only_error(form)
    assert (error.field, error.code) == ("courses[0].staff[0]", "anyOf")
    assert error.message == "授课人员应为从业人员序号（从0开始的整数）或姓名"


def test_no_courses_fails_min_items() -> None:
    form = valid_application()
    form["courses"] = []
    assert only_error(form).field == "courses"


# --- staff, insurance, safety plan ----------------------------------------------------------


def test_staff_resident_id_with_lowercase_x_fails_pattern() -> None:
    form = valid_application()
    form["staff"][0]["resident_id"] = "12010119800315123x"
    error = only_error(form)
    assert (error.field, error.code) == ("staff[0].resident_id", "pattern")
    assert error.message.startswith("身份证号格式不正确")
    assert "12010119800315123x" not in error.message


def test_staff_without_no_criminal_record_certificate_is_required() -> None:
    form = valid_application()
    del form["staff"][1]["no_criminal_record_valid_until"]
    error = only_error(form)
    assert (error.field, error.code, error.message) == (
        "staff[1].no_criminal_record_valid_until",
        "required",
        "无犯罪记录证明有效期至为必填项",
    )


def test_certificate_with_invalid_expiry_date_fails_format() -> None:
    form = valid_application()
    form["staff"][0]["certificates"][1]["valid_until"] = "2027-13-01"
    error = only_error(form)
    assert (error.field, error.code) == ("staff[0].certificates[1].valid_until", "format")
    assert error.message == "证书有效期至不是有效日期，应为YYYY-MM-DD格式"


def test_no_staff_fails_min_items() -> None:
    form = valid_application()
    form["staff"] = []
    error = only_error(form)
    assert (error.field, error.code, error.message) == (
        "staff",
        "minItems",
        "从业人员至少需要填写1项",
    )


def test_zero_insurance_coverage_fails_exclusive_minimum() -> None:
    form = valid_application()
    form["insurance"]["coverage_yuan"] = 0
    error = only_error(form)
    assert (error.field, error.code, error.message) == (
        "insurance.coverage_yuan",
        "exclusiveMinimum",
        "保险金额必须大于0",
    )


def test_short_safety_measures_fail_min_length() -> None:
    form = valid_application()
    form["safety_plan"]["measures"] = "注意安全"
    error = only_error(form)
    assert (error.field, error.code, error.message) == (
        "safety_plan.measures",
        "minLength",
        "安全保障措施不能少于20个字",
    )


def test_missing_insurance_section_is_required() -> None:
    form = valid_application()
    del form["insurance"]
    error = only_error(form)
    assert (error.field, error.code, error.message) == ("insurance", "required", "保险信息为必填项")


# --- every problem at once ------------------------------------------------------------------


def test_form_with_six_mistakes_reports_all_six_fields() -> None:
    form = valid_application()
    form["organisation"]["uscc"] = "91120101MA06B2C3DO"
    form["categories"] = ["sports", "cooking"]
    form["courses"][0]["weekly_schedule"][1]["end"] = "25:00"
    form["staff"][1]["health_certificate_valid_until"] = "2026-02-30"
    form["insurance"]["coverage_yuan"] = -1
    del form["safety_plan"]["emergency_phone"]

    errors = errors_of(form)

    assert [(e.field, e.code) for e in errors] == [
        ("categories[1]", "enum"),
        ("courses[0].weekly_schedule[1].end", "pattern"),
        ("insurance.coverage_yuan", "exclusiveMinimum"),
        ("organisation.uscc", "pattern"),
        ("safety_plan.emergency_phone", "required"),
        ("staff[1].health_certificate_valid_until", "format"),
    ]
    for error in errors:
        assert_chinese(error.message)


def test_errors_sort_by_index_numerically() -> None:
    form = valid_application()
    course = form["courses"][0]
    form["courses"] = [copy.deepcopy(course) for _ in range(11)]
    form["courses"][10]["name"] = ""
    form["courses"][2]["name"] = ""
    assert [e.field for e in errors_of(form)] == ["courses[2].name", "courses[10].name"]


def test_empty_form_messages_are_all_chinese() -> None:
    errors = errors_of({"organisation": {}, "courses": [{"weekly_schedule": [{}]}], "staff": [{}]})
    assert len(errors) > 15
    for error in errors:
        assert_chinese(error.message)


def test_partial_validation_accepts_an_incomplete_draft_but_checks_what_is_there() -> None:
    draft = {"organisation": {"name": "飞跃篮球", "kind": "organisation"}, "courses": [{}]}
    assert validate(APPLICATION, draft, partial=True) == []
    draft["organisation"]["contact_phone"] = "123"
    assert [e.field for e in validate(APPLICATION, draft, partial=True)] == [
        "organisation.contact_phone"
    ]


# --- any value anywhere ---------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def leaf_paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaf_paths(v, (*prefix, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in leaf_paths(v, (*prefix, i))]
    return [prefix]


def dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else part
    return out


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(leaf_paths(valid_application())), value=JSON_VALUES)
def test_any_value_at_any_field_gives_chinese_messages_on_that_field(
    path: tuple[str | int, ...], value: Any
) -> None:
    form = valid_application()
    target: Any = form
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value

    errors = errors_of(form)

    mutated = dotted(path)
    for error in errors:
        assert_chinese(error.message)
        if path == ("organisation", "kind"):
            continue  # switching the kind makes the other kind's identity field required
        # The problem is on the changed field, or a duplicate in the list that holds it.
        assert error.field.startswith(mutated) or (
            error.code == "uniqueItems" and error.field == dotted(path[:-1])
        ), (mutated, error)
