"""Password rules (GB/T 22239 level 3: complexity, no common passwords), one set for every entry.

Sign-up, adding a colleague, `registry create-user`, the admin and changing one's own password
all ask `password_problems`, so no path accepts what another refuses.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from piccolo.apps.user.tables import BaseUser

from registry.access import sessions
from registry.db import write_transaction
from schemas import FieldError
from workflows import audit

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_CLASSES = 3
_CLASSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("小写字母", re.compile(r"[a-z]")),
    ("大写字母", re.compile(r"[A-Z]")),
    ("数字", re.compile(r"[0-9]")),
    ("符号", re.compile(r"[^A-Za-z0-9]")),
)
RULE = f"密码至少{MIN_LENGTH}位，且包含小写字母、大写字母、数字、符号中的至少{MIN_CLASSES}类"


@cache
def common_passwords() -> frozenset[str]:
    """Well-known passwords (lower case) that satisfy the length and class rules all the same."""
    text = (Path(__file__).with_name("common_passwords.txt")).read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _skeleton(password: str) -> str:
    # "P@ssw0rd2024!" and "password" are the same guess to an attacker's word list.
    table = str.maketrans({"@": "a", "0": "o", "1": "i", "3": "e", "$": "s", "5": "s", "!": ""})
    stem = re.sub(r"[\d!@#$%^&*._\-]+$", "", password.lower())
    return re.sub(r"^[\d!@#$%^&*._\-]+", "", stem).translate(table)


def password_problems(password: str, username: str = "") -> list[str]:
    """What is wrong with a new password, in Chinese; empty when it may be used."""
    if len(password) < MIN_LENGTH:
        return [f"{RULE}（现为{len(password)}位）"]
    if len(password) > MAX_LENGTH:
        return [f"密码不能超过{MAX_LENGTH}位"]
    missing = [name for name, pattern in _CLASSES if not pattern.search(password)]
    if len(_CLASSES) - len(missing) < MIN_CLASSES:
        return [f"{RULE}（还缺：{'、'.join(missing)}）"]
    lowered = password.lower()
    common = common_passwords()
    if lowered in common or _skeleton(password) in common:
        return ["该密码过于常见，容易被猜中，请换一个"]
    if username and len(username) >= 3 and username.lower() in lowered:
        return ["密码不能包含用户名"]
    if len(set(lowered)) <= 3:
        return ["密码由过少的不同字符组成，容易被猜中"]
    return []


async def change_password(user_id: int, username: str, current: str, new: str) -> list[FieldError]:
    """Set a new password after checking the current one; every session of the user ends.

    Returns the problems (nothing changes when there are any).
    """
    if await BaseUser.login(username=username, password=current) != user_id:
        return [FieldError("current_password", "invalid", "当前密码不正确")]
    problems = password_problems(new, username)
    if not problems and new == current:
        problems = ["新密码不能与当前密码相同"]
    if problems:
        return [FieldError("new_password", "weak", message) for message in problems]
    async with write_transaction(BaseUser._meta.db):
        await BaseUser.update_password(user_id, new)
        await audit.append(
            action="auth.password_changed", role="auth", actor_id=user_id, actor_name=username
        )
    await sessions.end_all(user_id)
    return []
