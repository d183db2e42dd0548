"""Identity numbers: USCC (GB 32100-2015) and resident IDs (GB 11643), checked with a clear message.

Pure functions, no I/O. Messages are Chinese and say precisely what is wrong; they never repeat
a resident ID's digits (the birth date is personal data), only positions and check characters.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from workflows import timesource

USCC_LENGTH = 18
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Characters 3-8 are the registering authority's administrative division code (GB/T 2260).
USCC_AREA = range(2, 8)

RESIDENT_ID_LENGTH = 18
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
EARLIEST_BIRTH_YEAR = 1900
# The lawful minimum working age (劳动法第十五条), for staff and individual applicants.
STAFF_MIN_AGE = 16


IDENTITY_KEYS = frozenset({"uscc", "resident_id"})


def normalise_identity(text: str | None) -> str | None:
    """An identity number as the standards write it: upper case, no spaces. People type a
    credit code or an ID's check letter in lower case, or paste it with spaces; that is the
    same number, so it is accepted rather than refused."""
    if text is None:
        return None
    return "".join(text.split()).upper()


def normalise_identities(value: Any) -> Any:
    """The same, for every `uscc` and `resident_id` string anywhere in a form."""
    if isinstance(value, dict):
        return {
            k: normalise_identity(v)
            if k in IDENTITY_KEYS and isinstance(v, str)
            else normalise_identities(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [normalise_identities(v) for v in value]
    return value


def uscc_check_char(body: str) -> str:
    """The 18th character of a unified social credit code from its first 17."""
    if len(body) != USCC_LENGTH - 1 or any(c not in USCC_CHARSET for c in body):
        raise ValueError("a USCC body has 17 characters from the GB 32100 charset")
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """None for a valid unified social credit code, else what is wrong with it (Chinese)."""
    if len(code) != USCC_LENGTH:
        return f"统一社会信用代码应为18位，实际为{len(code)}位"
    for position, char in enumerate(code, start=1):
        if position - 1 in USCC_AREA:
            if not char.isascii() or not char.isdigit():
                return f"第{position}位字符“{char}”应为数字（第3–8位为登记管理机关行政区划码）"
        elif char not in USCC_CHARSET:
            if char.upper() in USCC_CHARSET:
                return f"第{position}位字符“{char}”应为大写字母“{char.upper()}”"
            return (
                f"第{position}位字符“{char}”不是统一社会信用代码允许的字符（不使用 I、O、Z、S、V）"
            )
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"第18位校验码应为“{expected}”，实际为“{code[17]}”"
    return None


def is_valid_uscc(code: str) -> bool:
    """True for an 18-character code from the USCC charset with a correct check character."""
    return uscc_problem(code) is None


def resident_id_check(body: str) -> str:
    """The 18th character of a resident ID number from its first 17 digits."""
    if len(body) != RESIDENT_ID_LENGTH - 1 or not (body.isascii() and body.isdigit()):
        raise ValueError("a resident ID body has 17 digits")
    return ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def birth_date(number: str) -> date | None:
    """The birth date in a well-formed 18-digit resident ID, or None if it is not a real date."""
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def resident_id_problem(number: str, today: date | None = None) -> str | None:
    """None for a valid resident ID (format, real plausible birth date, check digit), else why."""
    if len(number) != RESIDENT_ID_LENGTH:
        return f"身份证号应为18位，实际为{len(number)}位"
    for position, char in enumerate(number[:17], start=1):
        if not (char.isascii() and char.isdigit()):
            return f"第{position}位字符“{char}”应为数字（前17位均为数字）"
    last = number[17]
    if last == "x":
        return "第18位校验码应为大写“X”"
    if not (last == "X" or (last.isascii() and last.isdigit())):
        return f"第18位字符“{last}”应为数字或大写X"
    born = birth_date(number)
    if born is None:
        return "第7–14位的出生日期不是真实存在的日期"
    if born.year < EARLIEST_BIRTH_YEAR:
        return f"第7–14位的出生日期早于{EARLIEST_BIRTH_YEAR}年，不合理"
    if born > (today or timesource.local_today()):
        return "第7–14位的出生日期晚于今天，不合理"
    expected = resident_id_check(number[:17])
    if last != expected:
        return f"第18位校验码应为“{expected}”，实际为“{last}”"
    return None


def is_valid_resident_id(number: str, today: date | None = None) -> bool:
    """True for 17 digits plus the correct check character and a real, plausible birth date."""
    return resident_id_problem(number, today) is None


def age_on(born: date, day: date) -> int:
    """Full years of age on `day` of a person born on `born`."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def minimum_age_problem(number: str, today: date, minimum: int = STAFF_MIN_AGE) -> str | None:
    """None if the resident ID's holder is at least `minimum` years old today, else why not."""
    born = birth_date(number) if len(number) == RESIDENT_ID_LENGTH else None
    if born is None:
        return None  # resident_id_problem reports a malformed number
    if age_on(born, today) < minimum:
        return f"按身份证号出生日期计算未满{minimum}周岁"
    return None


def mask_resident_id(number: str) -> str:
    """The ID for public pages: first 4 and last 2 characters kept, the birth date hidden."""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 6) + number[-2:]
