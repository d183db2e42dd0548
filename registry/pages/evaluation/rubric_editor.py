"""The rubric as a clerk edits it: the form's save and preview, and the JSON file to download."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from registry.documents.render import attachment
from registry.evaluation import preview, rubric_form, rubric_json, rubrics
from registry.evaluation.rubric_form import Built
from registry.pages.common import redirect
from registry.pages.evaluation.common import PAGE, staff_district
from registry.pages.evaluation.rubric import preview_context, rubric_page_for
from registry.web.errors import status_of
from schemas import FieldError
from workflows.actors import Actor
from workflows.engine import Forbidden, NotFound, TransitionError
from workflows.scoring import rubric_problems

# Fields of the post that are not the rubric's.
_NOT_RUBRIC = frozenset({"_csrf_token", "district", "action"})


def _problems(built: Built) -> list[FieldError]:
    """The form's own problems, then the rubric's, one list of messages per form field."""
    typed = {p.field for p in built.problems}
    found = built.place(rubric_problems(built.rubric))
    return built.problems + [p for p in found if p.field not in typed]


@post("/bureau/rubric/form", include_in_schema=False, dependencies=PAGE)
async def rubric_form_post(
    actor: NamedDependency[Actor], request: Request[Any, Any, Any]
) -> Template | Redirect:
    """Save or preview the rubric the form describes; a refusal keeps everything typed."""
    form = await request.form()
    district, _ = await staff_district(actor, str(form.get("district", "")).strip())
    code = district["code"]
    action = str(form.get("action", "save"))
    values = {str(k): v for k, v in form.items() if isinstance(v, str) and k not in _NOT_RUBRIC}
    built = rubric_form.build(values)
    try:
        if action != "preview" and not rubrics.may_edit(actor, district["id"]):
            raise Forbidden("只有市级管理员或本区审批人员可以修改评估细则")
        if built.problems:
            # Numbers that are not numbers never reach the service; the rest is checked too,
            # so the clerk sees every problem at once.
            return await _refused(actor, code, values, 422, _problems(built))
        if action == "preview":
            found = await preview.preview_rubric(actor, code, built.rubric)
            return await rubric_page_for(actor, code, values=values, preview=preview_context(found))
        await rubrics.save_rubric(actor, code, built.rubric)
    except TransitionError as error:
        if isinstance(error, NotFound):
            raise
        problems = built.place(error.errors) or [FieldError("", "refused", error.detail)]
        return await _refused(actor, code, values, status_of(error), problems)
    return redirect("/bureau/rubric?" + urlencode({"district": code, "done": "saved"}))


async def _refused(
    actor: Actor, code: str, values: dict[str, str], status: int, problems: list[FieldError]
) -> Template:
    """The page again with what was typed and each message beside its field; nothing saved."""
    fields = any(p.field for p in problems)
    return await rubric_page_for(
        actor,
        code,
        status,
        values=values,
        form_problems=problems,
        flash="评估细则有误，未保存：请按各栏目旁的提示修改" if fields else problems[0].message,
        flash_kind="error",
    )


@get("/bureau/rubric.json", include_in_schema=False, dependencies=PAGE)
async def rubric_export(
    actor: NamedDependency[Actor], district: FromQuery[str] = ""
) -> Response[str]:
    """The rubric in force as a JSON file, to keep, edit elsewhere or import again."""
    chosen, _ = await staff_district(actor, district)
    body, _ = await rubrics.rubric_in_force(chosen["code"])
    return Response(
        rubric_json.export_text(body),
        media_type="application/json; charset=utf-8",
        headers={
            "Content-Disposition": attachment(
                f"{chosen['name']}评估细则.json", f"rubric-{chosen['code']}.json"
            )
        },
    )


ROUTES: list[Any] = [rubric_form_post, rubric_export]
