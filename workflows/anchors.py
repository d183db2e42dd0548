"""Anchors of the audit chain: its head, written to an append-only file outside the database.

Whoever can write the database can delete the newest events, and what is left is a consistent,
shorter chain. An anchor (one JSON line: the newest event's id and hash, how many events there
were, when) is written on every `registry audit verify` and once a day by the clock; verify
then requires every anchored event to be there, with its hash, at its place in the chain.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from workflows import storage, timesource


@dataclass(frozen=True)
class Anchor:
    """The chain's head at one moment: its newest event, that event's hash, the event count."""

    event: int
    hash: str
    count: int
    at: str = ""
    by: str = ""

    def line(self) -> str:
        """The anchor as one line of the anchor file."""
        return json.dumps(asdict(self), sort_keys=True)


def _parse(line: str) -> Anchor | None:
    try:
        body = json.loads(line)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    event, digest, count = body.get("event"), body.get("hash"), body.get("count")
    if not (isinstance(event, int) and isinstance(count, int) and isinstance(digest, str)):
        return None
    return Anchor(event, digest, count, str(body.get("at", "")), str(body.get("by", "")))


def load() -> tuple[list[Anchor], str]:
    """Every anchor written so far, or the problem that makes the file unreadable."""
    found: list[Anchor] = []
    for number, line in enumerate(storage.read_anchors(), start=1):
        if not line.strip():
            continue
        anchor = _parse(line)
        if anchor is None:
            return [], f"line {number} of the audit anchor file {storage.anchor_path()} is damaged"
        found.append(anchor)
    return found, ""


def by_event(anchors: list[Anchor]) -> dict[int, list[Anchor]]:
    """The anchors grouped by the event they name."""
    grouped: dict[int, list[Anchor]] = {}
    for anchor in anchors:
        grouped.setdefault(anchor.event, []).append(anchor)
    return grouped


def _after(event_id: int) -> str:
    return f"event {event_id}" if event_id else "the start of the chain"


def mismatch(
    anchored: list[Anchor], row: Mapping[str, Any] | None, position: int, last_id: int
) -> str:
    """How the chain contradicts the anchors of one event ("" when it does not).

    `row` is the event with the anchored id (None when the chain has none), `position` its
    1-based place in the chain and `last_id` the id of the event before it.
    """
    for anchor in anchored:
        if row is None:
            return (
                f"events after {_after(last_id)} were deleted: event {anchor.event}, the "
                f"chain's head when anchored at {anchor.at or 'an unknown time'} "
                f"({anchor.count} events), is gone"
            )
        if row["hash"] != anchor.hash or position != anchor.count:
            return (
                f"events after {_after(last_id)} were deleted or replaced: event "
                f"{anchor.event} is not the one anchored at {anchor.at or 'an unknown time'}"
            )
    return ""


def write(head: Anchor, *, by: str, now: datetime | None = None) -> Anchor:
    """Append the head to the anchor file, stamped with the time and who anchored it."""
    anchor = Anchor(head.event, head.hash, head.count, _stamp(now), by)
    storage.append_anchor(anchor.line())
    return anchor


def _stamp(now: datetime | None) -> str:
    return timesource.resolve(now).isoformat(timespec="seconds")


def _anchored_on(line: str | None, day: date) -> bool:
    anchor = _parse(line) if line else None
    if anchor is None or not anchor.at:
        return False
    try:
        moment = datetime.fromisoformat(anchor.at)
    except ValueError:
        return False
    return timesource.local_today(moment) == day


async def daily(now: datetime | None = None) -> bool:
    """Anchor the head unless today already has an anchor; True when one was written.

    Cheap when there is nothing to do (the tail of one file), so the clock may ask every tick;
    the file lock makes two workers asking at once write one anchor.
    """
    today = timesource.local_today(now)
    if _anchored_on(storage.last_anchor_line(), today):
        return False
    head = await storage.audit_head()
    if head is None:
        return False
    anchor = Anchor(head["event"], head["hash"], head["count"], _stamp(now), "clock")
    return storage.append_anchor(anchor.line(), unless_last=lambda last: _anchored_on(last, today))
