"""How a cycle's grades are spread, and how much evidence they rest on (shown before confirming).

Inflated grades are what users of other registers complain about most; a bureau sees the
spread and the thin results before it confirms, and is told when the share of 优秀 passes
its district's warning line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from workflows.scoring import GRADE_LABELS, GRADE_ORDER, cents

EVIDENCE_KINDS = ("school_ratings", "parent_responses", "inspection")


def evidence_kinds(breakdown: Mapping[str, Any]) -> int:
    """How many of the three kinds of outside evidence a result has."""
    evidence = breakdown.get("evidence") or {}
    return sum(1 for kind in EVIDENCE_KINDS if evidence.get(kind))


def excellent_share(excellent: int, graded: int) -> Decimal | None:
    """The percent of graded results that are 优秀, in hundredths; None when none is graded."""
    return cents(Decimal(excellent) * 100 / graded) if graded else None


def warning_line(policy: Mapping[str, Any]) -> Decimal:
    """The share of 优秀 above which a district's grades are flagged (its effective policy)."""
    return Decimal(str(policy["evaluation"]["excellent_share_warning"]))


def distribution(
    rows: Iterable[Mapping[str, Any]], excellent_warning: float | Decimal
) -> dict[str, Any]:
    """Counts per grade (and ungraded), the share of 优秀, and the results on thin evidence.

    "Thin" is at most one kind of outside evidence (school ratings, parent surveys, an
    inspection): such a result rests on one voice.
    """
    counts = dict.fromkeys(GRADE_ORDER, 0)
    ungraded = thin = total = 0
    for row in rows:
        total += 1
        grade = row.get("grade")
        if grade in counts:
            counts[grade] += 1
        else:
            ungraded += 1
        if evidence_kinds(row.get("breakdown") or {}) <= 1:
            thin += 1
    graded = total - ungraded
    share = excellent_share(counts["excellent"], graded)
    share = Decimal(0) if share is None else share
    line = Decimal(str(excellent_warning))
    return {
        "total": total,
        "grades": [
            {"grade": grade, "label": GRADE_LABELS[grade], "count": counts[grade]}
            for grade in GRADE_ORDER
        ]
        + [{"grade": None, "label": "未评定（证据不足或待人工评定）", "count": ungraded}],
        "excellent_share": str(share),
        "excellent_warning": str(line),
        "too_many_excellent": bool(graded) and share > line,
        "thin_evidence": thin,
    }
