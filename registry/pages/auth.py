"""Login and logout pages (the same session as the API)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from piccolo.apps.user.tables import BaseUser

from registry.pages.common import maybe_actor, redirect, render
from registry.web.security import SESSION_USER_KEY


def _safe_next(value: object) -> str:
    # Only local paths: never redirect a user to another site after login.
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") else "/"


@get("/login", include_in_schema=False)
async def login_page(
    request: Request[Any, Any, Any], next_path: Annotated[str, QueryParameter(name="next")] = ""
) -> Template:
    """The login form."""
    return render("login.html", await maybe_actor(request), next=_safe_next(next_path))


@post("/login", include_in_schema=False)
async def login_submit(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Check the password; on success go where the user was heading."""
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    user_id = await BaseUser.login(username=username, password=password) if username else None
    if user_id is None:
        return render(
            "login.html",
            None,
            status_code=401,
            error="用户名或密码错误",
            username=username,
            next=_safe_next(form.get("next")),
        )
    request.set_session({SESSION_USER_KEY: int(user_id)})
    return redirect(_safe_next(form.get("next")))


@post("/logout", include_in_schema=False)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    """End the session."""
    request.clear_session()
    return redirect("/")


ROUTES = [login_page, login_submit, logout]
