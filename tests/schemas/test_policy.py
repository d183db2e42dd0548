from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from schemas import (
    POLICY,
    FieldError,
    city_default_policy,
    load_schema,
    merge_policy,
    schema_id,
    validate,
)

EXIT_REASONS = [
    "voluntary",
    "evaluation_failed",
    "low_satisfaction",
    "safety_incident",
    "upheld_complaints",
    "fee_violation",
    "subject_tutoring",
    "false_materials",
    "licence_invalid",
    "staff_blacklisted",
    "no_delivery",
    "expired",
    "merger",
    "other",
]

INNER_DISTRICT_OVERRIDE: dict[str, Any] = {"service_end_no_earlier_than": "18:30"}


def fields(errors: list[FieldError]) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in errors]


def test_policy_schema_is_valid_draft_2020_12_with_its_id() -> None:
    Draft202012Validator.check_schema(load_schema(POLICY))
    assert schema_id(POLICY) == "urn:tj-registry:schema:policy:v1"


def test_ban_years_keys_are_exactly_the_exit_reasons() -> None:
    ban_years = load_schema(POLICY)["properties"]["ban_years"]
    assert sorted(ban_years["properties"]) == sorted(EXIT_REASONS)
    assert sorted(ban_years["required"]) == sorted(EXIT_REASONS)


def test_city_default_policy_is_valid() -> None:
    assert validate(POLICY, city_default_policy()) == []


def test_city_default_policy_values() -> None:
    policy = city_default_policy()
    assert policy["fee_caps"] == {"after_school": 180, "evening": 100}
    assert policy["service_end_no_earlier_than"] is None
    assert policy["evening_end_no_later_than"] == "20:30"
    assert (
        policy["notice_working_days"],
        policy["supplement_working_days"],
        policy["appeal_working_days"],
        policy["rectification_working_days"],
        policy["listing_valid_years"],
    ) == (5, 10, 10, 20, 1)
    no_ban = {"voluntary", "expired", "merger"}
    assert policy["ban_years"] == {r: 0 if r in no_ban else 2 for r in EXIT_REASONS}
    assert policy["extra_holidays"] == []
    assert policy["admission"] == {"min_years_in_operation": 1}
    assert policy["expert_review"] == {"required": False, "tolerance": 10}


def test_city_default_policy_is_a_fresh_copy() -> None:
    city_default_policy()["fee_caps"]["after_school"] = 999
    assert city_default_policy()["fee_caps"]["after_school"] == 180


def test_partial_override_passes_partial_and_fails_full_validation() -> None:
    assert validate(POLICY, INNER_DISTRICT_OVERRIDE, partial=True) == []
    errors = validate(POLICY, INNER_DISTRICT_OVERRIDE)
    assert {e.code for e in errors} == {"required"}
    assert "fee_caps" in [e.field for e in errors]
    assert "公示期（工作日）为必填项" in [e.message for e in errors]


def test_nested_partial_override_passes_partial_validation() -> None:
    override = {"fee_caps": {"evening": 80}, "ban_years": {"safety_incident": 5}}
    assert validate(POLICY, override, partial=True) == []


def test_inner_district_effective_policy_is_valid() -> None:
    effective = merge_policy(city_default_policy(), INNER_DISTRICT_OVERRIDE)
    assert validate(POLICY, effective) == []
    assert effective["service_end_no_earlier_than"] == "18:30"


def test_invalid_override_reports_each_field_in_chinese() -> None:
    override = {
        "fee_caps": {"after_school": -10},
        "evening_end_no_later_than": "25:00",
        "ban_years": {"safety_incident": 3, "bankrupt": 1},
        "holidays": ["2025-10-09"],
    }
    errors = validate(POLICY, override, partial=True)
    assert [e.as_dict() for e in errors] == [
        {
            "field": "ban_years.bankrupt",
            "code": "additionalProperties",
            "message": "“bankrupt”不是有效的退出原因代码",
        },
        {
            "field": "evening_end_no_later_than",
            "code": "pattern",
            "message": "晚自习最晚结束时间格式不正确：应为HH:MM（00:00–23:59）",
        },
        {
            "field": "fee_caps.after_school",
            "code": "minimum",
            "message": "课后服务收费上限不能小于0",
        },
        {
            "field": "holidays",
            "code": "additionalProperties",
            "message": "“holidays”不是区级政策中允许的字段",
        },
    ]


