"""The city's view of every district side by side (/city): the district dashboard's figures,
plus the ratios that make districts comparable (per 10,000 pupils, per 100 listings, shares).

Each row is built from registry.oversight.dashboard for that one district, so a number here is
the number the district sees on its own dashboard.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count

from registry.evaluation.distribution import excellent_share, warning_line
from registry.oversight.dashboard import UNGRADED, Dashboard, Period, dashboard
from registry.settings import get_settings
from registry.tables import Complaint, District, Engagement, School
from workflows.policy import effective_policy
from workflows.states import PUBLIC_STATES


@dataclass(frozen=True)
class CityRow:
    """One district's comparable figures."""

    district: Mapping[str, Any]
    board: Dashboard
    pupils: int | None
    schools: int
    engaging_schools: int
    complaints: int  # received in the period
    excellent_warning: Decimal

    @property
    def per_10k_pupils(self) -> Decimal | None:
        """Whitelist size per 10,000 pupils (None where enrolment is not recorded)."""
        if not self.pupils:
            return None
        return _one_place(Decimal(self.board.whitelist_size) * 10_000 / self.pupils)

    @property
    def engaging_share(self) -> Decimal | None:
        """Percent of the district's schools engaging at least one provider on the whitelist."""
        return _percent(self.engaging_schools, self.schools)

    @property
    def graded(self) -> int:
        """Results graded in the last cycle (未评定 left out)."""
        return sum(f.value for f in self.board.last_cycle_grades if f.key != UNGRADED)

    @property
    def coverage(self) -> Decimal | None:
        """Percent of today's whitelist graded in the last closed cycle."""
        return _percent(min(self.graded, self.board.whitelist_size), self.board.whitelist_size)

    @property
    def excellent_share(self) -> Decimal | None:
        """Percent of the last cycle's grades that are 优秀 (as the cycle's own page counts)."""
        excellent = next(f.value for f in self.board.last_cycle_grades if f.key == "excellent")
        return excellent_share(excellent, self.graded)

    @property
    def too_many_excellent(self) -> bool:
        """The share of 优秀 passes the district's own warning line (policy)."""
        share = self.excellent_share
        return share is not None and share > self.excellent_warning

    @property
    def exits_by_reason(self) -> dict[str, int]:
        """Exits of the period, by reason."""
        total: Counter[str] = Counter()
        for month in self.board.months:
            total.update(month.exits)
        return dict(total)

    @property
    def complaints_per_100(self) -> Decimal | None:
        """Complaints received in the period per 100 listings on the whitelist."""
        if not self.board.whitelist_size:
            return None
        return _one_place(Decimal(self.complaints) * 100 / self.board.whitelist_size)

    @property
    def overdue(self) -> int:
        """Deadlines whose day has passed and whose transition has not happened."""
        return len(self.board.overdue())


def _one_place(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _percent(part: int, whole: int) -> Decimal | None:
    return _one_place(Decimal(part) * 100 / whole) if whole else None


async def _schools(ids: Sequence[int]) -> tuple[Counter[int], Counter[int]]:
    """Schools per district, and those engaging a provider that is on the whitelist now."""
    schools = Counter(
        {
            int(r["district"]): int(r["count"])
            for r in await School.select(School.district, Count())
            .where(School.district.is_in(list(ids)))
            .group_by(School.district)
        }
    )
    engaging_rows = await (
        Engagement.select(Engagement.school, Engagement.school.district.as_alias("district"))
        .where(
            Engagement.school.district.is_in(list(ids))
            & Engagement.listing.state.is_in([s.value for s in PUBLIC_STATES])
        )
        .distinct()
    )
    engaging = Counter(int(r["district"]) for r in engaging_rows)
    return schools, engaging


async def _complaints(ids: Sequence[int], period: Period) -> Counter[int]:
    since, until = period.bounds(ZoneInfo(get_settings().timezone))
    rows = await (
        Complaint.select(Complaint.listing.district.as_alias("district"), Count())
        .where(
            Complaint.listing.district.is_in(list(ids))
            & (Complaint.submitted_at >= since)
            & (Complaint.submitted_at < until)
        )
        .group_by(Complaint.listing.district)
    )
    return Counter({int(r["district"]): int(r["count"]) for r in rows})


async def city_rows(today: date, period: Period | None = None) -> list[CityRow]:
    """Every district's row, in the order of their codes; flows over `period` (the twelve
    months to today by default)."""
    period = period or Period.months_to(today)
    districts = await (
        District.select(District.id, District.code, District.name, District.pupils, District.policy)
        .order_by(District.code)
        .output(load_json=True)
    )
    ids = [d["id"] for d in districts]
    schools, engaging = await _schools(ids)
    complaints = await _complaints(ids, period)
    rows = []
    for district in districts:
        rows.append(
            CityRow(
                district=district,
                board=await dashboard([district], today, period),
                pupils=district["pupils"],
                schools=schools[district["id"]],
                engaging_schools=engaging[district["id"]],
                complaints=complaints[district["id"]],
                excellent_warning=warning_line(effective_policy(district["policy"])),
            )
        )
    return rows


def totals(rows: Sequence[CityRow]) -> dict[str, Any]:
    """The city's own line: sums, and the ratios of the sums."""
    whitelist = sum(r.board.whitelist_size for r in rows)
    known = [r for r in rows if r.pupils]
    pupils = sum(r.pupils or 0 for r in known)
    schools = sum(r.schools for r in rows)
    return {
        "whitelist": whitelist,
        "per_10k_pupils": _one_place(
            Decimal(sum(r.board.whitelist_size for r in known)) * 10_000 / pupils
        )
        if pupils
        else None,
        "engaging_share": _percent(sum(r.engaging_schools for r in rows), schools),
        "complaints_per_100": _one_place(Decimal(sum(r.complaints for r in rows)) * 100 / whitelist)
        if whitelist
        else None,
        "overdue": sum(r.overdue for r in rows),
        "exits": sum(sum(r.exits_by_reason.values()) for r in rows),
    }
