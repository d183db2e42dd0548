"""Session login and logout."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody

from registry.access import logins, passwords, sessions
from registry.web.errors import error_response
from registry.web.security import begin_session, client_address, end_session, provide_actor
from workflows.actors import Actor


class LoginIn(msgspec.Struct):
    username: str
    password: str


class PasswordIn(msgspec.Struct):
    current_password: str
    new_password: str


def refused_login(refused: logins.LoginRefused) -> Response[Any]:
    """401 for a wrong password, 429 with Retry-After while the account or address is locked."""
    field = "password" if refused.code == "invalid_credentials" else "username"
    response = error_response(
        429 if refused.retry_after else 401,
        refused.message,
        [{"field": field, "code": refused.code, "message": refused.message}],
    )
    if refused.retry_after:
        response.headers["Retry-After"] = str(refused.retry_after)
    return response


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
        """Check the password and start a session; 429 with Retry-After while locked out."""
        try:
            user_id = await logins.sign_in(data.username, data.password, client_address(request))
        except logins.LoginRefused as refused:
            return refused_login(refused)
        return await begin_session(
            Response({"id": user_id, "username": data.username.strip()}), user_id
        )

    @post("/logout", operation_id="logout", status_code=200)
    async def logout(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """End the session (on every worker: the session row is deleted)."""
        return await end_session(request, Response({"ok": True}))

    @post(
        "/password",
        operation_id="changePassword",
        status_code=200,
        dependencies={"actor": Provide(provide_actor)},
    )
    async def change_password(
        self,
        request: Request[Any, Any, Any],
        actor: NamedDependency[Actor],
        data: JSONBody[PasswordIn],
    ) -> Response[Any]:
        """Change one's own password; every session of the user ends, this one included."""
        problems = await passwords.change_password(
            actor.user_id or 0, actor.username, data.current_password, data.new_password
        )
        if problems:
            return error_response(422, problems[0].message, [p.as_dict() for p in problems])
        response: Response[Any] = Response({"ok": True, "sessions_ended": True})
        response.delete_cookie(sessions.COOKIE, path="/")
        return response

    @get("/me", operation_id="me", dependencies={"actor": Provide(provide_actor)})
    async def me(self, actor: NamedDependency[Actor]) -> MeOut:
        """Who is logged in, and as what."""
        return me_out(actor)
