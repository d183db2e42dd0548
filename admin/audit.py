"""Every successful admin write lands in the audit chain, in the same transaction as the change.

piccolo_api has only pre_* hooks (pre_save, pre_patch, pre_delete) and no post-save hook, and a
pre-hook cannot see whether the write then succeeds. So the work is split in two:

- hooks (and, for creates, a validator) *record* a pending event: who, which row, what changes;
- ``AuditedAdmin`` wraps the admin ASGI app. It runs each table write inside one write
  transaction, buffers the response, and only when the response is 2xx appends the recorded
  events to the chain and commits; otherwise it rolls the change back along with them.

A successful write that recorded no event is rolled back and answered with a 500: nothing changes
through the admin without an audit event.
"""

from __future__ import annotations

import json
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

from registry.db import write_transaction
from registry.tables import AuditEvent
from workflows import audit

ROLE = "admin"
REDACTED = "<redacted>"
# Never copied into an audit payload: only the fact that they changed.
SENSITIVE_COLUMNS = frozenset({"password", "resident_id"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_COOKIE = "id"  # piccolo_api's session cookie


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


def _status(messages: list[Message]) -> int:
    for message in messages:
        if message["type"] == "http.response.start":
            return int(message["status"])
    return 500


def _body(messages: list[Message]) -> bytes:
    return b"".join(
        message.get("body", b"") for message in messages if message["type"] == "http.response.body"
    )


def _json_response(status: int, detail: str) -> list[Message]:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        },
        {"type": "http.response.body", "body": body},
    ]


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


class AuditedAdmin:
    """The piccolo-admin app with audited, transactional table writes and staff-only login."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route writes and logins through their wrappers; pass everything else on."""
        if scope["type"] == "http" and scope["method"] in WRITE_METHODS:
            path = str(scope["path"])
            if "/api/tables/" in path:
                await self._table_write(scope, receive, send)
                return
            if path.endswith("/public/login/") and scope["method"] == "POST":
                await self._login(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _table_write(self, scope: Scope, receive: Receive, send: Send) -> None:
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        events: list[PendingEvent] = []
        token = _PENDING.set(events)
        try:
            async with write_transaction(AuditEvent._meta.db) as transaction:
                await self.app(scope, receive, capture)
                if not 200 <= _status(messages) < 300:
                    await transaction.rollback()
                elif not events:
                    await transaction.rollback()
                    messages = _json_response(500, "本次修改未能记录审计事件，已撤销")
                else:
                    await _append(events, _body(messages))
        finally:
            _PENDING.reset(token)
        for message in messages:
            await send(message)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        # piccolo_api's login checks only the password; the admin's API then refuses a
        # non-admin session with a bare 401. Refuse at login instead, and keep no session.
        messages: list[Message] = []

        async def capture(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        token = _session_token(messages) if _status(messages) == 200 else None
        if token is not None and not await _is_staff_session(token):
            await SessionsBase.remove_session(token)
            messages = _json_response(403, "该账号无权登录管理后台")
        for message in messages:
            await send(message)


def _session_token(messages: list[Message]) -> str | None:
    for message in messages:
        if message["type"] != "http.response.start":
            continue
        for name, value in message.get("headers", []):
            if name.lower() == b"set-cookie":
                cookie: SimpleCookie = SimpleCookie()
                cookie.load(value.decode("latin-1"))
                if SESSION_COOKIE in cookie and cookie[SESSION_COOKIE].value:
                    return cookie[SESSION_COOKIE].value
    return None


async def _is_staff_session(token: str) -> bool:
    user_id = await SessionsBase.get_user_id(token)
    if user_id is None:
        return False
    return await BaseUser.exists().where(
        (BaseUser.id == user_id) & (BaseUser.admin == True) & (BaseUser.active == True)  # noqa: E712
    )
