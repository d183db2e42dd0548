"""Provider pages: sign-up, my applications with the inbox, and one application's form."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from registry.access.masking import mask_form
from registry.applications import storage
from registry.applications.documents import UPLOAD_KINDS, documents_of, remove, upload
from registry.applications.drafts import create_draft
from registry.applications.forms import EDITABLE_STATES, check_listing, form_hash, save_form
from registry.applications.inbox import history, inbox_for, message_count, next_step
from registry.applications.ownership import own_listing, provider_grant
from registry.applications.signup import SignupIn, register, signup_problems
from registry.applications.supplements import open_round, rounds_of, save_answers
from registry.oversight.complaints import RateLimited
from registry.pages.common import by_field, page_actor, redirect, render, upload_refusal
from registry.pages.formrender import (
    anchor_of,
    build,
    edit_rows,
    location,
    names,
    parse_fields,
    staff_choices,
)
from registry.pages.paging import pager
from registry.paging import PAGE_SIZE, Page, clamp, page_number
from registry.schools.engagements import engagements_of_organisation
from registry.settings import get_settings
from registry.tables import District, Listing
from registry.web.errors import status_of
from registry.web.security import begin_session, client_address
from registry.web.uploads import UPLOAD_BODY_CEILING, upload_in
from schemas import APPLICATION, load_schema, validate
from workflows import engine
from workflows.actors import Actor
from workflows.engine import Conflict, Refused, TransitionError
from workflows.states import State
from workflows.timesource import local_today

SCHEMA = load_schema(APPLICATION)
_ACTOR = {"actor": Provide(page_actor)}
SIGNUP_FIELDS = [name for name in SignupIn.__struct_fields__ if name != "password"]
DONE = {
    "saved": "草稿已保存",
    "answered": "补正答复已保存",
    "submitted": "申请已提交，请等待区教育局审核",
    "resubmitted": "补正材料已提交，请等待区教育局审核",
    "uploaded": "材料已上传",
    "deleted": "材料已删除",
    "withdrawn": "申请已撤回",
    "appealed": "复核申请已提交，将由其他审核员办理",
    "exited": "已退出白名单",
}
PAGE_ACTIONS = {"withdraw": "withdrawn", "appeal": "appealed", "exit_voluntary": "exited"}


# --- sign-up -------------------------------------------------------------------------------


@get("/signup", include_in_schema=False)
async def signup_page() -> Template:
    """The sign-up form: an organisation (USCC) or an individual (resident ID)."""
    return render("signup.html", None, values={"kind": "organisation"}, errors={})


@post("/signup", include_in_schema=False)
async def signup_submit(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Register and log in; on problems, the form again with each next to its field."""
    form = await request.form()
    values = {key: str(form.get(key) or "").strip() for key in SIGNUP_FIELDS}
    # The page hides the other kind's identity field; something typed there before switching
    # kind is not part of this sign-up.
    values["uscc" if values["kind"] == "individual" else "resident_id"] = ""
    password = str(form.get("password") or "")
    data = SignupIn(**{k: v for k, v in values.items() if v}, password=password)
    errors = by_field(await signup_problems(data))
    if password != str(form.get("password2") or ""):
        errors.setdefault("password2", []).append("两次输入的密码不一致")
    if not errors:
        try:
            signed_up = await register(data, client_address(request))
            return await begin_session(redirect("/provider"), signed_up.user_id)
        except RateLimited as limited:
            page = render(
                "signup.html",
                None,
                status_code=429,
                values=values,
                errors={},
                form_error=limited.detail,
            )
            page.headers["Retry-After"] = str(limited.retry_after)
            return page
        except Refused as refused:
            errors = by_field(refused.errors)
    return render("signup.html", None, status_code=422, values=values, errors=errors)


# --- my applications -----------------------------------------------------------------------


