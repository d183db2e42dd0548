"""Provider sign-up (an organisation or an individual) and colleagues' logins.

Every problem of a sign-up is reported at once, each naming its field, so a form can show
them all next to what was typed. Sign-ups from one client address are limited per hour
(`RateLimited`, 429), counted in the shared store like failed logins so the limit holds across
workers and restarts.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

import msgspec
from piccolo.apps.user.tables import BaseUser

from registry.access.accounts import AccountError, Scope, create_user
from registry.access.logins import address_key
from registry.access.passwords import password_problems
from registry.access.personal_data import RESIDENT_ID, lookup_hashes, organisation_values
from registry.db import write_transaction
from registry.oversight.complaints import RateLimited
from registry.settings import get_settings
from registry.shared import shared_store
from registry.tables import Organisation, ProviderKind
from schemas import APPLICATION, load_schema
from workflows import audit, timesource
from workflows.actors import Actor
from workflows.context import Refusal
from workflows.engine import NotFound, Refused
from workflows.identity import (
    mask_resident_id,
    normalise_identity,
    resident_id_problem,
    uscc_problem,
)
from workflows.states import Role

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
_DEFS = load_schema(APPLICATION)["$defs"]
PHONE_RE = re.compile(_DEFS["phone"]["pattern"])
EMAIL_RE = re.compile(_DEFS["email"]["pattern"])
SIGNUP_WINDOW = timedelta(hours=1)


class SignupIn(msgspec.Struct):
    """Every field optional here, so that a missing one is a field problem, not a bad request."""

    name: str = ""
    kind: str = ProviderKind.organisation.value
    uscc: str | None = None
    resident_id: str | None = None
    legal_representative: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    address: str = ""
    founded_on: str | None = None
    username: str = ""
    password: str = ""


class SignedUp(msgspec.Struct):
    id: int
    name: str
    kind: str
    username: str
    user_id: int
    uscc: str | None = None
    resident_id: str | None = None  # masked: the full number is personal data


def _p(field: str, code: str, message: str) -> Refusal:
    return Refusal(field, code, message)


def _text(field: str, label: str, value: str, limit: int, required: bool) -> list[Refusal]:
    value = value.strip()
    if required and not value:
        return [_p(field, "required", f"{label}为必填项")]
    if len(value) > limit:
        return [_p(field, "maxLength", f"{label}不能超过{limit}个字")]
    return []


async def credential_problems(username: str, password: str) -> list[Refusal]:
    """What is wrong with a new login's username and password."""
    problems = []
    if not username:
        problems.append(_p("username", "required", "用户名为必填项"))
    elif not USERNAME_RE.fullmatch(username):
        problems.append(_p("username", "pattern", "用户名应为3–64位英文字母、数字或 _ . - @ 符号"))
    elif await BaseUser.exists().where(BaseUser.username == username):
        problems.append(_p("username", "taken", f"用户名已被使用：{username}"))
    if not password:
        problems.append(_p("password", "required", "密码为必填项"))
    else:
        problems += [_p("password", "weak", m) for m in password_problems(password, username)]
    return problems


def normalised(data: SignupIn) -> SignupIn:
    """The sign-up with its identity numbers written as the standards write them."""
    return msgspec.structs.replace(
        data,
        uscc=normalise_identity(data.uscc),
        resident_id=normalise_identity(data.resident_id),
    )


async def signup_problems(data: SignupIn) -> list[Refusal]:
    """Every problem of a sign-up at once, each naming its field."""
    data = normalised(data)
    problems: list[Refusal] = []
    if data.kind not in ProviderKind.__members__:
        problems.append(
            _p("kind", "enum", "申请主体类型应为机构（organisation）或个人（individual）")
        )
    individual = data.kind == ProviderKind.individual
    name_label = "姓名" if individual else "机构名称"
    problems += _text("name", name_label, data.name, 128, True)
    if individual:
        number = (data.resident_id or "").strip()
        if not number:
            problems.append(_p("resident_id", "required", "以个人名义注册时，身份证号为必填项"))
        elif problem := resident_id_problem(number):
            problems.append(_p("resident_id", "invalid", f"身份证号不正确：{problem}"))
        elif await Organisation.exists().where(
            Organisation.resident_id_hash.is_in(lookup_hashes(number, RESIDENT_ID))
        ):
            problems.append(_p("resident_id", "taken", "该身份证号已注册，请直接登录"))
        if data.uscc:
            problems.append(_p("uscc", "not_allowed", "以个人名义注册时不填写统一社会信用代码"))
    elif data.kind == ProviderKind.organisation:
        code = (data.uscc or "").strip()
        if not code:
            problems.append(_p("uscc", "required", "统一社会信用代码为必填项"))
        elif problem := uscc_problem(code):
            problems.append(_p("uscc", "invalid", f"统一社会信用代码不正确：{problem}"))
        elif await Organisation.exists().where(Organisation.uscc == code):
            problems.append(_p("uscc", "taken", "该统一社会信用代码已注册，请直接登录"))
        if data.resident_id:
            problems.append(_p("resident_id", "not_allowed", "以机构名义注册时不填写身份证号"))
    problems += _text("legal_representative", "法定代表人", data.legal_representative, 64, False)
    problems += _text("contact_name", "联系人", data.contact_name, 64, True)
    phone = data.contact_phone.strip()
    if not phone:
        problems.append(_p("contact_phone", "required", "联系电话为必填项"))
    elif not PHONE_RE.fullmatch(phone):
        problems.append(
            _p(
                "contact_phone",
                "pattern",
                "联系电话应为11位手机号或带区号的固定电话（如022-23456789）",
            )
        )
    email = data.contact_email.strip()
    if email and (len(email) > 128 or not EMAIL_RE.fullmatch(email)):
        problems.append(_p("contact_email", "pattern", "联系邮箱格式不正确"))
    problems += _text("address", "地址", data.address, 255, False)
    if data.founded_on:
        try:
            if date.fromisoformat(data.founded_on) > timesource.local_today():
                problems.append(_p("founded_on", "maximum", "成立日期不能晚于今天"))
        except ValueError:
            problems.append(_p("founded_on", "format", "成立日期应为YYYY-MM-DD格式"))
    return problems + await credential_problems(data.username.strip(), data.password)


