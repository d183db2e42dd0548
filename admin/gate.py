"""Who may use the admin, and which rows of the workflow tables the city sees there.

The admin is for the city (reference data) and superusers; district staff, schools and
providers have their own pages, scoped to them. The city's rows follow registry.access.scope
like everywhere else (no drafts: they were never sent); a superuser, who can edit users and
memberships anyway, sees every row. Both see personal data masked (admin/privacy.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo_api.session_auth.tables import SessionsBase
from starlette.types import Scope

from registry.access.accounts import actor_for, may_use_admin
from registry.access.scope import RecordKind, table_of, visible
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
