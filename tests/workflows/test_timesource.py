"""The app's one clock: tests freeze it, nothing else reads the machine's time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from registry.notices.certificates import verify_code
from tests.cast import NOW, listing_in, listing_row
from workflows import timesource
from workflows.states import State

ROOT = Path(__file__).resolve().parents[2]
WALL_CLOCK = re.compile(r"\b(datetime\.now|datetime\.utcnow|date\.today|time\.time)\(")


def test_only_the_time_source_reads_the_machine_clock() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("registry", "workflows", "schemas", "admin")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.name != "timesource.py" and "piccolo_migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if WALL_CLOCK.search(line)
    ]
    assert offenders == []


def test_frozen_moments_nest_and_need_a_time_zone() -> None:
    assert timesource.now() == NOW
    later = NOW + timedelta(days=800)
    with timesource.frozen(later):
        assert timesource.now() == later
        assert timesource.local_today() == later.astimezone(UTC).date()
    assert timesource.now() == NOW
    with pytest.raises(ValueError), timesource.frozen(datetime(2030, 1, 1)):
        pass


def test_local_today_is_beijing_time() -> None:
    # 2030-12-31 16:30 UTC is already New Year's Day in Tianjin.
    assert timesource.local_today(datetime(2030, 12, 31, 16, 30, tzinfo=UTC)).isoformat() == (
        "2031-01-01"
    )


async def test_pages_follow_the_frozen_clock(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    until = (await listing_row(listing_id))["valid_until"]
    page = f"/verify/{verify_code(listing_id)}"
    assert "已入库" in (await anonymous.get(page)).text
    with timesource.frozen(NOW.replace(year=until.year + 1)):
        assert "已过期" in (await anonymous.get(page)).text
