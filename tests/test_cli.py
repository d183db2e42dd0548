"""The `registry` command, run for real against the test database."""

from __future__ import annotations

from piccolo.apps.user.tables import BaseUser

from registry.access.people import display_names
from registry.tables import Membership
from tests.cast import CAST, actor, listing_in
from tests.cli_runner import registry
from tests.factories import state_of, step
from workflows.states import State


async def test_create_user_reads_the_password_from_stdin(db: object) -> None:
    run = await registry(
        db, "create-user", "hexi_reviewer", "--role", "reviewer", "--district", "120103",
        stdin="s3cret-pass\n",
    )  # fmt: skip
    assert run.code == 0, run.err
    user_id = await BaseUser.login("hexi_reviewer", "s3cret-pass")
    assert user_id is not None
    membership = (
        await Membership.select(Membership.role, Membership.district.code)
        .where(Membership.user == user_id)
        .first()
    )
    assert membership == {"role": "reviewer", "district.code": "120103"}


async def test_create_user_with_a_display_name(db: object) -> None:
    run = await registry(
        db, "create-user", "hexi_wang", "--role", "reviewer", "--district", "120103",
        "--name", "王丽", "--post", "审核员", stdin="s3cret-pass\n",
    )  # fmt: skip
    assert run.code == 0, run.err
    user_id = await BaseUser.login("hexi_wang", "s3cret-pass")
    assert user_id is not None
    assert await display_names([user_id]) == {user_id: "王丽（审核员）"}
    too_long = await registry(
        db, "create-user", "hexi_long", "--role", "reviewer", "--district", "120103",
        "--name", "王" * 65, stdin="s3cret-pass\n",
    )  # fmt: skip
    assert too_long.code != 0 and "姓名" in too_long.err and "Traceback" not in too_long.err


async def test_create_user_names_the_missing_scope(db: object) -> None:
    run = await registry(db, "create-user", "lost", "--role", "school", stdin="s3cret-pass\n")
    assert run.code != 0
    assert "school" in run.err and "学校" in run.err
    assert "Traceback" not in run.err
    assert not await BaseUser.exists().where(BaseUser.username == "lost")


async def test_create_user_refuses_unknown_district(db: object) -> None:
    run = await registry(
        db, "create-user", "x", "--role", "approver", "--district", "999999", stdin="s3cret-pass\n"
    )
    assert run.code != 0 and "999999" in run.err


async def test_create_provider_user_for_an_organisation(db: object) -> None:
    organisation = CAST.organisations["other"]
    run = await registry(
        db, "create-user", "moxiang2", "--role", "provider", "--organisation", str(organisation),
        stdin="s3cret-pass\n",
    )  # fmt: skip
    assert run.code == 0, run.err


async def test_tick_with_now_applies_due_transitions(db: object) -> None:
    listing_id = await listing_in(State.pending_approval)
    await step(listing_id, "approve", await actor("approver"))
    early = await registry(db, "tick", "--now", "2000-01-01T00:00:00")
    assert early.code == 0 and early.out.strip() == "0 transitions applied"
    run = await registry(db, "tick", "--now", "2099-01-01T00:00:00")
    assert run.code == 0, run.err
    assert run.out.strip() == "1 transitions applied (end_notice: 1)"
    assert (await state_of(listing_id))[0] == State.listed


async def test_tick_rejects_a_malformed_time(db: object) -> None:
    run = await registry(db, "tick", "--now", "next tuesday")
    assert run.code == 2 and "--now" in run.err and "Traceback" not in run.err
