"""The provider's side of a provisional evaluation result (陈述、申辩), as pages.

The provider sees what the bureau intends and why (score breakdown, rule applied, consequence),
the deadline, and answers in writing; evidence files are uploaded one at a time first (each
within the upload limit), then chosen for the answer, so a refused answer loses no file.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from registry.applications import storage
from registry.applications.documents import HEARING_KIND, upload
from registry.applications.ownership import provider_grant
from registry.evaluation import hearings
from registry.evaluation.decisions import reconsideration_notice
from registry.pages.common import by_field, page_actor, redirect, render, upload_refusal
from registry.settings import get_settings
from registry.web.uploads import UPLOAD_BODY_CEILING, upload_in
from workflows import timesource
from workflows.actors import Actor
from workflows.engine import Refused
from workflows.scoring import SOURCE_LABELS

_ACTOR = {"actor": Provide(page_actor)}
DONE = {
    "uploaded": "证明材料已上传，请在下方选择后连同意见一并提交",
    "answered": "陈述、申辩意见已提交",
}


def _view(hearing: dict[str, Any]) -> dict[str, Any]:
    today = timesource.local_today()
    facts = hearing["facts"] or {}
    lines = [
        {**line, "source_label": SOURCE_LABELS.get(line.get("source"), "")}
        for line in facts.get("lines") or []
    ]
    return {
        **hearing,
        "stage": hearings.stage_label(hearing, today),
        "open": hearings.answer_window_open(hearing, today),
        "scored": [line for line in lines if line.get("kind") == "score"],
        "deductions": [line for line in lines if line.get("kind") == "deduction"],
    }


@get("/provider/hearings", dependencies=_ACTOR, include_in_schema=False)
async def hearings_page(actor: NamedDependency[Actor]) -> Template:
    """Every provisional result sent to the provider, newest first, with where each stands."""
    provider_grant(actor)  # 403 for anyone but a provider
    rows = [_view(h) for h in await hearings.provider_hearings(actor)]
    return render("provider/hearings.html", actor, hearings=rows)


async def _hearing_page(
    actor: Actor, hearing_id: int, status_code: int = 200, **extra: Any
) -> Template:
    hearing = _view(await hearings.hearing_for_provider(actor, hearing_id))
    documents = await hearings.pending_documents(hearing) if hearing["open"] else []
    answered = await hearings.answer_documents(hearing["answer_documents"])
    notice = ""
    if hearing["outcome"] in ("confirmed", "changed") and hearing["consequence"] == "exit":
        notice = await reconsideration_notice(hearing["district"])
    return render(
        "provider/hearing.html",
        actor,
        status_code=status_code,
        hearing=hearing,
        documents=documents,
        answered_documents=answered,
        reconsideration=notice,
        max_upload=storage.human_size(get_settings().max_upload_bytes),
        errors=extra.pop("errors", {}),
        typed=extra.pop("typed", {}),
        **extra,
    )


@get("/provider/hearings/{hearing_id:int}", dependencies=_ACTOR, include_in_schema=False)
async def hearing_page(
    actor: NamedDependency[Actor], hearing_id: FromPath[int], done: FromQuery[str] = ""
) -> Template:
    """The provisional result, the facts behind it, the deadline and the answer form."""
    return await _hearing_page(actor, hearing_id, flash=DONE.get(done))


@post(
    "/provider/hearings/{hearing_id:int}/documents",
    dependencies=_ACTOR,
    include_in_schema=False,
    request_max_body_size=UPLOAD_BODY_CEILING,
)
async def upload_evidence(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], hearing_id: FromPath[int]
) -> Template | Redirect:
    """One evidence file for the answer (the documents service checks type, size and quota)."""
    hearing = await hearings.hearing_for_provider(actor, hearing_id)
    posted = await request.form()
    # The kind is this page's, whatever the form says.
    data = replace(upload_in(posted), kind=HEARING_KIND)
    try:
        await upload(hearing["listing"], actor, data)
    except (Refused, storage.UploadRefused) as refused:
        errors, status = upload_refusal(refused)
        # The page has one file input: every message of the upload is shown beside it.
        errors = {"file": [m for ms in errors.values() for m in ms]}
        return await _hearing_page(
            actor,
            hearing_id,
            status,
            errors=errors,
            flash="证明材料未上传",
            flash_kind="error",
        )
    return redirect(f"/provider/hearings/{hearing_id}?done=uploaded#answer")


@post("/provider/hearings/{hearing_id:int}/answer", dependencies=_ACTOR, include_in_schema=False)
async def answer(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], hearing_id: FromPath[int]
) -> Template | Redirect:
    """The written statement and defence with the chosen evidence files."""
    posted = await request.form()
    text = str(posted.get("answer") or "")
    chosen = [str(v) for v in posted.getall("documents", [])]
    typed = {"answer": text, "documents": chosen}
    try:
        ids = [int(v) for v in chosen]
    except ValueError:
        ids = [-1]
    try:
        await hearings.answer_hearing(actor, hearing_id, text, ids)
    except Refused as refused:
        return await _hearing_page(
            actor,
            hearing_id,
            422,
            errors=by_field(refused.errors),
            typed=typed,
            flash="陈述、申辩意见未提交："
            + (
                "；".join(r.message for r in refused.errors if r.field == "hearing")
                or "请按提示修改"
            ),
            flash_kind="error",
        )
    return redirect(f"/provider/hearings/{hearing_id}?done=answered")


ROUTES: list[Any] = [hearings_page, hearing_page, upload_evidence, answer]
