"""Sessions, CSRF, the current actor, and the headers every answer carries.

A session is a row in the database (registry/access/sessions.py) named by a random token in an
HttpOnly cookie: it can be revoked, it expires when idle and at its absolute lifetime, and every
worker sees the same rows.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import NotAuthorizedException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from registry.access import logins, sessions
from registry.access.accounts import actor_for, actor_of_session
from registry.settings import Settings, get_settings
from workflows.actors import Actor

# piccolo-admin sets its own `csrftoken` cookie at Path=/ with its own secret; sharing the name
# made every write on the site a 403 once /admin had been opened.
CSRF_COOKIE = "registry_csrf"
CSRF_HEADER = "X-CSRFToken"
_ACTOR_KEY = "registry_actor"
UNSAFE_METHODS = frozenset({b"POST", b"PUT", b"PATCH", b"DELETE"})


def csrf_config(settings: Settings) -> CSRFConfig:
    """Litestar's double-submit CSRF: cookie `registry_csrf`, header `X-CSRFToken`."""
    secret = hashlib.sha256(f"csrf:{settings.secret_key}".encode()).hexdigest()
    # piccolo-admin checks its own CSRF token under /admin.
    return CSRFConfig(
        secret=secret,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        exclude=["^/admin"],
        cookie_secure=settings.https,
    )


def client_address(request: Request[Any, Any, Any]) -> str:
    """The peer address (forwarding headers are not trusted: anyone can write them)."""
    return request.client.host if request.client else "unknown"


def session_token(request: Request[Any, Any, Any]) -> str | None:
    """The session token the client sent, if any."""
    return request.cookies.get(sessions.COOKIE)


async def optional_actor(request: Request[Any, Any, Any]) -> Actor | None:
    """The logged-in actor, or None (looked up once per request)."""
    if _ACTOR_KEY in request.scope:
        cached: Actor | None = request.scope[_ACTOR_KEY]  # type: ignore[literal-required]
        return cached
    actor = await actor_of_session(session_token(request))
    request.scope[_ACTOR_KEY] = actor  # type: ignore[literal-required]
    return actor


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    """The logged-in actor; 401 otherwise."""
    actor = await optional_actor(request)
    if actor is None:
        raise NotAuthorizedException("请先登录")
    return actor


async def begin_session(response: Response[Any], user_id: int) -> Response[Any]:
    """Start a session for the user and give the response its cookie."""
    token = await sessions.start(user_id)
    response.set_cookie(
        sessions.COOKIE,
        token,
        max_age=sessions.max_age_seconds(),
        path="/",
        httponly=True,
        samesite="lax",
        secure=get_settings().https,
    )
    return response


async def end_session(request: Request[Any, Any, Any], response: Response[Any]) -> Response[Any]:
    """End the request's session (audited) and clear its cookie."""
    token = session_token(request)
    user_id = await sessions.end(token)
    if user_id is not None:
        actor = await actor_for(user_id)
        await logins.record_logout(user_id, actor.username if actor else "")
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


def _origin_of(value: str) -> str | None:
    parts = urlsplit(value)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def cross_origin(scope: Scope) -> bool:
    """Whether a browser sent this request from another site (Origin, else Fetch metadata)."""
    headers = _headers(scope)
    host = headers.get(b"host", b"").decode("latin-1").lower()
    origin = headers.get(b"origin", b"").decode("latin-1")
    if origin:
        # "null" (a sandboxed frame, a file://) is never our own page.
        seen = _origin_of(origin)
        return seen is None or urlsplit(seen).netloc != host
    return headers.get(b"sec-fetch-site", b"") == b"cross-site"


def origin_guard(app: ASGIApp) -> ASGIApp:
    """Refuse unsafe requests a browser sent from another site, on every route (admin too).

    CSRF tokens already protect most forms; this also covers the routes that cannot carry a
    token (login, sign-up) and any body type (a text/plain form post needs no preflight).
    """

    async def guard(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"].encode() in UNSAFE_METHODS
            and cross_origin(scope)
        ):
            body = '{"status_code":403,"detail":"拒绝来自其他网站的请求","errors":[]}'.encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"application/json; charset=utf-8"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return guard


# Nothing loads from another host (CDNs and Google Fonts are unreliable in mainland China and
# leak visitors' addresses). Pages use files under /static only; the API docs' and the admin's
# single-page apps need inline script and styles of their own.
_BASE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_APP_CSP = _BASE_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline' 'unsafe-eval'")
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"referrer-policy", b"same-origin"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


def content_security_policy(path: str) -> str:
    """The CSP for a path: strict for our pages, inline script allowed for the two SPAs."""
    return _APP_CSP if path.startswith(("/admin", "/schema")) else _BASE_CSP


async def add_security_headers(message: Message, scope: Scope) -> None:
    """before_send hook: every HTTP answer (error pages and mounts included) gets the headers."""
    if message["type"] != "http.response.start":
        return
    csp = content_security_policy(scope.get("path", "")).encode()
    present = {name.lower() for name, _ in message.get("headers", [])}
    extra = [(b"content-security-policy", csp), *SECURITY_HEADERS]
    message["headers"] = [
        *message.get("headers", []),
        *[(name, value) for name, value in extra if name not in present],
    ]