async def _dashboard(actor: Actor, status: int = 200, **context: Any) -> Template:
    organisation_id = provider_grant(actor).organisation_id
    rows = await (
        Listing.select(*Listing._meta.columns, Listing.district.name.as_alias("district_name"))
        .where(Listing.organisation == organisation_id)
        .order_by(Listing.id, ascending=False)
    )
    day = local_today()
    for row in rows:
        row["next_step"] = next_step(row, day)
    districts = await District.select(District.code, District.name).order_by(District.code)
    number = page_number(context.pop("page", ""))
    total = await message_count(organisation_id) if organisation_id else 0
    number = clamp(number, total, PAGE_SIZE)
    inbox = (
        await inbox_for(organisation_id, day, PAGE_SIZE, (number - 1) * PAGE_SIZE)
        if organisation_id
        else []
    )
    engaged = await engagements_of_organisation(organisation_id) if organisation_id else []
    return render(
        "provider/dashboard.html",
        actor,
        status_code=status,
        listings=rows,
        districts=districts,
        inbox=inbox,
        inbox_pager=pager(Page([], total, number, PAGE_SIZE), "/provider", anchor="inbox"),
        engagements=engaged,
        **context,
    )


@get("/provider", dependencies=_ACTOR, include_in_schema=False)
async def dashboard(actor: NamedDependency[Actor], page: FromQuery[str] = "") -> Template:
    """My applications, a new application, and the inbox (paged)."""
    return await _dashboard(actor, page=page)


@post("/provider/applications", dependencies=_ACTOR, include_in_schema=False)
async def new_application(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor]
) -> Template | Redirect:
    """Create a draft in the chosen district and open it."""
    district = str((await request.form()).get("district") or "")
    try:
        row = await create_draft(actor, district)
    except Refused as refused:
        message = "；".join(e.message for e in refused.errors) or refused.detail
        return await _dashboard(actor, 422, create_error=message, chosen=district)
    return redirect(f"/provider/applications/{row['id']}")


def _int(value: object) -> int:
    """A posted number; 0 (never a current version) for anything else."""
    text = str(value or "")
    return int(text) if text.isdigit() else 0


def _listed(problem: dict[str, str], rendered: set[str]) -> dict[str, str]:
    """A problem for the list at the top: where it is, and a link when its field is shown."""
    key = problem["field"].removeprefix("form.")
    if item := _ITEM_FIELD.fullmatch(key):
        # A supplement item's problem links to that item's answer.
        return {**problem, "where": "", "anchor": f"supplement-item-{int(item.group(1)) + 1}"}
    anchor = anchor_of(key) if key in rendered else ""
    return {**problem, "where": location(SCHEMA, key), "anchor": anchor}


def _once(problems: list[dict[str, str]]) -> list[dict[str, str]]:
    """Each message once in the list: the same words found in several places (two time slots
    of one course ending early) become one line naming every place, linked to the first."""
    merged: dict[tuple[str, str], dict[str, str]] = {}
    for problem in problems:
        key = (problem["kind"], problem["message"])
        if key not in merged:
            merged[key] = dict(problem)
        elif problem["where"] and problem["where"] not in merged[key]["where"]:
            where = merged[key]["where"]
            merged[key]["where"] = f"{where}、{problem['where']}" if where else problem["where"]
    return list(merged.values())


_ITEM_FIELD = re.compile(r"supplement_items\[(\d+)\]")
_ANSWER_FIELD = re.compile(r"supplement_answer_(\d{1,3})")


def _answers(posted: Any) -> dict[int, str]:
    """The supplement answers typed on the page, by item number."""
    return {
        int(found.group(1)): str(value)
        for key, value in posted.items()
        if (found := _ANSWER_FIELD.fullmatch(str(key))) and isinstance(value, str)
    }


def _supplement_note(message: str, has_items: bool) -> str:
    """The reviewer's message without the list of items it starts with (shown item by item)."""
    if not has_items:
        return message
    _, _, rest = message.partition("\n\n")
    return rest.strip()


# --- one application -----------------------------------------------------------------------


