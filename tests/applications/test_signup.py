"""Sign-up and colleagues as services: plain values in, a signed-up provider or every problem."""

from __future__ import annotations

import pytest
from piccolo.apps.user.tables import BaseUser

from registry.access.people import display_names
from registry.access.personal_data import organisation_plain
from registry.applications.signup import SignupIn, add_colleague, register, signup_problems
from registry.tables import Membership, Organisation
from tests.cast import CAST, actor
from tests.factories import INDIVIDUAL_ID
from workflows.engine import NotFound, Refused


def individual(**changes: str) -> SignupIn:
    fields = {
        "kind": "individual",
        "name": "刘书文",
        "resident_id": INDIVIDUAL_ID,
        "contact_name": "刘书文",
        "contact_phone": "15902212345",
        "username": "liushuwen",
        "password": "shufa-2026",
        **changes,
    }
    return SignupIn(**fields)


async def test_register_creates_the_provider_and_its_login(db: object) -> None:
    signed_up = await register(individual(founded_on="2018-09-01"))
    assert signed_up.kind == "individual" and signed_up.uscc is None
    assert signed_up.resident_id and INDIVIDUAL_ID not in signed_up.resident_id
    row = await Organisation.select().where(Organisation.id == signed_up.id).first()
    # Stored sealed, and read back through registry.access.personal_data.
    assert INDIVIDUAL_ID not in row["resident_id"] and "15902212345" not in row["contact_phone"]
    opened = organisation_plain(row)
    assert opened["resident_id"] == INDIVIDUAL_ID and opened["contact_phone"] == "15902212345"
    assert str(row["founded_on"]) == "2018-09-01"
    membership = await Membership.select().where(Membership.user == signed_up.user_id).first()
    assert membership["organisation"] == signed_up.id and membership["role"] == "provider"
    # Pages name the login by the person, not by "liushuwen".
    assert await display_names([signed_up.user_id]) == {signed_up.user_id: "刘书文"}


async def test_every_problem_names_its_field_and_nothing_is_written(db: object) -> None:
    data = individual(uscc="91120101MA06B2C3DU", contact_phone="123", founded_on="2099-01-01")
    problems = {p.field: p.code for p in await signup_problems(data)}
    assert problems == {"uscc": "not_allowed", "contact_phone": "pattern", "founded_on": "maximum"}
    with pytest.raises(Refused):
        await register(data)
    assert not await Organisation.exists().where(Organisation.name == "刘书文")


async def test_colleague_only_for_ones_own_organisation(db: object) -> None:
    feiyue = CAST.organisations["feiyue"]
    user_id = await add_colleague(feiyue, await actor("provider"), " feiyue_2 ", "lanqiu-2026")
    assert await BaseUser.exists().where(
        (BaseUser.id == user_id) & (BaseUser.username == "feiyue_2")
    )
    with pytest.raises(NotFound):
        await add_colleague(feiyue, await actor("provider_other"), "x_user", "p" * 9)
    with pytest.raises(Refused) as refused:
        await add_colleague(feiyue, await actor("provider"), "feiyue_2", "short")
    assert {p.field for p in refused.value.errors} == {"username", "password"}
