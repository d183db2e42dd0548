"""The bureau's whitelist import page (/bureau/import): upload a district's existing list."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.response import Template

from registry.importing import ImportFileError, ImportRefused, UnknownDistrict, import_whitelist
from registry.pages.common import page_actor, render
from registry.tables import District
from workflows.actors import Actor
from workflows.states import Role

MAX_FILE_BYTES = 10 * 1024 * 1024
# The multipart envelope (boundaries, other fields) around a file of the maximum size.
MAX_BODY_BYTES = MAX_FILE_BYTES + 64 * 1024
STAFF = frozenset({Role.reviewer, Role.approver})
_PAGE = {"actor": Provide(page_actor)}


async def _districts(actor: Actor) -> list[dict[str, Any]]:
    """The districts whose staff the actor is; anyone else gets 404 (the page does not exist)."""
    ids = [g.district_id for g in actor.grants if g.role in STAFF and g.district_id is not None]
    if not ids:
        raise NotFoundException()
    return await (
        District.select(District.id, District.code, District.name)
        .where(District.id.is_in(ids))
        .order_by(District.code)
    )


def _page(actor: Actor, districts: list[dict[str, Any]], status: int = 200, **ctx: Any) -> Template:
    values = {"district": districts[0]["code"], "partial": False, **ctx.pop("values", {})}
    return render(
        "bureau_import.html", actor, status_code=status, districts=districts, values=values, **ctx
    )


@get("/bureau/import", include_in_schema=False, dependencies=_PAGE)
async def import_form(actor: NamedDependency[Actor]) -> Template:
    """The upload form: district, file, import the good rows only."""
    return _page(actor, await _districts(actor))


@post(
    "/bureau/import",
    include_in_schema=False,
    dependencies=_PAGE,
    request_max_body_size=MAX_BODY_BYTES,
)
async def import_upload(actor: NamedDependency[Actor], request: Request[Any, Any, Any]) -> Template:
    """Import the uploaded file into one of the actor's districts and show the report."""
    districts = await _districts(actor)
    posted = await request.form()
    code = str(posted.get("district") or "")
    values = {"district": code, "partial": posted.get("partial") in ("on", "1", "yes")}
    file = posted.get("file")
    if code not in {d["code"] for d in districts}:
        return _page(actor, districts, 422, values=values, error="请选择本区")
    if not isinstance(file, UploadFile) or not file.filename:
        return _page(actor, districts, 422, values=values, error="请选择要导入的 CSV 或 XLSX 文件")
    data = await file.read()
    if len(data) > MAX_FILE_BYTES:
        return _page(actor, districts, 413, values=values, error="文件超过 10 MB")
    try:
        report = await import_whitelist(
            data,
            code,
            actor.username,
            user_id=actor.user_id,
            partial=bool(values["partial"]),
        )
    except (ImportFileError, ImportRefused, UnknownDistrict) as error:
        message = f"无法读取文件：{error}" if isinstance(error, ImportFileError) else str(error)
        return _page(actor, districts, 422, values=values, error=message)
    status = 422 if report.refused else 200
    return _page(actor, districts, status, values=values, report=report, filename=file.filename)


ROUTES: list[Any] = [import_form, import_upload]
