"""Sessions, CSRF and the current actor."""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.session.client_side import CookieBackendConfig

from registry.access.accounts import actor_for
from registry.settings import Settings
from workflows.actors import Actor

SESSION_USER_KEY = "user_id"


def session_config(settings: Settings) -> CookieBackendConfig:
    """A signed, encrypted cookie session: app workers stay stateless."""
    secret = hashlib.sha256(f"session:{settings.secret_key}".encode()).digest()
    # "id" is piccolo-admin's cookie name; ours must differ.
    return CookieBackendConfig(
        secret=secret, key="session", httponly=True, samesite="lax", secure=settings.https
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    """Litestar's double-submit CSRF: cookie `csrftoken`, header `X-CSRFToken`."""
    secret = hashlib.sha256(f"csrf:{settings.secret_key}".encode()).hexdigest()
    # piccolo-admin checks its own CSRF token under /admin.
    return CSRFConfig(secret=secret, exclude=["^/admin"], cookie_secure=settings.https)


def client_address(request: Request[Any, Any, Any]) -> str:
    """The peer address (forwarding headers are not trusted: anyone can write them)."""
    return request.client.host if request.client else "unknown"


async def optional_actor(request: Request[Any, Any, Any]) -> Actor | None:
    """The logged-in actor, or None."""
    user_id = request.session.get(SESSION_USER_KEY) if request.session else None
    if not isinstance(user_id, int):
        return None
    return await actor_for(user_id)


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """The logged-in actor; 401 otherwise."""
    actor = await optional_actor(request)
    if actor is None:
        raise NotAuthorizedException("请先登录")
    return actor
