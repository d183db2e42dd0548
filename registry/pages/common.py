"""What every page needs: the logged-in actor, template rendering, redirects."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.template.config import TemplateConfig

from registry.access.accounts import ADMIN_ROLES
from registry.applications.storage import UploadRefused
from registry.web.security import optional_actor
from workflows.actors import Actor
from workflows.engine import Refused
from workflows.states import ROLE_LABELS, Role

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"


class LoginRequired(HTTPException):
    """A page that needs a login; the page error handler redirects to /login."""

    status_code = 401


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Jinja2 with the project's filters."""
    from registry.pages import filters

    def configure(engine: JinjaTemplateEngine) -> None:
        filters.register(engine)
        # Templates ship with the code: no stat() of each template file at every render
        # (Jinja's default, for editing templates while the server runs).
        engine.engine.auto_reload = False

    return TemplateConfig(
        directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=configure
    )


async def page_actor(request: Request[Any, Any, Any]) -> Actor:
    """The logged-in actor of a page; otherwise the login page, coming back here after."""
    actor = await optional_actor(request)
    if actor is None:
        raise LoginRequired(detail=str(request.url.path))
    return actor


async def maybe_actor(request: Request[Any, Any, Any]) -> Actor | None:
    """The logged-in actor, if any (public pages)."""
    return await optional_actor(request)


# Each role's work, in the order of its day; a link shows when the actor holds one of its roles.
BUREAU = frozenset({Role.reviewer, Role.approver, Role.city})
DISTRICT_STAFF = frozenset({Role.reviewer, Role.approver})
NAVIGATION: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("/provider", "我的申请", frozenset({Role.provider})),
    ("/provider/evaluation", "评估与自查", frozenset({Role.provider})),
    ("/provider/hearings", "陈述申辩", frozenset({Role.provider})),
    ("/school", "我的合作", frozenset({Role.school})),
    ("/school/evaluation", "学校评价", frozenset({Role.school})),
    ("/school/incidents", "安全事故", frozenset({Role.school})),
    ("/city", "全市概览", frozenset({Role.city})),
    ("/bureau/dashboard", "监管概览", BUREAU),
    ("/bureau", "审核工作台", BUREAU),
    ("/bureau/evaluation", "评估", BUREAU),
    ("/bureau/rubric", "评估细则", BUREAU),
    ("/bureau/complaints", "投诉", BUREAU),
    ("/bureau/incidents", "安全事故", BUREAU),
    ("/bureau/import", "导入名单", DISTRICT_STAFF),
)
# Under every page: what anyone may need from any page.
FOOTER_NAVIGATION = (("/verify", "证书核验"), ("/schema", "API 文档"))
PUBLIC_NAVIGATION = (
    ("/", "白名单查询"),
    ("/notices", "公示信息"),
    ("/whitelist/export", "名单下载"),
)


def nav_links(actor: Actor | None) -> list[tuple[str, str]]:
    """The navigation bar: the public pages, then the work of the actor's roles."""
    if actor is None:
        return [*PUBLIC_NAVIGATION, ("/signup", "机构注册"), ("/login", "登录")]
    roles = actor.roles
    links = [(href, label) for href, label, who in NAVIGATION if roles & who]
    links += [link for link in PUBLIC_NAVIGATION if link[0] != "/"]
    if roles & ADMIN_ROLES:
        links.append(("/admin/", "管理后台"))
    return links


def render(template: str, actor: Actor | None, status_code: int = 200, **context: Any) -> Template:
    """A page with the layout's context (navigation, who is logged in)."""
    roles = "、".join(ROLE_LABELS[g.role] for g in actor.grants) if actor else ""
    return Template(
        template_name=template,
        context={
            "actor": actor,
            "actor_roles": roles,
            "nav": nav_links(actor),
            "footer_nav": FOOTER_NAVIGATION,
            **context,
        },
        status_code=status_code,
    )


def by_field(problems: Iterable[Any], fold: Sequence[str] = ()) -> dict[str, list[str]]:
    """Each field's messages, for showing beside its input.

    A problem is a Refusal, a FieldError or a dict with `field` and `message`. A "form." prefix
    is dropped (the page is the form); fields under a `fold` list ("courses[2].fee" with fold
    ["courses"]) are shown beside the list itself.
    """
    found: dict[str, list[str]] = {}
    for problem in problems:
        item = problem if isinstance(problem, Mapping) else problem.as_dict()
        field = str(item["field"]).removeprefix("form.")
        for prefix in fold:
            if field.startswith(f"{prefix}["):
                field = prefix
        found.setdefault(field, []).append(str(item["message"]))
    return found


def first_by_field(problems: Iterable[Any]) -> dict[str, str]:
    """Each field's first message (forms that show one line per field)."""
    return {field: messages[0] for field, messages in by_field(problems).items()}


def redirect(path: str) -> Redirect:
    """A 303 after a form post, so reloading does not post again."""
    return Redirect(path, status_code=303)


def form_text(form: Any, name: str) -> str:
    """A posted field as text ("" when it was not sent)."""
    return str(form.get(name) or "")


def upload_refusal(refused: Refused | UploadRefused) -> tuple[dict[str, list[str]], int]:
    """A refused upload's messages by field and its status: a field refusal of the documents
    service (422), or the file itself refused (too large, wrong type, over quota)."""
    if isinstance(refused, UploadRefused):
        return {"file": [refused.message]}, refused.status_code
    return by_field(refused.errors), 422