def signup_key(address: str) -> str:
    """The counter of an address's sign-ups: the salted hash logins use, never the address."""
    return "signup:" + address_key(address)


async def _check_rate(address: str, now: datetime) -> None:
    """RateLimited if the address signed up the hourly limit already; else count this one."""
    limit = get_settings().signups_per_address_hour
    # The shared store's keyed events (the login-failure table without Redis) count sign-ups
    # under their own key prefix; it counts and records in one step, so two workers cannot
    # both take an address's last place.
    times = await shared_store().record_event_within_limit(
        signup_key(address), now, since=now - SIGNUP_WINDOW, limit=limit, keep=SIGNUP_WINDOW
    )
    if len(times) >= limit:
        # Once the oldest counted one leaves the hour, there is room for one more.
        wait = max(1, math.ceil((times[len(times) - limit] + SIGNUP_WINDOW - now).total_seconds()))
        raise RateLimited(
            f"注册过于频繁：同一网络地址每小时最多注册{limit}个账号，"
            f"请约{math.ceil(wait / 60)}分钟后再试",
            wait,
        )


async def register(data: SignupIn, address: str | None = None) -> SignedUp:
    """Create the organisation and its first user in one transaction, or list every problem.

    `address` (the client's) is rate limited; None (the command line, demo data) is not.
    """
    data = normalised(data)
    problems = await signup_problems(data)
    if problems:
        raise Refused("注册信息未通过校验", problems)
    individual = data.kind == ProviderKind.individual
    username = data.username.strip()
    try:
        async with write_transaction(Organisation._meta.db):
            if address is not None:
                await _check_rate(address, timesource.now())
            rows = await Organisation.insert(
                Organisation(
                    kind=data.kind,
                    name=data.name.strip(),
                    uscc=None if individual else (data.uscc or "").strip(),
                    legal_representative=data.legal_representative.strip(),
                    contact_name=data.contact_name.strip(),
                    contact_email=data.contact_email.strip(),
                    address=data.address.strip(),
                    founded_on=date.fromisoformat(data.founded_on) if data.founded_on else None,
                    # Sealed, with the ID's lookup hash (registry.access.personal_data).
                    **organisation_values(
                        data.resident_id if individual else None, data.contact_phone
                    ),
                )
            ).returning(Organisation.id)
            organisation_id = int(rows[0]["id"])
            # Joins this transaction (Piccolo nests): no organisation without its user.
            # Pages name the login after its person: the contact of an organisation, the
            # individual provider themselves.
            user_id = await create_user(
                username,
                data.password,
                Role.provider,
                Scope(organisation_id=organisation_id),
                name=data.name.strip() if individual else data.contact_name.strip(),
                post="" if individual else "联系人",
            )
    except (AccountError, RateLimited):
        raise
    except Exception:
        # A unique constraint lost a race with a simultaneous sign-up: say which field.
        problems = await signup_problems(data)
        if problems:
            raise Refused("注册信息未通过校验", problems) from None
        raise
    number = (data.resident_id or "").strip()
    return SignedUp(
        id=organisation_id,
        name=data.name.strip(),
        kind=data.kind,
        username=username,
        user_id=user_id,
        uscc=None if individual else (data.uscc or "").strip(),
        resident_id=mask_resident_id(number) if individual else None,
    )


async def add_colleague(organisation_id: int, actor: Actor, username: str, password: str) -> int:
    """Another login for the same organisation, created by one of its users."""
    if not any(
        g.role == Role.provider and g.organisation_id == organisation_id for g in actor.grants
    ):
        raise NotFound("机构不存在")
    problems = await credential_problems(username.strip(), password)
    if problems:
        raise Refused("账号信息未通过校验", problems)
    async with write_transaction(Organisation._meta.db):
        user_id = await create_user(
            username.strip(),
            password,
            Role.provider,
            Scope(organisation_id=organisation_id),
        )
        await audit.record(
            actor,
            action="organisation.user_added",
            role=Role.provider.value,
            payload={"organisation": organisation_id, "user": user_id},
        )
    return user_id
