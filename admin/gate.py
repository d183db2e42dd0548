"""Who may use the admin, and which rows of the workflow tables the city sees there.

The admin is for the city (reference data) and superusers; district staff, schools and
providers have their own pages, scoped to them. The city's rows follow registry.access.scope
like everywhere else (no drafts: they were never sent); a superuser, who can edit users and
memberships anyway, sees every row. Both see personal data masked (admin/privacy.py).

Signing in to the admin and setting passwords there follow the registry's rules (AccountGate):
the same failure limits, lockout and audit as the registry's login, the same password rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import Column
from piccolo_api.crud.endpoints import PiccoloCRUD
from piccolo_api.session_auth.tables import SessionsBase
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from admin.asgi import buffered, json_answer, read_body, replay, send_all, status_of
from registry.access import logins, sessions
from registry.access.accounts import actor_for, may_use_admin
from registry.access.passwords import password_problems
from registry.access.scope import RecordKind, table_of, visible
from registry.db import write_transaction
from workflows import audit
from workflows.actors import Actor

SESSION_COOKIE = "id"  # piccolo_api's session cookie
# Admin tables whose rows depend on who asks (tablename → record kind).
SCOPED_TABLES: dict[str, RecordKind] = {
    "listing": RecordKind.listing,
    "document": RecordKind.document,
    "complaint": RecordKind.complaint,
    "incident": RecordKind.incident,
    "engagement": RecordKind.engagement,
    "evaluation_result": RecordKind.result,
    "audit_event": RecordKind.audit_event,
    "objection": RecordKind.objection,
}


@dataclass(frozen=True)
class AdminUser:
    """A session's user, allowed in the admin."""

    actor: Actor
    superuser: bool


def session_token(scope: Scope) -> str | None:
    """The piccolo_api session token a request carries, if any."""
    for name, value in scope.get("headers", []):
        if name.lower() != b"cookie":
            continue
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(value.decode("latin-1"))
        except CookieError:
            continue
        if SESSION_COOKIE in cookie and cookie[SESSION_COOKIE].value:
            return cookie[SESSION_COOKIE].value
    return None


async def session_user(token: str | None) -> int | None:
    """The user id of a live session (expired or unknown: None)."""
    if not token:
        return None
    user_id = await SessionsBase.get_user_id(token)
    return int(user_id) if user_id is not None else None


async def admin_user(user_id: int) -> AdminUser | None:
    """The user as the admin sees them, or None when they may not use it."""
    if not await may_use_admin(user_id):
        return None
    actor = await actor_for(user_id)
    row = (
        await BaseUser.select(BaseUser.superuser)
        .where(BaseUser._meta.primary_key == user_id)
        .first()
    )
    if actor is None or row is None:
        return None
    return AdminUser(actor=actor, superuser=bool(row["superuser"]))


async def visible_ids(user: AdminUser, table: str, ids: Iterable[Any]) -> set[Any]:
    """Which of these rows of an admin table the user may see."""
    wanted = sorted({i for i in ids if isinstance(i, int) and not isinstance(i, bool)})
    kind = SCOPED_TABLES.get(table)
    if kind is None or user.superuser:
        return set(wanted)
    clause = visible(kind, user.actor)
    if clause is None or not wanted:
        return set()
    model = table_of(kind)
    key = model._meta.primary_key
    rows = await model.select(key).where(key.is_in(wanted) & clause)
    return {row[key._meta.name] for row in rows}


async def scoped(
    user: AdminUser, table: str, endpoint: str, row_id: int | None, data: Any
) -> Any | None:
    """The answer with the rows the user may not see left out; None: answer 404."""
    if table not in SCOPED_TABLES or user.superuser:
        return data
    if endpoint == "rows" and isinstance(data, Mapping) and isinstance(data.get("rows"), list):
        rows = [row for row in data["rows"] if isinstance(row, Mapping)]
        seen = await visible_ids(user, table, (row.get("id") for row in rows))
        return {**data, "rows": [row for row in rows if row.get("id") in seen]}
    if endpoint == "ids" and isinstance(data, Mapping):
        keys = {int(k): k for k in data if str(k).isdigit()}
        seen = await visible_ids(user, table, keys)
        return {keys[i]: data[keys[i]] for i in sorted(seen)}
    if endpoint == "row":
        return data if await visible_ids(user, table, [row_id]) else None
    return data


# --- signing in and passwords: the registry's rules, not piccolo's ----------------------------

LOGIN_PATH = "/public/login/"
CHANGE_PASSWORD_PATH = "/api/change-password/"
NOT_AN_ADMIN = "该账号无权登录管理后台"


