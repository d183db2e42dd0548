"""Every long list pages: complaints, incidents, notices and the inbox show their total and
hand out one page at a time, the other filters kept in the links."""

from __future__ import annotations

import re
from datetime import date

from registry.paging import PAGE_SIZE
from registry.tables import Complaint, Incident, Listing
from tests.api import conftest as api_fixtures
from tests.cast import CAST, HEPING, listing_in
from tests.factories import new_listing
from workflows import audit
from workflows.states import State

login = api_fixtures.login

EXTRA = 5  # rows past the first page
CAST_DAY = date(2026, 11, 2)


def _rows(page: str, marker: str) -> int:
    return len(re.findall(marker, page))


async def test_complaints_page_by_page_with_the_total(login) -> None:
    listed = await listing_in(State.listed)
    await Complaint.insert(
        *[
            Complaint(listing=listed, content=f"第{n}件投诉：老师经常迟到半小时。", contact="")
            for n in range(PAGE_SIZE + EXTRA)
        ]
    )
    reviewer = await login("reviewer")
    first = (await reviewer.get("/bureau/complaints")).text
    assert f"共 {PAGE_SIZE + EXTRA} 条" in first
    assert _rows(first, r'<a href="/bureau/complaints/\d+">') == PAGE_SIZE
    assert "第 1 / 2 页" in first and 'href="/bureau/complaints?page=2"' in first
    second = (await reviewer.get("/bureau/complaints?page=2")).text
    assert _rows(second, r'<a href="/bureau/complaints/\d+">') == EXTRA
    assert "第0件投诉" in second  # the oldest come last
    # A page past the end shows the last one; nonsense shows the first.
    assert "第0件投诉" in (await reviewer.get("/bureau/complaints?page=99")).text
    assert "第0件投诉" not in (await reviewer.get("/bureau/complaints?page=abc")).text
    # The status filter is kept in the pager's links.
    kept = (await reviewer.get("/bureau/complaints?status=received")).text
    assert 'href="/bureau/complaints?status=received&amp;page=2"' in kept


async def test_incidents_page_for_the_bureau_and_the_school(login) -> None:
    listed = await listing_in(State.listed)
    await Incident.insert(
        *[
            Incident(
                listing=listed,
                severity="minor",
                occurred_on=CAST_DAY,
                description=f"第{n}起：学生轻微擦伤",
                school=CAST.schools["heping_primary"],
                reporter_role="school",
            )
            for n in range(PAGE_SIZE + EXTRA)
        ]
    )
    reviewer = await login("reviewer")
    first = (await reviewer.get("/bureau/incidents")).text
    assert f"共 {PAGE_SIZE + EXTRA} 起" in first
    assert _rows(first, r'<tr>\s*<td><a href="/bureau/incidents/\d+">') == PAGE_SIZE
    assert 'href="/bureau/incidents?show=open&amp;page=2"' in first
    second = (await reviewer.get("/bureau/incidents?show=open&page=2")).text
    assert _rows(second, r'<tr>\s*<td><a href="/bureau/incidents/\d+">') == EXTRA
    school = await login("school")
    mine = (await school.get("/school/incidents")).text
    assert f"共 {PAGE_SIZE + EXTRA} 起" in mine and "第 1 / 2 页" in mine


async def test_notices_page_keeps_each_district_total(login) -> None:
    # Notices are many listings of one organisation here: only the page is under test.
    ids = [
        await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING])
        for _ in range(PAGE_SIZE + 1)
    ]
    await Listing.update(
        {
            Listing.state: State.in_public_notice.value,
            Listing.notice_start: CAST_DAY,
            Listing.notice_end: date(2026, 11, 20),
        }
    ).where(Listing.id.is_in(ids))
    anonymous = await login("city")
    first = (await anonymous.get(f"/notices?district={HEPING}")).text
    assert f"共 {PAGE_SIZE + 1} 家正在公示" in first
    assert f"和平区（{PAGE_SIZE + 1} 家）" in first  # the district's total, not the page's
    assert _rows(first, r'<article class="notice"') == PAGE_SIZE
    second = (await anonymous.get(f"/notices?district={HEPING}&page=2")).text
    assert _rows(second, r'<article class="notice"') == 1


async def test_inbox_pages_its_messages(login) -> None:
    listing_id = await new_listing(CAST.organisations["feiyue"], CAST.districts[HEPING])
    await Listing.update({Listing.state: State.listed.value}).where(Listing.id == listing_id)
    for n in range(PAGE_SIZE + EXTRA):
        await audit.append(
            action="renew",
            role="reviewer",
            actor_id=None,
            actor_name="reviewer",
            listing=listing_id,
            message=f"第{n}次续期通知",
            payload={},
        )
    provider = await login("provider")
    first = (await provider.get("/provider")).text
    assert f"（共 {PAGE_SIZE + EXTRA} 条）" in first
    assert f"第{PAGE_SIZE + EXTRA - 1}次续期通知" in first and "第0次续期通知" not in first
    assert 'href="/provider?page=2#inbox"' in first
    second = (await provider.get("/provider?page=2")).text
    assert "第0次续期通知" in second and f"第{PAGE_SIZE + EXTRA - 1}次续期通知" not in second
