"""USCC (GB 32100) and resident ID (GB 11643) checks: each kind of mistake, said precisely."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import ASSISTANT_ID, COACH_ID, INDIVIDUAL_ID, USCC
from workflows.identity import (
    is_valid_resident_id,
    is_valid_uscc,
    mask_resident_id,
    minimum_age_problem,
    normalise_identities,
    normalise_identity,
    resident_id_check,
    resident_id_problem,
    uscc_check_char,
    uscc_problem,
)

TODAY = date(2026, 3, 2)


def test_valid_codes_pass() -> None:
    assert uscc_problem(USCC) is None and is_valid_uscc(USCC)
    # Pre-2015 codes with numeric organisation codes: a company, a private non-enterprise unit.
    assert uscc_problem("91120116103862754N") is None
    assert uscc_problem("521201030553210123") is None
    assert uscc_check_char(USCC[:17]) == "U"
    for number in (COACH_ID, ASSISTANT_ID, INDIVIDUAL_ID):
        assert resident_id_problem(number, TODAY) is None and is_valid_resident_id(number, TODAY)


def test_uscc_length() -> None:
    assert uscc_problem(USCC[:17]) == "统一社会信用代码应为18位，实际为17位"
    assert uscc_problem("") == "统一社会信用代码应为18位，实际为0位"


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "9112I101MA06B2C3DU",
            "第5位字符“I”应为数字（第3–8位为登记管理机关行政区划码）",
        ),
        (
            "91120101MO06B2C3DU",
            "第10位字符“O”不是统一社会信用代码允许的字符（不使用 I、O、Z、S、V）",
        ),
        ("91120101Ma06B2C3DU", "第10位字符“a”应为大写字母“A”"),
        (
            "Z1120101MA06B2C3DU",
            "第1位字符“Z”不是统一社会信用代码允许的字符（不使用 I、O、Z、S、V）",
        ),
    ],
)
def test_uscc_character_outside_the_charset(code: str, message: str) -> None:
    assert uscc_problem(code) == message


def test_uscc_check_character_names_the_expected_one() -> None:
    assert uscc_problem(USCC[:17] + "D") == "第18位校验码应为“U”，实际为“D”"
    assert not is_valid_uscc(USCC[:17] + "D")


def test_resident_id_format() -> None:
    assert resident_id_problem(COACH_ID[:15], TODAY) == "身份证号应为18位，实际为15位"
    assert resident_id_problem("1201011980A3151230", TODAY) == (
        "第11位字符“A”应为数字（前17位均为数字）"
    )
    assert resident_id_problem("12010119800315123Y", TODAY) == "第18位字符“Y”应为数字或大写X"


def test_resident_id_lowercase_x_asks_for_a_capital() -> None:
    body = "12010419700101005"
    assert resident_id_check(body) == "X"
    assert resident_id_problem(body + "X", TODAY) is None
    assert resident_id_problem(body + "x", TODAY) == "第18位校验码应为大写“X”"


def _with_birth(birth: str) -> str:
    body = f"120101{birth}123"
    return body + resident_id_check(body)


def test_resident_id_birth_date_must_be_real_and_plausible() -> None:
    assert resident_id_problem(_with_birth("19810229"), TODAY) == (
        "第7–14位的出生日期不是真实存在的日期"
    )
    assert resident_id_problem(_with_birth("19801301"), TODAY) == (
        "第7–14位的出生日期不是真实存在的日期"
    )
    assert resident_id_problem(_with_birth("18991231"), TODAY) == (
        "第7–14位的出生日期早于1900年，不合理"
    )
    assert (
        resident_id_problem(_with_birth("20260303"), TODAY) == "第7–14位的出生日期晚于今天，不合理"
    )
    assert resident_id_problem(_with_birth("20260302"), TODAY) is None


def test_resident_id_messages_never_repeat_the_birth_date() -> None:
    for birth in ("19810229", "18991231", "20260303"):
        message = resident_id_problem(_with_birth(birth), TODAY)
        assert message is not None and birth not in message and birth[:4] not in message


def test_resident_id_check_digit_names_the_expected_one() -> None:
    assert resident_id_problem(COACH_ID[:17] + "9", TODAY) == "第18位校验码应为“0”，实际为“9”"


def test_minimum_age_is_a_separate_check() -> None:
    fifteen = _with_birth("20100303")  # turns 16 the day after TODAY
    assert resident_id_problem(fifteen, TODAY) is None
    assert minimum_age_problem(fifteen, TODAY) == "按身份证号出生日期计算未满16周岁"
    assert minimum_age_problem(fifteen, date(2026, 3, 3)) is None
    assert minimum_age_problem(COACH_ID, TODAY) is None
    assert minimum_age_problem(fifteen, TODAY, minimum=18) == "按身份证号出生日期计算未满18周岁"
    assert minimum_age_problem("not a number", TODAY) is None  # the format check reports it


def test_masking_hides_the_birth_date() -> None:
    assert mask_resident_id("12010119800315123X") == "1201************3X"
    masked = mask_resident_id(COACH_ID)
    assert masked == "1201************30" and "19800315" not in masked and len(masked) == 18
    assert mask_resident_id("12345") == "*****"


def test_identity_numbers_anywhere_in_a_form_are_written_as_the_standards_do() -> None:
    form = {
        "organisation": {"uscc": " 91120101ma06b2c3du ", "name": "abc"},
        "staff": [{"resident_id": "12010119900307 123x", "name": "x"}],
        "uscc_note": "keep me",
    }
    assert normalise_identities(form) == {
        "organisation": {"uscc": "91120101MA06B2C3DU", "name": "abc"},
        "staff": [{"resident_id": "12010119900307123X", "name": "x"}],
        "uscc_note": "keep me",
    }
    assert normalise_identity(None) is None
