"""Synthetic but well-formed identity numbers: USCC (GB 32100-2015) and resident IDs (GB 11643)."""

from __future__ import annotations

import random
from datetime import date

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# The organisation code inside a USCC (characters 9-17) carries its own GB 11714 check.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

# Where Tianjin residents' IDs were issued: today's districts, plus Tanggu, Hangu and Dagang
# (120107-120109), merged into Binhai New Area in 2009 but still on older people's IDs.
RESIDENT_AREAS = (
    "120101", "120102", "120103", "120104", "120105", "120106", "120107", "120108", "120109",
    "120110", "120111", "120112", "120113", "120114", "120115", "120116", "120117", "120118",
    "120119",
)  # fmt: skip


def uscc_check_char(body: str) -> str:
    """The 18th character of a unified social credit code from its first 17."""
    if len(body) != 17:
        raise ValueError("a USCC body has 17 characters")
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """True for an 18-character code from the USCC charset with a correct check character."""
    return (
        len(code) == 18
        and all(c in USCC_CHARSET for c in code)
        and uscc_check_char(code[:17]) == code[17]
    )


def org_code_check_char(body: str) -> str:
    """The 9th character of an organisation code (GB 11714) from its first 8."""
    total = sum(int(c, 36) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(rng: random.Random, prefix: str, area: str, founded: date) -> str:
    """A USCC: registration authority and type (`prefix`, e.g. 91), area, organisation code."""
    if founded.year >= 2015:
        # Entities registered after the 2015 reform get codes beginning "MA".
        letters = [c for c in USCC_CHARSET if c not in "IOSVZ"]
        org_body = "MA" + "".join(rng.choice(letters) for _ in range(6))
    else:
        org_body = "".join(rng.choice("0123456789") for _ in range(8))
    body = f"{prefix}{area}{org_body}{org_code_check_char(org_body)}"
    return body + uscc_check_char(body)


def resident_id_check(body: str) -> str:
    """The 18th character of a resident ID number from its first 17 digits."""
    if len(body) != 17 or not body.isdigit():
        raise ValueError("a resident ID body has 17 digits")
    return ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def is_valid_resident_id(number: str) -> bool:
    """True for 17 digits plus the correct check character and a real birth date."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return resident_id_check(number[:17]) == number[17]


def make_resident_id(rng: random.Random, birth: date, male: bool, area: str | None = None) -> str:
    """A Tianjin resident ID for a person born on `birth` (17th digit odd for men)."""
    area = area or rng.choice(RESIDENT_AREAS)
    sequence = f"{rng.randint(0, 99):02d}{rng.choice('13579' if male else '02468')}"
    body = f"{area}{birth:%Y%m%d}{sequence}"
    return body + resident_id_check(body)
