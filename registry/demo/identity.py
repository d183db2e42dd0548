"""Synthetic but well-formed identity numbers for the demo: USCCs and resident IDs."""

from __future__ import annotations

import random
from datetime import date

# The check computations live in workflows.identity; the demo only generates numbers.
from workflows.identity import (
    USCC_CHARSET,
    is_valid_resident_id,
    is_valid_uscc,
    resident_id_check,
    uscc_check_char,
)

__all__ = [
    "RESIDENT_AREAS",
    "is_valid_resident_id",
    "is_valid_uscc",
    "make_resident_id",
    "make_uscc",
    "org_code_check_char",
]

# The organisation code inside a USCC (characters 9-17) carries its own GB 11714 check.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Where Tianjin residents' IDs were issued: today's districts, plus Tanggu, Hangu and Dagang
# (120107-120109), merged into Binhai New Area in 2009 but still on older people's IDs.
RESIDENT_AREAS = (
    "120101", "120102", "120103", "120104", "120105", "120106", "120107", "120108", "120109",
    "120110", "120111", "120112", "120113", "120114", "120115", "120116", "120117", "120118",
    "120119",
)  # fmt: skip


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


def make_resident_id(rng: random.Random, birth: date, male: bool, area: str | None = None) -> str:
    """A Tianjin resident ID for a person born on `birth` (17th digit odd for men)."""
    area = area or rng.choice(RESIDENT_AREAS)
    sequence = f"{rng.randint(0, 99):02d}{rng.choice('13579' if male else '02468')}"
    body = f"{area}{birth:%Y%m%d}{sequence}"
    return body + resident_id_check(body)
