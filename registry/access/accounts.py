"""Users, their memberships, and the Actor the engine sees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.apps.user.tables import BaseUser

from registry.access import sessions
from registry.access.passwords import password_problems
from registry.access.people import profile_problems, set_profile
from registry.db import write_transaction
from registry.tables import District, Membership, Organisation, School
from workflows.actors import Actor, Grant
from workflows.states import Role

# Only the city reaches piccolo-admin (reference data); district staff work in the bureau's
# pages, which show them their own district. piccolo-admin's login needs `admin` and `active`.
ADMIN_ROLES = frozenset({Role.city})


class AccountError(ValueError):
    """A user could not be created; `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Scope:
    """Where a membership applies: exactly the one its role needs."""

    district_code: str | None = None
    school_id: int | None = None
    organisation_id: int | None = None


SCOPE_FIELD: dict[Role, str | None] = {
    Role.provider: "organisation",
    Role.reviewer: "district",
    Role.approver: "district",
    Role.school: "school",
    Role.city: None,
    Role.clock: None,
    Role.system: None,
}
SCOPE_LABEL = {"organisation": "机构", "district": "区", "school": "学校"}


async def _scope_ids(role: Role, scope: Scope) -> dict[str, int]:
    needed = SCOPE_FIELD[role]
    given = {
        "district": scope.district_code,
        "school": scope.school_id,
        "organisation": scope.organisation_id,
    }
    extra = [name for name, value in given.items() if value is not None and name != needed]
    if extra:
        raise AccountError(extra[0], f"角色「{role.label}」不使用{SCOPE_LABEL[extra[0]]}范围")
    if needed is None:
        return {}
    if given[needed] is None:
        raise AccountError(needed, f"角色「{role.label}」必须指定所属{SCOPE_LABEL[needed]}")
    if needed == "district":
        key = District._meta.primary_key
        row = await District.select(key).where(District.code == scope.district_code).first()
    elif needed == "school":
        key = School._meta.primary_key
        row = await School.select(key).where(key == scope.school_id).first()
    else:
        key = Organisation._meta.primary_key
        row = await Organisation.select(key).where(key == scope.organisation_id).first()
    if row is None:
        raise AccountError(needed, f"所指定的{SCOPE_LABEL[needed]}不存在：{given[needed]}")
    return {needed: row["id"]}


async def create_user(
    username: str,
    password: str,
    role: Role,
    scope: Scope,
    email: str | None = None,
    name: str = "",
    post: str = "",
) -> int:
    """Create a user with one membership; refuse a taken username or a wrong scope.

    `name` and `post` are how pages name the person (王丽（审核员）); without a name, the
    username is shown.
    """
    if role in (Role.clock, Role.system):
        raise AccountError("role", f"「{role.label}」不是可登录的角色")
    ids = await _scope_ids(role, scope)
    if await BaseUser.exists().where(BaseUser.username == username):
        raise AccountError("username", f"用户名已存在：{username}")
    problems = password_problems(password, username)
    if problems:
        raise AccountError("password", problems[0])
    named = profile_problems(name, post)
    if named:
        raise AccountError("name", named[0])
    async with write_transaction(BaseUser._meta.db):
        user = await BaseUser.create_user(
            username=username,
            password=password,
            # piccolo_user.email is unique and required; `.invalid` can never be delivered to.
            email=email or f"{username}@users.invalid",
            active=True,
            admin=role in ADMIN_ROLES,
        )
        await Membership.insert(
            Membership(
                user=user.id,
                role=role.value,
                organisation=ids.get("organisation"),
                district=ids.get("district"),
                school=ids.get("school"),
            )
        )
        if name.strip() or post.strip():
            await set_profile(int(user.id), name, post)
    return int(user.id)


# Every signed-in request resolves its actor: one statement for the session, the user, the
# name and every membership (a user without memberships still comes back, as one row of NULLs).
_ACTOR_FROM = (
    " FROM piccolo_user u"
    ' LEFT JOIN user_profile p ON p."user" = u.id'
    ' LEFT JOIN membership m ON m."user" = u.id'
    " LEFT JOIN school s ON s.id = m.school"
)
_ACTOR_COLUMNS = (
    "SELECT u.id, u.username, p.name, m.role, m.organisation, m.district, m.school,"
    " s.district AS school_district"
)
_ACTOR_SQL = f"{_ACTOR_COLUMNS}{_ACTOR_FROM} WHERE u.id = {{}} AND u.active = {{}} ORDER BY m.id"
_SESSION_ACTOR_SQL = (
    f"{_ACTOR_COLUMNS}, t.id AS session_id, t.created_at, t.last_seen_at{_ACTOR_FROM}"
    " JOIN user_session t ON t.user_id = u.id"
    " WHERE t.token_hash = {} AND u.active = {} ORDER BY m.id"
)


def _actor(rows: list[dict[str, Any]]) -> Actor:
    grants = tuple(
        Grant(
            role=Role(r["role"]),
            organisation_id=r["organisation"],
            district_id=r["district"],
            school_id=r["school"],
            school_district_id=r["school_district"],
        )
        for r in rows
        if r["role"] is not None
    )
    first = rows[0]
    return Actor(
        user_id=first["id"], username=first["username"], grants=grants, name=first["name"] or ""
    )


async def actor_for(user_id: int) -> Actor | None:
    """The Actor of an active user, with one Grant per membership."""
    rows = await BaseUser.raw(_ACTOR_SQL, user_id, True)
    return _actor(rows) if rows else None


async def actor_of_session(token: str | None, now: datetime | None = None) -> Actor | None:
    """The Actor whose live session the token is (`actor_for(sessions.resolve(token))`), read
    in one statement: every signed-in request asks."""
    if not token or len(token) > sessions.TOKEN_MAX_LENGTH:
        return None
    rows = await BaseUser.raw(_SESSION_ACTOR_SQL, sessions.digest(token), True)
    if not rows:
        return None
    first = rows[0]
    session = {
        "id": first["session_id"],
        "created_at": first["created_at"],
        "last_seen_at": first["last_seen_at"],
    }
    return _actor(rows) if await sessions.still_valid(session, token, now) else None


async def may_use_admin(user_id: int) -> bool:
    """Whether a user may use piccolo-admin: an active admin who is a superuser or the city."""
    user = (
        await BaseUser.select(BaseUser.superuser)
        .where(
            (BaseUser._meta.primary_key == user_id)
            & (BaseUser.active == True)  # noqa: E712
            & (BaseUser.admin == True)  # noqa: E712
        )
        .first()
    )
    if user is None:
        return False
    if user["superuser"]:
        return True
    city = await Membership.exists().where(
        (Membership.user == user_id) & Membership.role.is_in(sorted(r.value for r in ADMIN_ROLES))
    )
    return bool(city)


async def revoke_admin_outside_city() -> int:
    """Clear `admin` of every user who is neither a superuser nor a city member; how many.

    Databases from before district staff left the admin still have them flagged; the admin
    refuses them anyway, and this keeps the flag telling the truth.
    """
    admins = Membership.select(Membership.user).where(
        Membership.role.is_in(sorted(r.value for r in ADMIN_ROLES))
    )
    key = BaseUser._meta.primary_key
    async with write_transaction(BaseUser._meta.db):
        rows = (
            await BaseUser.update({BaseUser.admin: False})
            .where(
                (BaseUser.admin == True)  # noqa: E712
                & (BaseUser.superuser == False)  # noqa: E712
                & key.not_in(admins)
            )
            .returning(key)
        )
    return len(rows)
