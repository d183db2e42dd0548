"""Session login and logout."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from piccolo.apps.user.tables import BaseUser

from registry.web.errors import error_response
from registry.web.security import SESSION_USER_KEY, provide_actor
from workflows.actors import Actor


class LoginIn(msgspec.Struct):
    username: str
    password: str


class GrantOut(msgspec.Struct):
    role: str
    role_label: str
    organisation_id: int | None
    district_id: int | None
    school_id: int | None


class MeOut(msgspec.Struct):
    id: int
    username: str
    grants: list[GrantOut]


def me_out(actor: Actor) -> MeOut:
    """The logged-in user as JSON."""
    return MeOut(
        id=actor.user_id or 0,
        username=actor.username,
        grants=[
            GrantOut(g.role.value, g.role.label, g.organisation_id, g.district_id, g.school_id)
            for g in actor.grants
        ],
    )


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", operation_id="login", status_code=200, exclude_from_csrf=True)
    async def login(self, request: Request[Any, Any, Any], data: JSONBody[LoginIn]) -> Any:
        """Check the password and start a session."""
        user_id = await BaseUser.login(username=data.username, password=data.password)
        if user_id is None:
            return error_response(
                401,
                "用户名或密码错误",
                [
                    {
                        "field": "password",
                        "code": "invalid_credentials",
                        "message": "用户名或密码错误",
                    }
                ],
            )
        request.set_session({SESSION_USER_KEY: int(user_id)})
        return {"id": int(user_id), "username": data.username}

    @post("/logout", operation_id="logout", status_code=200)
    async def logout(self, request: Request[Any, Any, Any]) -> dict[str, bool]:
        """End the session."""
        request.clear_session()
        return {"ok": True}

    @get("/me", operation_id="me", dependencies={"actor": Provide(provide_actor)})
    async def me(self, actor: NamedDependency[Actor]) -> MeOut:
        """Who is logged in, and as what."""
        return me_out(actor)
