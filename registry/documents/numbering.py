"""Document numbers (发文字号): each district numbers its outgoing documents in sequence per year.

`南开教〔2026〕3号` is 南开区教育局's third numbered document of 2026. The register
(`IssuedNumber`) remembers which document got which number: issuing the same document again
returns its number and date, a new document takes the next free number of its district and
year. Two processes issuing at once race for the same (district, year, sequence) slot; the
unique constraint lets one win and the other retries with the next number.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import asyncpg
from piccolo.query.functions.aggregate import Max

from registry.db import write_transaction
from registry.reference import CITY_CODE, DISTRICT_SHORT_NAMES
from registry.tables import IssuedNumber

# 机关代字: a district bureau's short name; the city's education commission is 津教.
ISSUER_STEMS = {**DISTRICT_SHORT_NAMES, CITY_CODE: "津"}
# Enough for any burst of simultaneous issues in one district; each retry sees the winner's row.
ATTEMPTS = 20


class NumberingBusy(RuntimeError):
    """No free number could be taken after ATTEMPTS tries (never expected in practice)."""


@dataclass(frozen=True)
class Issued:
    """A document's number and the date it was first issued under it."""

    district_code: str
    year: int
    sequence: int
    issued_on: date

    @property
    def text(self) -> str:
        """南开教〔2026〕3号."""
        return document_number(self.district_code, self.year, self.sequence)


def document_number(district_code: str, year: int, sequence: int) -> str:
    """The number as printed: {stem}教〔{year}〕{sequence}号 (GB/T 9704-2012 7.2.4), the stem
    (机关代字) being the district's short name."""
    stem = ISSUER_STEMS.get(district_code, district_code)
    return f"{stem}教〔{year}〕{sequence}号"


def subject_of(parts: Iterable[object]) -> str:
    """A short, stable subject for a document made of many rows (a list of listing ids)."""
    text = ",".join(str(p) for p in parts)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _is_unique_violation(error: BaseException) -> bool:
    if isinstance(error, asyncpg.UniqueViolationError):
        return True
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)


async def _registered(key: str) -> Issued | None:
    row = (
        await IssuedNumber.select(
            IssuedNumber.district_code,
            IssuedNumber.year,
            IssuedNumber.sequence,
            IssuedNumber.issued_on,
        )
        .where(IssuedNumber.key == key)
        .first()
    )
    if row is None:
        return None
    return Issued(row["district_code"], row["year"], row["sequence"], row["issued_on"])


async def _take_next(district_code: str, kind: str, subject: str, key: str, on: date) -> None:
    async with write_transaction(IssuedNumber._meta.db):
        row = (
            await IssuedNumber.select(Max(IssuedNumber.sequence, alias="last"))
            .where((IssuedNumber.district_code == district_code) & (IssuedNumber.year == on.year))
            .first()
        )
        sequence = int((row or {}).get("last") or 0) + 1
        await IssuedNumber.insert(
            IssuedNumber(
                key=key,
                slot=f"{district_code}/{on.year}/{sequence}",
                district_code=district_code,
                year=on.year,
                sequence=sequence,
                kind=kind,
                subject=subject,
                issued_on=on,
            )
        )


async def issue_number(district_code: str, kind: str, subject: str, on: date) -> Issued:
    """The number of document (kind, subject) of a district: its own if issued before, else next.

    `on` is the document's date if it is new; a document issued before keeps its first date,
    so the number and the date printed beside it always agree.
    """
    key = f"{district_code}/{kind}/{subject}"
    for _ in range(ATTEMPTS):
        issued = await _registered(key)
        if issued is not None:
            return issued
        try:
            await _take_next(district_code, kind, subject, key, on)
        except Exception as error:
            # Someone else took this number (slot) or numbered this document (key) first.
            if not _is_unique_violation(error):
                raise
    raise NumberingBusy(f"no document number could be issued for {key}")
