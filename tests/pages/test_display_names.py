"""People are named by their name and post on the pages, not by their usernames."""

from __future__ import annotations

import re

from registry.access.people import set_profile
from tests.api import conftest as api_fixtures
from tests.cast import CAST, actor, listing_in
from tests.factories import state_of
from workflows import engine
from workflows.states import State

login = api_fixtures.login  # the API's login fixture: the same session serves the pages


def _visible(page: str) -> str:
    """The page's text without tags, attributes, scripts and styles."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"<[^>]+>", " ", page)


async def test_bureau_pages_name_the_reviewers_and_the_clock_in_words(login, db: object) -> None:
    await set_profile(CAST.users["reviewer"], "王丽", "审核员")
    await set_profile(CAST.users["reviewer2"], "李强", "审核员")
    await set_profile(CAST.users["approver"], "赵敏", "科长")
    listing_id = await listing_in(State.listed)  # the clock ended its notice period
    reviewer = await login("reviewer")
    assigned = await reviewer.put(
        f"/api/v1/listings/{listing_id}/assignee", json={"reviewer_id": CAST.users["reviewer2"]}
    )
    assert assigned.json()["assigned_to"]["name"] == "李强（审核员）"

    page = _visible((await reviewer.get(f"/bureau/listings/{listing_id}")).text)
    assert "王丽（区教育局审核员）" in page  # the header: name and role
    assert "分配给 李强（审核员）" in page  # the history's detail
    assert "赵敏（科长）" in page  # who approved, in the history
    assert "系统（定时任务）" in page and "系统时钟" in page  # the clock ended the notice
    for code in ("reviewer2", "approver", "clock", "application.created", "review.assign"):
        assert not re.search(rf"(?<![\w.]){re.escape(code)}(?![\w.])", page), code
    console = _visible((await reviewer.get("/bureau?state=listed&assigned=all")).text)
    assert "李强（审核员）" in console


async def test_without_a_name_the_username_is_shown(login, db: object) -> None:
    listing_id = await listing_in(State.submitted)
    _, version = await state_of(listing_id)
    await engine.fire(listing_id, "accept", await actor("reviewer"), version=version)
    page = _visible((await (await login("reviewer")).get(f"/bureau/listings/{listing_id}")).text)
    assert "reviewer（区教育局审核员）" in page
