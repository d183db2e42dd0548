"""How people are named on pages: 王丽（审核员）, falling back to the username.

Usernames (`reviewer2_120104`) are logins, not names; a page that names a person (the header,
a history's actor, an assignee, who recommended or decided) reads it through here.
"""

from __future__ import annotations

from collections.abc import Iterable

from piccolo.apps.user.tables import BaseUser

from registry.db import write_transaction
from registry.tables import UserProfile

NAME_LENGTH = 64


def display_name(username: str, name: str = "", post: str = "") -> str:
    """王丽（审核员）; 王丽 without a post; the username without a name."""
    name, post = name.strip(), post.strip()
    if not name:
        return username
    return f"{name}（{post}）" if post else name


async def display_names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """User id → display name for the ids given (unknown ids are left out)."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    users = await BaseUser.select(
        BaseUser.id, BaseUser.username, BaseUser.first_name, BaseUser.last_name
    ).where(BaseUser.id.is_in(ids))
    profiles = {
        r["user"]: r
        for r in await UserProfile.select(
            UserProfile.user, UserProfile.name, UserProfile.post
        ).where(UserProfile.user.is_in(ids))
    }
    names = {}
    for user in users:
        profile = profiles.get(user["id"], {})
        # Names typed into piccolo-admin's user form: family name first, no space (Chinese).
        admin_name = f"{user['last_name'] or ''}{user['first_name'] or ''}"
        names[user["id"]] = display_name(
            user["username"], profile.get("name") or admin_name, profile.get("post", "")
        )
    return names


async def display_name_of(user_id: int | None, default: str = "") -> str:
    """One user's display name ('' or `default` for no such user)."""
    if user_id is None:
        return default
    return (await display_names([user_id])).get(user_id, default)


def profile_problems(name: str, post: str) -> list[str]:
    """What is wrong with a name and post (too long), in Chinese."""
    problems = []
    if len(name.strip()) > NAME_LENGTH:
        problems.append(f"姓名不能超过{NAME_LENGTH}个字")
    if len(post.strip()) > NAME_LENGTH:
        problems.append(f"职务不能超过{NAME_LENGTH}个字")
    return problems


async def set_profile(user_id: int, name: str, post: str = "") -> None:
    """Store (or replace) a user's name and post."""
    async with write_transaction(UserProfile._meta.db):
        updated = (
            await UserProfile.update(
                {UserProfile.name: name.strip(), UserProfile.post: post.strip()}
            )
            .where(UserProfile.user == user_id)
            .returning(UserProfile.id)
        )
        if not updated:
            await UserProfile.insert(
                UserProfile(user=user_id, name=name.strip(), post=post.strip())
            )
