"""One set of password rules for sign-up, create-user, the admin and changing a password."""

from __future__ import annotations

import httpx
import pytest
from piccolo.engine.base import Engine

from registry.access.accounts import AccountError, Scope, create_user
from registry.access.passwords import password_problems
from tests.cli_runner import registry
from workflows.states import Role


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("abc123", "至少10位"),
        ("abcdefghijk", "还缺"),  # one class
        ("abcdefgh123", "还缺"),  # two classes
        ("Password123!", "过于常见"),
        ("P@ssw0rd2024", "过于常见"),
        ("Tianjin@2026", "过于常见"),
        ("1qaz@WSX3edc", "过于常见"),
        ("aaaaaaaaaA1!", "过少的不同字符"),
        ("Hp_reviewer-9x", "不能包含用户名"),
        ("x" * 129, "不能超过128位"),
        ("Kq7#lanqiu-2027", None),
        ("correct-horse-9", None),  # lower case, digits and a symbol: three classes
        ("篮球Lanqiu2027", None),  # Chinese characters count as symbols
    ],
)
def test_password_rules(password: str, problem: str | None) -> None:
    problems = password_problems(password, "hp_reviewer")
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]


async def test_create_user_refuses_a_weak_password(db: object) -> None:
    with pytest.raises(AccountError) as refused:
        await create_user("city_weak", "abc123", Role.city, Scope())
    assert refused.value.field == "password" and "至少10位" in refused.value.message


async def test_the_cli_refuses_abc123_for_a_city_account(db: Engine) -> None:
    run = await registry(db, "create-user", "city2", "--role", "city", stdin="abc123\n")
    assert run.code != 0
    assert "至少10位" in run.err + run.out
    ok = await registry(db, "create-user", "city2", "--role", "city", stdin="Kq7#lanqiu-2027\n")
    assert ok.code == 0, ok.err


async def test_sign_up_refuses_a_common_password(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.post(
        "/api/v1/organisations",
        json={
            "kind": "organisation",
            "name": "天津市和平区星光美术培训中心",
            "uscc": "91120101MA05L8XQ3C",
            "contact_name": "王芳",
            "contact_phone": "13820001234",
            "username": "xingguang",
            "password": "Password123!",
        },
    )
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "过于常见" in errors["password"]
