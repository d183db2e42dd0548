"""Every successful admin write lands in the audit chain, in the same transaction as the change.

piccolo_api has only pre_* hooks (pre_save, pre_patch, pre_delete) and no post-save hook, and a
pre-hook cannot see whether the write then succeeds. So the work is split in two:

- hooks (and, for creates, a validator) *record* a pending event: who, which row, what changes;
- ``AuditedAdmin`` wraps the admin ASGI app. It runs each table write inside one write
  transaction, buffers the response, and only when the response is 2xx appends the recorded
  events to the chain and commits; otherwise it rolls the change back along with them.

A successful write that recorded no event is rolled back and answered with a 500: nothing changes
through the admin without an audit event.

The same wrapper is the admin's gate: only the city and superusers get past it (admin/gate.py),
and every JSON answer of the table API leaves with personal data masked (admin/privacy.py).
"""

from __future__ import annotations

import json
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from http.cookies import SimpleCookie
from typing import Any
from uuid import UUID

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import JSON, JSONB, Column
from piccolo.table import Table
from piccolo_api.crud.endpoints import PiccoloCRUD
from piccolo_api.session_auth.tables import SessionsBase
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from admin import gate, localise, privacy
from admin.asgi import (
    body_of,
    buffered,
    dump_json,
    is_json,
    json_answer,
    read_body,
    replay,
    send_all,
    status_of,
    with_body,
    with_content_length,
)
from registry import tables as registry_tables
from registry.access.accounts import may_use_admin
from registry.db import write_transaction
from registry.tables import AuditEvent
from workflows import audit

ROLE = "admin"
REDACTED = "<redacted>"
# Never copied into an audit payload (it is permanent): only the fact that they changed.
SENSITIVE_COLUMNS = frozenset({"password"}) | privacy.PERSONAL_COLUMNS
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API, TABLES = "/api/", "/api/tables/"
NOT_FOR_YOU = "管理后台仅供市教委使用：区教育局、学校和机构请使用各自的工作页面"


@dataclass
class PendingEvent:
    """An audit event waiting for its write to succeed."""

    table: type[Table]
    kind: str  # create | update | delete
    actor_id: int | None
    actor_name: str
    row_id: Any = None
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> str:
        """E.g. admin.district.update."""
        return f"admin.{self.table._meta.tablename}.{self.kind}"


# The events of the current admin request; the hooks run in copies of the wrapper's context,
# so they append to the list the wrapper put there rather than setting the variable.
_PENDING: ContextVar[list[PendingEvent] | None] = ContextVar("admin_pending_events", default=None)


def _pending() -> list[PendingEvent]:
    events = _PENDING.get()
    if events is None:
        # A write that does not pass through AuditedAdmin could not be audited: refuse it.
        raise HTTPException(status_code=500, detail="审计未就绪，已拒绝本次修改")
    return events


def _actor(request: Request) -> tuple[int | None, str]:
    # piccolo_api's session auth puts a piccolo_api User there; `.user` is the BaseUser row.
    user: BaseUser = request.user.user
    return int(user.id), str(user.username)


# --- payload values ---------------------------------------------------------------------------


def _jsonable(column: Column, value: Any) -> Any:
    """A column value as it goes into the audit payload (plain JSON, comparable)."""
    if isinstance(column, JSON | JSONB) and isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(column, item) for item in value]
    return value


