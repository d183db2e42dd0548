"""Provider sign-up: organisations and individuals, every problem at once, colleagues."""

from __future__ import annotations

from typing import Any

from registry.access.personal_data import PHONE, RESIDENT_ID, plain
from registry.tables import AuditEvent, Membership, Organisation
from tests.api.conftest import Client, Login
from tests.cast import CAST
from tests.factories import INDIVIDUAL_ID

NEW_USCC = "91120101MA05T9WX3N"  # a valid check character (GB 32100)


def organisation(**changes: Any) -> dict[str, Any]:
    body = {
        "name": "天津市河西区启航少儿围棋培训中心",
        "uscc": NEW_USCC,
        "contact_name": "陈静",
        "contact_phone": "13920001111",
        "username": "qihang",
        "password": "weiqi-2026",
    }
    return {**body, **changes}


def errors_by_field(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


async def test_organisation_signs_up_and_is_logged_in(anonymous: Client) -> None:
    response = await anonymous.post("/api/v1/organisations", json=organisation())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "天津市河西区启航少儿围棋培训中心"
    assert body["kind"] == "organisation" and body["username"] == "qihang"
    me = (await anonymous.get("/api/v1/auth/me")).json()
    assert me["username"] == "qihang"
    assert me["grants"] == [
        {
            "role": "provider",
            "role_label": "机构/个人",
            "organisation_id": body["id"],
            "district_id": None,
            "school_id": None,
        }
    ]
    row = await Organisation.select().where(Organisation.id == body["id"]).first()
    assert row["uscc"] == NEW_USCC and plain(row["contact_phone"], PHONE) == "13920001111"


async def test_individual_signs_up_and_resident_id_is_masked(anonymous: Client) -> None:
    response = await anonymous.post(
        "/api/v1/organisations",
        json={
            "kind": "individual",
            "name": "刘书文",
            "resident_id": INDIVIDUAL_ID,
            "contact_name": "刘书文",
            "contact_phone": "15902212345",
            "username": "liushuwen",
            "password": "shufa-2026",
            "founded_on": "2018-09-01",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "individual"
    assert INDIVIDUAL_ID not in response.text
    assert body["resident_id"].startswith("1201") and "*" in body["resident_id"]
    row = await Organisation.select().where(Organisation.id == body["id"]).first()
    assert plain(row["resident_id"], RESIDENT_ID) == INDIVIDUAL_ID and row["uscc"] is None
    assert INDIVIDUAL_ID not in row["resident_id"]  # stored sealed


async def test_bad_uscc_names_the_field_in_chinese(anonymous: Client) -> None:
    response = await anonymous.post(
        "/api/v1/organisations", json=organisation(uscc=NEW_USCC[:-1] + "B")
    )
    assert response.status_code == 422
    errors = errors_by_field(response.json())
    assert "uscc" in errors and "第18位校验码" in errors["uscc"]
    assert not await Organisation.exists().where(Organisation.name == organisation()["name"])


async def test_every_problem_is_reported_at_once(anonymous: Client) -> None:
    response = await anonymous.post(
        "/api/v1/organisations",
        json=organisation(
            name=" ", uscc="123", contact_phone="12345", username="provider", password="short"
        ),
    )
    assert response.status_code == 422
    errors = errors_by_field(response.json())
    assert set(errors) == {"name", "uscc", "contact_phone", "username", "password"}
    assert "已被使用" in errors["username"] and "至少10位" in errors["password"]


async def test_bad_resident_id_and_missing_fields(anonymous: Client) -> None:
    response = await anonymous.post(
        "/api/v1/organisations",
        json={"kind": "individual", "name": "刘书文", "resident_id": INDIVIDUAL_ID[:-1] + "0"},
    )
    assert response.status_code == 422
    errors = errors_by_field(response.json())
    assert "校验码" in errors["resident_id"]
    assert {"contact_name", "contact_phone", "username", "password"} <= set(errors)


async def test_duplicate_uscc_and_username_are_refused(anonymous: Client) -> None:
    first = await anonymous.post("/api/v1/organisations", json=organisation())
    assert first.status_code == 201
    again = await anonymous.post("/api/v1/organisations", json=organisation(username="qihang2"))
    assert again.status_code == 422
    assert set(errors_by_field(again.json())) == {"uscc"}
    taken = await anonymous.post(
        "/api/v1/organisations", json=organisation(uscc="91120101MA06B2C3DU", username="qihang")
    )
    # The cast's organisation holds that code already; the username is taken too.
    assert set(errors_by_field(taken.json())) == {"uscc", "username"}


async def test_colleague_added_by_a_provider_of_the_organisation(login: Login) -> None:
    client = await login("provider")
    feiyue = CAST.organisations["feiyue"]
    response = await client.post(
        f"/api/v1/organisations/{feiyue}/users",
        json={"username": "feiyue_2", "password": "lanqiu-2026"},
    )
    assert response.status_code == 201, response.text
    membership = await Membership.select().where(Membership.user == response.json()["id"]).first()
    assert membership["organisation"] == feiyue and membership["role"] == "provider"
    assert await AuditEvent.exists().where(AuditEvent.action == "organisation.user_added")
    other = await login("provider_other")
    refused = await other.post(
        f"/api/v1/organisations/{feiyue}/users", json={"username": "x_user", "password": "p" * 9}
    )
    assert refused.status_code == 404


async def test_a_credit_code_typed_in_lower_case_signs_up_in_upper_case(
    anonymous: Client,
) -> None:
    typed = NEW_USCC[:9].lower() + " " + NEW_USCC[9:].lower()
    response = await anonymous.post("/api/v1/organisations", json=organisation(uscc=typed))
    assert response.status_code == 201, response.text
    row = await Organisation.select().where(Organisation.id == response.json()["id"]).first()
    assert row["uscc"] == NEW_USCC
    # The same code typed differently is the same organisation.
    again = await anonymous.post(
        "/api/v1/organisations", json=organisation(uscc=NEW_USCC, username="qihang2")
    )
    assert again.status_code == 422
    assert "已注册" in errors_by_field(again.json())["uscc"]
