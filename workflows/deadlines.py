"""The lifecycle's deadlines: which listing's clock transition falls due on which day.

Every time-driven transition of the table names the listing column holding its day (`due`):
when that day has ended, the clock fires the transition (guards permitting). The clock asks
here for what has passed; the district dashboard and the reviewer's day ask here for what
is coming, so both say the same thing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from workflows import storage
from workflows.transitions import CLOCK_TRANSITIONS, DUE_LABELS, Transition


@dataclass(frozen=True)
class Deadline:
    """One listing's day, and the clock transition that fires once it has ended."""

    listing_id: int
    district_id: int
    organisation_id: int
    organisation_name: str
    state: str
    transition: Transition
    due: date  # the last day; the clock acts from the next day on

    @property
    def what(self) -> str:
        """公示期, 补正期限, 整改期限, 入库有效期."""
        return DUE_LABELS[self.transition.due or ""]

    def days_left(self, today: date) -> int:
        """Days until the last day (0: today is the last day; negative: passed)."""
        return (self.due - today).days


async def due_by(last_day: date, *, districts: Collection[int] | None = None) -> list[Deadline]:
    """Deadlines whose day is on or before `last_day`, in the clock's order: the table's order
    of transitions, then listing id."""
    found: list[Deadline] = []
    for transition in CLOCK_TRANSITIONS:
        assert transition.due is not None
        rows = await storage.listings_with_due(
            transition.sources, transition.due, last_day, districts=districts
        )
        found += [
            Deadline(
                listing_id=row["id"],
                district_id=row["district"],
                organisation_id=row["organisation"],
                organisation_name=row["organisation_name"],
                state=row["state"],
                transition=transition,
                due=row["due"],
            )
            for row in rows
        ]
    return found


async def passed(today: date) -> list[Deadline]:
    """What the clock fires today: every deadline whose last day has ended."""
    return await due_by(today - timedelta(days=1))
