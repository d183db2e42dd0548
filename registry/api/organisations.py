"""Provider sign-up and colleagues' logins over HTTP (the rules: registry.applications.signup)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from registry.applications.signup import SignupIn, add_colleague, register
from registry.web.security import begin_session, client_address, provide_actor
from workflows.actors import Actor


class UserIn(msgspec.Struct):
    username: str = ""
    password: str = ""


@post(
    "/api/v1/organisations",
    operation_id="signUp",
    exclude_from_csrf=True,
    status_code=201,
    tags=["organisations"],
)
async def sign_up(request: Request[Any, Any, Any], data: JSONBody[SignupIn]) -> Response[Any]:
    """Register a provider (organisation or individual) and log its first user in; 429 with
    Retry-After past the hourly limit of sign-ups from one address."""
    signed_up = await register(data, client_address(request))
    return await begin_session(Response(signed_up, status_code=201), signed_up.user_id)


@post(
    "/api/v1/organisations/{organisation_id:int}/users",
    operation_id="addOrganisationUser",
    status_code=201,
    dependencies={"actor": Provide(provide_actor)},
    tags=["organisations"],
)
async def add_user(
    actor: NamedDependency[Actor], organisation_id: FromPath[int], data: JSONBody[UserIn]
) -> dict[str, Any]:
    """A provider adds a colleague's login to its own organisation."""
    user_id = await add_colleague(organisation_id, actor, data.username, data.password)
    return {"id": user_id, "username": data.username.strip(), "organisation_id": organisation_id}


ROUTES: list[Any] = [sign_up, add_user]