async def _application(
    actor: Actor,
    listing_id: int,
    *,
    form: dict[str, Any] | None = None,
    problems: list[dict[str, str]] | None = None,
    findings: list[Any] | None = None,
    status: int = 200,
    **context: Any,
) -> Template:
    row = await own_listing(listing_id, actor)
    value = row["form"] if form is None else form
    if problems is None:
        problems = [e.as_dict() for e in validate(APPLICATION, value, partial=True)]
    if State(row["state"]) not in EDITABLE_STATES:
        value = mask_form(value)  # its numbers in full only while the provider edits them
    shown = [{**p, "kind": "blocking"} for p in problems] + [
        {"field": f.field, "message": f.message, "kind": "blocking" if f.blocking else "warning"}
        for f in findings or []
    ]
    messages = {
        key: list(dict.fromkeys(texts))  # one field, one message once
        for key, texts in by_field(
            {**p, "message": p["message"] + ("（提示审核员）" if p["kind"] == "warning" else "")}
            for p in shown
        ).items()
    }
    tree = build(SCHEMA, value, messages)
    rendered = names(tree)
    listed_problems = _once([_listed(p, rendered) for p in shown])
    options = {o.transition.name: o for o in await engine.options(listing_id, actor)}
    rounds = await rounds_of(listing_id)
    current = open_round(rounds)
    return render(
        "provider/application.html",
        actor,
        status_code=status,
        listing=row,
        state=State(row["state"]),
        editable=State(row["state"]) in EDITABLE_STATES,
        tree=tree,
        form_hash=form_hash(row["form"]),
        problems=listed_problems,
        document_problems={k: v for k, v in messages.items() if k.startswith("documents")},
        documents=await documents_of(listing_id),
        kinds=UPLOAD_KINDS,
        max_upload=storage.human_size(get_settings().max_upload_bytes),
        history=await history(listing_id),
        options=options,
        next_step=next_step(row, local_today()),
        supplement=current,
        supplement_rounds=[r for r in rounds if not r.open],
        supplement_note=_supplement_note(row["provider_message"], bool(current and current.items)),
        staff_choices=staff_choices(value),
        **context,
    )


@get("/provider/applications/{listing_id:int}", dependencies=_ACTOR, include_in_schema=False)
async def application_page(
    actor: NamedDependency[Actor], listing_id: FromPath[int], done: FromQuery[str] = ""
) -> Template:
    """The application: form, documents, supplement request, actions, history."""
    return await _application(actor, listing_id, flash=DONE.get(done))


@post("/provider/applications/{listing_id:int}/form", dependencies=_ACTOR, include_in_schema=False)
async def application_form(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], listing_id: FromPath[int]
) -> Template | Redirect:
    """保存草稿 / 检查 / 提交 (and 添加/删除 rows when JavaScript is off)."""
    posted = await request.form()
    form = parse_fields(posted.multi_items(), SCHEMA)
    answers = _answers(posted)
    op = str(posted.get("_op") or "save")
    if op.startswith(("add:", "remove:")):
        return await _application(
            actor,
            listing_id,
            form=edit_rows(form, op, SCHEMA),
            typed_answers=answers,
            unsaved=True,
        )
    version = _int(posted.get("version"))

    async def again(status: int, flash: str, problems: list[dict[str, Any]] | None = None) -> Any:
        # The page once more with everything typed, and why it was not saved.
        return await _application(
            actor,
            listing_id,
            form=form,
            status=status,
            flash=flash,
            flash_kind="error",
            typed_answers=answers,
            unsaved=True,
            **({"problems": problems} if problems is not None else {}),
        )

    try:
        if answers:
            # Saved with the form (the answers sit beside it on the page): one button keeps both.
            await save_answers(listing_id, actor, answers)
    except Refused as refused:
        return await again(422, refused.detail, [e.as_dict() for e in refused.errors])
    try:
        await save_form(listing_id, actor, form, version, str(posted.get("form_hash") or ""))
    except Conflict as conflict:
        return await again(
            409, f"{conflict.detail}。下面保留了您填写的内容；再次保存将覆盖他人的修改。"
        )
    except Refused as refused:
        return await again(422, refused.detail)
    if op == "check":
        result = await check_listing(await own_listing(listing_id, actor), actor)
        problems = [e.as_dict() for e in result.problems]
        # What a resubmission would also refuse: supplement items left unanswered.
        current = open_round(await rounds_of(listing_id))
        problems += [
            {
                "field": f"supplement_items[{item.number - 1}]",
                "code": "unanswered",
                "message": f"补正事项 {item.number} 尚未答复",
            }
            for item in (current.items if current else [])
            if not item.answered
        ]
        return await _application(
            actor, listing_id, problems=problems, findings=result.findings, checked=True
        )
    if op != "submit":
        return redirect(f"/provider/applications/{listing_id}?done=saved")
    row = await own_listing(listing_id, actor)
    action = "submit" if row["state"] == State.draft else "resubmit"
    try:
        await engine.fire(listing_id, action, actor, version=version)
    except TransitionError as refused:
        status = status_of(refused)
        problems = [e.as_dict() for e in refused.errors]
        return await _application(
            actor, listing_id, problems=problems, status=status, refused=refused.detail
        )
    done = "submitted" if action == "submit" else "resubmitted"
    return redirect(f"/provider/applications/{listing_id}?done={done}")


