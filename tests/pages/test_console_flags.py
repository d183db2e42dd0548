"""The review console names what waits on a listing: a pending objection is not a check's hint."""

from __future__ import annotations

import re

from registry.notices.objections import ObjectionIn, dismiss, lodge
from tests.api import conftest as api_fixtures
from tests.cast import actor, listing_in
from workflows.states import State

login = api_fixtures.login

FACTS = "该机构在和平区南京路的场地没有消防验收手续，去年冬天曾因暖气故障停课两周未通知家长。"


def _flags(page: str, listing_id: int) -> str:
    row = re.search(rf'href="/bureau/listings/{listing_id}">.*?</tr>', page, re.S)
    assert row is not None
    return row.group(0)


async def test_a_pending_objection_shows_as_such_in_the_queue(login, db: object) -> None:
    listing_id = await listing_in(State.in_public_notice)
    objection = await lodge(
        listing_id, ObjectionIn(name="王晓东", contact="13820001234", facts=FACTS), "10.0.0.9"
    )
    reviewer = await login("reviewer")
    flags = _flags((await reviewer.get("/bureau")).text, listing_id)
    assert "待处理异议 1" in flags and f'href="/bureau/listings/{listing_id}#objections"' in flags
    assert re.search(r">提示 \d", flags) is None  # no generic "提示 N" for it
    api = (await reviewer.get("/api/v1/review/listings")).json()
    assert next(i for i in api["items"] if i["id"] == listing_id)["pending_objections"] == 1

    await dismiss(objection, await actor("reviewer"), "经核查，场地已取得消防验收。")
    flags = _flags((await reviewer.get("/bureau")).text, listing_id)
    assert "待处理异议" not in flags
