"""A confirmed grade reaches the public whitelist through the projection's one refresh."""

from __future__ import annotations

from datetime import timedelta

from registry.tables import WhitelistEntry
from tests.api.conftest import Login
from tests.cast import T0, actor, listing_row
from tests.evaluation.helpers import (
    after_deadlines,
    engagement,
    feedback,
    listed_provider,
    rated_by_more_schools,
)
from tests.evaluation.test_cycles_api import give, inspect, open_cycle, results, same
from tests.factories import step
from workflows.states import State


async def test_grade_confirmed_while_suspended_is_public_once_reinstated(login: Login) -> None:
    suspended = await listed_provider("天津市和平区小星星美术培训中心")
    await step(
        suspended,
        "suspend",
        await actor("reviewer"),
        reason="发生安全事故正在调查",
        now=T0 + timedelta(days=1),
    )
    reviewer, school = await login("reviewer"), await login("school")
    cycle = await open_cycle(reviewer)
    await give(school, cycle, await engagement(suspended), feedback(same(95), (10, 0, 0, 0)))
    await inspect(reviewer, cycle, suspended, 95)
    await rated_by_more_schools(cycle, suspended, 1, same(95), (10, 0, 0, 0))  # 良好's minimum
    with after_deadlines():
        reviewer = await login("reviewer")
        assert (await reviewer.post(f"/api/v1/cycles/{cycle}/close")).status_code == 200
        result = (await results(reviewer, cycle))[suspended]
        assert (result["consequence"], result["grade"]) == ("renew", "good")

        confirmed = await reviewer.post(
            f"/api/v1/cycles/{cycle}/confirm", json={"listing_ids": [suspended]}
        )
        assert confirmed.json() == {"confirmed": 1}
        assert (await listing_row(suspended))["state"] == State.suspended  # renewal waits
        assert not await WhitelistEntry.exists().where(WhitelistEntry.listing == suspended)
        await step(suspended, "reinstate", await actor("reviewer"), reason="调查结束，无责任")
    entry = await WhitelistEntry.select().where(WhitelistEntry.listing == suspended).first()
    assert (entry["state"], entry["latest_grade"]) == (State.listed, "good")