@post(
    "/provider/applications/{listing_id:int}/documents",
    dependencies=_ACTOR,
    include_in_schema=False,
    request_max_body_size=UPLOAD_BODY_CEILING,
)
async def upload_page(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], listing_id: FromPath[int]
) -> Template | Redirect:
    """Upload one document; on problems, the page again with them next to the upload form."""
    posted = await request.form()
    try:
        await upload(listing_id, actor, upload_in(posted))
    except (Refused, storage.UploadRefused) as refused:
        errors, status = upload_refusal(refused)
        typed = {
            k: str(posted.get(k) or "")
            for k in ("kind", "valid_from", "valid_until", "staff_index", "supplement_item")
        }
        return await _application(
            actor, listing_id, status=status, upload_errors=errors, upload_values=typed
        )
    item = str(posted.get("supplement_item") or "")
    where = f"supplement-item-{item}" if item.isdigit() else "documents"
    return redirect(f"/provider/applications/{listing_id}?done=uploaded#{where}")


@post(
    "/provider/applications/{listing_id:int}/documents/{document_id:int}/delete",
    dependencies=_ACTOR,
    include_in_schema=False,
)
async def delete_page(
    actor: NamedDependency[Actor], listing_id: FromPath[int], document_id: FromPath[int]
) -> Template | Redirect:
    """Delete one document."""
    try:
        await remove(document_id, actor)
    except Refused as refused:
        return await _application(
            actor, listing_id, status=422, flash=refused.detail, flash_kind="error"
        )
    return redirect(f"/provider/applications/{listing_id}?done=deleted#documents")


@post(
    "/provider/applications/{listing_id:int}/actions", dependencies=_ACTOR, include_in_schema=False
)
async def action_page(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], listing_id: FromPath[int]
) -> Template | Redirect:
    """撤回申请 / 申请复核 / 自愿退出, through the engine."""
    posted = await request.form()
    action = str(posted.get("_action") or "")
    statement = str(posted.get("statement") or "").strip()
    if action not in PAGE_ACTIONS:
        return redirect(f"/provider/applications/{listing_id}")
    errors: list[str] = []
    if action != "appeal" and posted.get("confirm") != "yes":
        errors.append("请勾选确认后再操作")
    if not errors:
        try:
            version = _int(posted.get("version"))
            await engine.fire(listing_id, action, actor, version=version, reason=statement)
            return redirect(f"/provider/applications/{listing_id}?done={PAGE_ACTIONS[action]}")
        except TransitionError as refused:
            errors = [e.message for e in refused.errors] or [refused.detail]
    return await _application(
        actor,
        listing_id,
        status=422,
        action_errors={action: errors},
        statement=statement,
    )


ROUTES: list[Any] = [
    signup_page,
    signup_submit,
    dashboard,
    new_application,
    application_page,
    application_form,
    upload_page,
    delete_page,
    action_page,
]