def _snapshot(table: type[Table], row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in table._meta.columns:
        name = column._meta.name
        if name not in row:
            continue
        value = row[name]
        if name in SENSITIVE_COLUMNS:
            out[name] = REDACTED if value else value
        else:
            out[name] = _jsonable(column, value)
    return out


async def _row(table: type[Table], row_id: Any) -> dict[str, Any] | None:
    return (
        await table.select(exclude_secrets=True)
        .where(table._meta.primary_key == row_id)
        .first()
        .run()
    )


# --- recorders (validators and hooks) ---------------------------------------------------------


def record_create(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    """post_single validator: a create; the row id is read from the response."""
    # A validator, not a pre_save hook: PiccoloCRUD creates users without running any hook.
    actor_id, actor_name = _actor(request)
    _pending().append(PendingEvent(piccolo_crud.table, "create", actor_id, actor_name))


def update_recorder(table: type[Table]) -> Any:
    """A pre_patch hook recording which values of `table` change, and from what."""

    async def record_update(
        row_id: Any, values: dict[Column, Any], request: Request
    ) -> dict[Column, Any]:
        actor_id, actor_name = _actor(request)
        old = await _row(table, row_id) or {}
        changes: dict[str, Any] = {}
        previous: dict[str, Any] = {}
        for column, value in values.items():
            name = column._meta.name
            if name in SENSITIVE_COLUMNS:
                # A stored password is a hash and an empty one means "unchanged" to piccolo.
                if value and (name == "password" or value != old.get(name)):
                    changes[name] = REDACTED
                continue
            new_value = _jsonable(column, value)
            old_value = _jsonable(column, old.get(name))
            if new_value != old_value:
                changes[name] = new_value
                previous[name] = old_value
        _pending().append(
            PendingEvent(
                table,
                "update",
                actor_id,
                actor_name,
                row_id=row_id,
                payload={"id": row_id, "changes": changes, "previous": previous},
            )
        )
        return values

    return record_update


def delete_recorder(table: type[Table]) -> Any:
    """A pre_delete hook recording the row about to be deleted."""

    async def record_delete(row_id: Any, request: Request) -> None:
        actor_id, actor_name = _actor(request)
        old = await _row(table, row_id) or {}
        _pending().append(
            PendingEvent(
                table,
                "delete",
                actor_id,
                actor_name,
                row_id=row_id,
                payload={"id": row_id, "values": _snapshot(table, old)},
            )
        )

    return record_delete


# --- the ASGI wrapper -------------------------------------------------------------------------


def _created_id(body: bytes) -> Any:
    # PiccoloCRUD answers a create with [{"id": 7}], and a user create with {"id": 7}.
    data = json.loads(body)
    if isinstance(data, list):
        data = data[0]
    return data["id"]


async def _append(events: list[PendingEvent], body: bytes) -> None:
    for event in events:
        if event.kind == "create":
            event.row_id = _created_id(body)
            row = await _row(event.table, event.row_id) or {}
            event.payload = {"id": event.row_id, "values": _snapshot(event.table, row)}
        await audit.append(
            action=event.action,
            role=ROLE,
            actor_id=event.actor_id,
            actor_name=event.actor_name,
            listing=None,  # listings are read-only here: no admin event is about one
            payload=event.payload,
        )


def _route(path: str) -> tuple[str | None, str, int | None]:
    """(table, endpoint, row id) of a table API path; table None elsewhere.

    Endpoints: "rows" (the list), "row" (one row), or piccolo's own ("ids", "count", …).
    """
    if not path.startswith(TABLES):
        return None, "", None
    parts = [part for part in path[len(TABLES) :].split("/") if part]
    if not parts or parts == ["grouped"]:
        return None, "", None
    if len(parts) == 1:
        return parts[0], "rows", None
    if parts[1].isdigit():
        return parts[0], "row", int(parts[1])
    return parts[0], parts[1], None


def _relative(scope: Scope) -> str:
    path = str(scope["path"])
    root = str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


# Table name → class, for reading a table's answers (which columns hold timestamps).
TABLE_CLASSES: dict[str, type[Table]] = {
    t._meta.tablename: t for t in (*registry_tables.TABLES, BaseUser)
}


class AuditedAdmin:
    """The piccolo-admin app: city and superusers only, personal data masked, writes audited."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Gate the API, refuse personal-data queries, scrub answers, audit table writes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = _relative(scope), scope["method"]
        if path.endswith("/public/login/") and method == "POST":
            await self._login(scope, receive, send)
            return
        if not path.startswith(API):
            if localise.is_bundle(path) and method == "GET":
                await self._bundle(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the page, its assets, login and logout
            return
        user_id = await gate.session_user(gate.session_token(scope))
        if user_id is None:
            await self.app(scope, receive, send)  # piccolo answers 401 itself
            return
        user = await gate.admin_user(user_id)
        if user is None:
            await send_all(send, json_answer(403, NOT_FOR_YOU))
            return
        table, endpoint, row_id = _route(path)
        refusal = privacy.refused_parameter(scope.get("query_string", b"").decode("latin-1"))
        if table is not None and refusal:
            await send_all(send, json_answer(400, refusal))
            return
        if method in WRITE_METHODS and table is not None:
            await self._table_write(scope, receive, send, table)
            return
        messages = await buffered(self.app, scope, receive)
        if status_of(messages) == 200 and is_json(messages):
            data = await gate.scoped(
                user, table or "", endpoint, row_id, json.loads(body_of(messages))
            )
            if data is None:
                messages = json_answer(404, "记录不存在")
            else:
                data = privacy.scrub(table or "", data)
                if table is not None and endpoint == "schema":
                    data = localise.relabel_schema(table, data)
                elif table is not None and endpoint in ("rows", "row"):
                    data = localise.beijing_times(TABLE_CLASSES.get(table), data)
                messages = with_body(messages, dump_json(data))
        await send_all(send, messages)

    async def _bundle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The UI's JavaScript, with its table names, messages and time zone in Chinese terms.
        messages = await buffered(self.app, scope, receive)
        if status_of(messages) == 200:
            script = localise.patch_bundle(body_of(messages).decode("utf-8"))
            messages = localise.with_own_etag(with_body(messages, script.encode("utf-8")))
        await send_all(send, messages)

    async def _table_write(self, scope: Scope, receive: Receive, send: Send, table: str) -> None:
        body = await read_body(receive)
        if body:
            # The edit form sends back what it was shown: a mask is no new value.
            with suppress(json.JSONDecodeError):  # piccolo answers a malformed body itself
                body = dump_json(privacy.unchanged_masks(json.loads(body)))
        scope = with_content_length(scope, len(body))
        events: list[PendingEvent] = []
        token = _PENDING.set(events)
        try:
            async with write_transaction(AuditEvent._meta.db) as transaction:
                messages = await buffered(self.app, scope, replay(body, receive))
                if not 200 <= status_of(messages) < 300:
                    await transaction.rollback()
                elif not events:
                    await transaction.rollback()
                    messages = json_answer(500, "本次修改未能记录审计事件，已撤销")
                else:
                    await _append(events, body_of(messages))
        finally:
            _PENDING.reset(token)
        if 200 <= status_of(messages) < 300 and is_json(messages):
            written = privacy.scrub(table, json.loads(body_of(messages)))
            messages = with_body(messages, dump_json(written))
        await send_all(send, messages)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        # piccolo_api's login checks only the password; the admin's API then refuses a
        # non-admin session with a bare 401. Refuse at login instead, and keep no session.
        messages = await buffered(self.app, scope, receive)
        token = _session_token(messages) if status_of(messages) == 200 else None
        if token is not None:
            user_id = await gate.session_user(token)
            if user_id is None or not await may_use_admin(user_id):
                await SessionsBase.remove_session(token)
                messages = json_answer(403, "该账号无权登录管理后台")
        await send_all(send, messages)


def _session_token(messages: list[Message]) -> str | None:
    """The session token a login answer sets."""
    for message in messages:
        if message["type"] != "http.response.start":
            continue
        for name, value in message.get("headers", []):
            if name.lower() == b"set-cookie":
                cookie: SimpleCookie = SimpleCookie()
                cookie.load(value.decode("latin-1"))
                if gate.SESSION_COOKIE in cookie and cookie[gate.SESSION_COOKIE].value:
                    return cookie[gate.SESSION_COOKIE].value
    return None