def relative_path(scope: Scope) -> str:
    """The path inside the admin (the mount's prefix removed)."""
    path = str(scope["path"])
    root = str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


def _fields(scope: Scope, body: bytes) -> Mapping[str, Any]:
    """A posted JSON object or form, as piccolo's endpoints read either."""
    headers = {k.lower(): v for k, v in scope.get("headers", [])}
    if b"json" in headers.get(b"content-type", b"json"):
        try:
            data = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return {}
        return data if isinstance(data, Mapping) else {}
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    return value if isinstance(value, str) else ""


class AccountGate:
    """piccolo-admin's sign-in and password change, held to the registry's own rules.

    piccolo's login limits requests per client address in memory (20 in 5 minutes, blocked
    until a restart), which locks out everyone behind one proxy and knows nothing of accounts.
    Here a sign-in goes through registry.access.logins.sign_in instead: failures counted per
    account and per address in the database, a lockout that ends by itself, an audit event for
    every attempt; only then, and only for the city, does piccolo start its session. A new
    password must pass registry.access.passwords.password_problems, and changing one's own ends
    every registry session too, as changing it on the registry's pages does.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Intercept the login and change-password posts; pass everything else through."""
        if scope["type"] == "http" and scope["method"] == "POST":
            path = relative_path(scope)
            if path == LOGIN_PATH:
                await self._login(scope, receive, send)
                return
            if path == CHANGE_PASSWORD_PATH:
                await self._change_password(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        data = _fields(scope, body)
        username, password = _text(data, "username"), _text(data, "password")
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        try:
            user_id = await logins.sign_in(username, password, address)
        except logins.LoginRefused as refused:
            status = 429 if refused.retry_after else 401
            messages = json_answer(status, refused.message)
            if refused.retry_after:
                start = messages[0]
                start["headers"] = [
                    *start["headers"],
                    (b"retry-after", str(refused.retry_after).encode()),
                ]
            await send_all(send, messages)
            return
        if not await may_use_admin(user_id):
            await send_all(send, json_answer(403, NOT_AN_ADMIN))
            return
        await self.app(scope, replay(body, receive), send)

    async def _change_password(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive)
        user_id = await session_user(session_token(scope))
        if user_id is None:
            await self.app(scope, replay(body, receive), send)  # piccolo answers 401
            return
        data = _fields(scope, body)
        username = await _username(user_id)
        new, current = _text(data, "new_password"), _text(data, "current_password")
        problems = password_problems(new, username) if new else []
        if not problems and new and new == current:
            problems = ["新密码不能与当前密码相同"]
        if problems:
            await send_all(send, json_answer(422, problems[0]))
            return
        messages = await buffered(self.app, scope, replay(body, receive))
        if 200 <= status_of(messages) < 400:
            # piccolo ended its own sessions; the registry's end too, and the change is audited.
            await sessions.end_all(user_id)
            async with write_transaction(BaseUser._meta.db):
                await audit.append(
                    action="auth.password_changed",
                    role="auth",
                    actor_id=user_id,
                    actor_name=username,
                    payload={"via": "admin"},
                )
        await send_all(send, messages)


async def _username(user_id: Any) -> str:
    row = await BaseUser.select(BaseUser.username).where(BaseUser.id == user_id).first()
    return str(row["username"]) if row else ""


def _weak(problems: list[str]) -> HTTPException:
    # The shape piccolo-admin's form lists field by field (see admin/rules.py).
    return HTTPException(
        status_code=422,
        detail=[{"loc": ["password"], "msg": message, "type": "weak"} for message in problems],
    )


async def check_new_user_password(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    """post_single validator on users: a new user's password follows the registry's rules."""
    # PiccoloCRUD creates a user without running any hook, so this is a validator; Starlette
    # keeps the parsed body, which the endpoint reads again.
    try:
        data = await request.json()
    except json.JSONDecodeError:
        return  # piccolo answers a malformed body itself
    if not isinstance(data, Mapping):
        return
    password = data.get("password")
    if isinstance(password, str):
        problems = password_problems(password, str(data.get("username") or ""))
        if problems:
            raise _weak(problems)


async def check_password_patch(
    row_id: Any, values: dict[Column, Any], request: Request
) -> dict[Column, Any]:
    """pre_patch hook on users: a changed password follows the registry's rules."""
    by_name = {column._meta.name: value for column, value in values.items()}
    password = by_name.get("password")
    if isinstance(password, str) and password:
        username = by_name.get("username") or await _username(row_id)
        problems = password_problems(password, str(username))
        if problems:
            raise _weak(problems)
    return values
