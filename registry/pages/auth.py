"""Login and logout pages (the same session as the API)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from registry.access import logins, passwords, sessions
from registry.access.accounts import actor_for
from registry.pages.common import by_field, maybe_actor, page_actor, redirect, render
from registry.web.security import begin_session, client_address, end_session
from workflows.actors import Actor
from workflows.states import Role

_ACTOR = {"actor": Provide(page_actor)}
# Where each role's work is, in the order a person with several roles lands on it.
HOME_OF_ROLE: tuple[tuple[Role, str], ...] = (
    # The deadlines of the day ahead first (the district dashboard), then the queues.
    (Role.reviewer, "/bureau/dashboard"),
    (Role.approver, "/bureau/dashboard"),
    (Role.city, "/city"),
    (Role.school, "/school"),
    (Role.provider, "/provider"),
)


def home_of(actor: Actor | None) -> str:
    """The page a signed-in person's own work starts on (the public search otherwise)."""
    roles = actor.roles if actor else set()
    return next((path for role, path in HOME_OF_ROLE if role in roles), "/")


def _safe_next(value: object) -> str:
    # Only local paths: never redirect a user to another site after login ("" if none).
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") else ""


@get("/login", include_in_schema=False)
async def login_page(
    request: Request[Any, Any, Any],
    next_path: Annotated[str, QueryParameter(name="next")] = "",
    changed: Annotated[str, QueryParameter()] = "",
) -> Template:
    """The login form (after a password change, saying so)."""
    return render(
        "login.html", await maybe_actor(request), next=_safe_next(next_path), changed=bool(changed)
    )


@post("/login", include_in_schema=False)
async def login_submit(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Check the password; on success go where the user was heading."""
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    try:
        user_id = await logins.sign_in(username, password, client_address(request))
    except logins.LoginRefused as refused:
        page = render(
            "login.html",
            None,
            status_code=429 if refused.retry_after else 401,
            error=refused.message,
            username=username,
            next=_safe_next(form.get("next")),
        )
        if refused.retry_after:
            page.headers["Retry-After"] = str(refused.retry_after)
        return page
    target = _safe_next(form.get("next")) or home_of(await actor_for(user_id))
    response = redirect(target)
    await begin_session(response, user_id)
    return response


@post("/logout", include_in_schema=False)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    """End the session."""
    response = redirect("/")
    await end_session(request, response)
    return response


def _password_page(actor: Actor, status_code: int = 200, **context: Any) -> Template:
    return render(
        "account/password.html",
        actor,
        status_code=status_code,
        rule=passwords.RULE,
        min_length=passwords.MIN_LENGTH,
        **context,
    )


@get("/account/password", include_in_schema=False, dependencies=_ACTOR)
async def password_page(actor: NamedDependency[Actor]) -> Template:
    """The form to change one's own password."""
    return _password_page(actor)


@post("/account/password", include_in_schema=False, dependencies=_ACTOR)
async def password_submit(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor]
) -> Template | Redirect:
    """Change the password; every session ends, so the user signs in again with the new one."""
    form = await request.form()
    new = str(form.get("new_password", ""))
    if new != str(form.get("new_password_again", "")):
        return _password_page(actor, 422, errors={"new_password_again": ["两次输入的新密码不一致"]})
    problems = await passwords.change_password(
        actor.user_id or 0, actor.username, str(form.get("current_password", "")), new
    )
    if problems:
        return _password_page(actor, 422, errors=by_field(problems))
    response = redirect("/login?changed=1")
    response.delete_cookie(sessions.COOKIE, path="/")
    return response


ROUTES = [login_page, login_submit, logout, password_page, password_submit]