def test_out_of_range_day_counts_and_ban_years() -> None:
    override = {
        "notice_working_days": 0,
        "supplement_working_days": 61,
        "appeal_working_days": 1.5,
        "rectification_working_days": 121,
        "listing_valid_years": 6,
        "ban_years": {"fee_violation": 11, "voluntary": -1},
    }
    errors = validate(POLICY, override, partial=True)
    assert fields(errors) == [
        ("appeal_working_days", "type"),
        ("ban_years.fee_violation", "maximum"),
        ("ban_years.voluntary", "minimum"),
        ("listing_valid_years", "maximum"),
        ("notice_working_days", "minimum"),
        ("rectification_working_days", "maximum"),
        ("supplement_working_days", "maximum"),
    ]
    messages = {e.field: e.message for e in errors}
    assert messages["appeal_working_days"] == "申请复核期限（工作日）应为整数"
    assert messages["ban_years.fee_violation"] == "“违规收费”的禁入年限不能大于10"
    assert messages["notice_working_days"] == "公示期（工作日）不能小于1"


def test_service_end_accepts_null_but_not_a_bad_time() -> None:
    assert validate(POLICY, {"service_end_no_earlier_than": None}, partial=True) == []
    errors = validate(POLICY, {"service_end_no_earlier_than": "6:30pm"}, partial=True)
    assert fields(errors) == [("service_end_no_earlier_than", "pattern")]


def test_extra_holidays_must_be_unique_real_dates() -> None:
    errors = validate(
        POLICY, {"extra_holidays": ["2025-10-09", "2025-10-09", "2025-02-29"]}, partial=True
    )
    assert fields(errors) == [("extra_holidays", "uniqueItems"), ("extra_holidays[2]", "format")]
    assert errors[1].message == "非工作日不是有效日期，应为YYYY-MM-DD格式"


def test_expert_review_flags_are_typed() -> None:
    override = {"expert_review": {"required": "yes", "tolerance": -1}, "admission": {"x": 1}}
    errors = validate(POLICY, override, partial=True)
    assert fields(errors) == [
        ("admission.x", "additionalProperties"),
        ("expert_review.required", "type"),
        ("expert_review.tolerance", "minimum"),
    ]
    assert errors[1].message == "是否需要专家评审应为是或否"


def test_merge_policy_merges_nested_dicts_and_replaces_lists_and_scalars() -> None:
    default = city_default_policy()
    default["extra_holidays"] = ["2025-10-09"]
    override = {
        "fee_caps": {"evening": 80},
        "ban_years": {"safety_incident": 5},
        "extra_holidays": ["2025-12-31"],
        "service_end_no_earlier_than": "18:30",
    }

    merged = merge_policy(default, override)

    assert merged["fee_caps"] == {"after_school": 180, "evening": 80}
    assert merged["ban_years"]["safety_incident"] == 5
    assert merged["ban_years"]["fee_violation"] == 2
    assert merged["extra_holidays"] == ["2025-12-31"]
    assert merged["service_end_no_earlier_than"] == "18:30"
    assert merged["notice_working_days"] == 5
    assert validate(POLICY, merged) == []


def test_merge_policy_null_override_replaces_and_inputs_are_untouched() -> None:
    default = merge_policy(city_default_policy(), INNER_DISTRICT_OVERRIDE)
    override = {"service_end_no_earlier_than": None, "expert_review": {"required": True}}

    merged = merge_policy(default, override)
    merged["fee_caps"]["after_school"] = 1
    merged["expert_review"]["tolerance"] = 3

    assert merged["service_end_no_earlier_than"] is None
    assert merged["expert_review"] == {"required": True, "tolerance": 3}
    assert default["service_end_no_earlier_than"] == "18:30"
    assert default["fee_caps"]["after_school"] == 180
    assert default["expert_review"] == {"required": False, "tolerance": 10}
    assert override == {"service_end_no_earlier_than": None, "expert_review": {"required": True}}
