"""The demo logins, read back from the database so they are right whenever the seed ran."""

from __future__ import annotations

import asyncio
import sys
from collections import defaultdict
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from registry.access.people import display_names
from registry.demo.seed import DEMO_EMAIL_DOMAIN, DEMO_PASSWORD
from registry.tables import Listing, Membership
from workflows.states import ROLE_LABELS, Role, State

BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class DemoLogin:
    """One demo user: role, username, where it acts, and a hint of what it will see."""

    role: Role
    username: str
    scope: str
    note: str
    # Rows are printed in groups: the city, each district's staff, providers, schools.
    group: str = ""
    name: str = ""  # as pages name the person: 王丽（审核员）


async def demo_logins() -> list[DemoLogin]:
    """Every demo user in the database, in the order they were created."""
    rows = (
        await Membership.select(
            Membership.role,
            Membership.user.as_alias("user_id"),
            Membership.user.username.as_alias("username"),
            Membership.district.code.as_alias("district_code"),
            Membership.district.name.as_alias("district_name"),
            Membership.school.name.as_alias("school_name"),
            Membership.organisation.as_alias("organisation_id"),
            Membership.organisation.name.as_alias("organisation_name"),
        )
        .where(Membership.user.email.like(f"%@{DEMO_EMAIL_DOMAIN}"))
        .order_by(Membership.user)
    )
    organisation_ids = [r["organisation_id"] for r in rows if r["organisation_id"] is not None]
    standing: dict[int, list[str]] = defaultdict(list)
    if organisation_ids:
        listings = (
            await Listing.select(
                Listing.organisation, Listing.state, Listing.district.name.as_alias("district_name")
            )
            .where(Listing.organisation.is_in(organisation_ids))
            .order_by(Listing.id)
        )
        for listing in listings:
            label = State(listing["state"]).label
            standing[listing["organisation"]].append(f"{listing['district_name']}：{label}")
    names = await display_names(r["user_id"] for r in rows)
    logins = []
    for r in rows:
        role = Role(r["role"])
        scope = r["district_name"] or r["school_name"] or r["organisation_name"] or "全市"
        note = "；".join(standing[r["organisation_id"]]) if role == Role.provider else ""
        group = r["district_code"] or role.value
        name = names.get(r["user_id"], "")
        logins.append(DemoLogin(role, r["username"], scope, note, group, name))
    return logins


def render_logins(logins: list[DemoLogin], console: Console | None = None) -> None:
    """Print the logins as a table, with where to use them."""
    # Piped output (the serve script, CI logs) would otherwise wrap at 80 columns.
    console = console or Console(width=None if sys.stdout.isatty() else 140)
    if not logins:
        console.print("No demo users in this database (run `registry seed-demo`).")
        return
    table = Table(title="演示账号")
    table.add_column("角色", no_wrap=True)
    table.add_column("用户名", no_wrap=True)
    table.add_column("姓名", no_wrap=True)
    table.add_column("密码", no_wrap=True)
    table.add_column("范围", overflow="fold")
    table.add_column("申请记录", overflow="fold")
    previous = None
    for login in logins:
        if previous is not None and login.group != previous:
            table.add_section()
        previous = login.group
        label = ROLE_LABELS[login.role]
        table.add_row(label, login.username, login.name, DEMO_PASSWORD, login.scope, login.note)
    console.print(table)
    console.print(f"网站：{BASE_URL}")
    console.print(f"管理后台：{BASE_URL}/admin/ （仅市教委账号可登录）")


def print_logins() -> None:
    """Print the demo logins found in the database."""
    render_logins(asyncio.run(demo_logins()))
