"""What the admin refuses: workflow-record writes, PUT, non-city writers, bad district policy."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import Column
from piccolo.table import Table
from piccolo_api.crud.endpoints import PiccoloCRUD
from starlette.exceptions import HTTPException
from starlette.requests import Request

import schemas
from registry.tables import Membership
from workflows.states import Role

# piccolo-admin's UI shows `detail` as text for 405 and as a list of {loc, msg} for 422, so
# refusals use those two codes where the UI should show our message (403 for permissions).
READ_ONLY_MESSAGES: dict[str, str] = {
    "listing": "申请记录只能通过审批流程变更",
    "audit_event": "审计记录只能追加，不能在管理后台修改或删除",
    "document": "申请材料只能由机构在申请中上传",
    "whitelist_entry": "白名单公示数据由审批流程自动生成，不能手工修改",
    "rubric": "评估细则请在“评估细则”页面修改（保存时逐项校验并记入审计）",
    "evaluation_cycle": "评估周期请在“评估”页面开启和结束",
    "evaluation_result": "评估结果只能由审核员在“评估”页面确认或调整",
    "school_feedback": "学校评价只能由合作学校填写",
    "inspection": "现场检查得分请在“评估”页面录入",
    "self_report": "自查报告只能由机构提交",
    "complaint": "投诉请在“投诉处理”页面受理",
    "incident": "安全事故请在“安全事故”页面处理",
    "engagement": "合作项目只能由学校登记",
}
LOCKED_LISTING_COLUMNS = frozenset({"state", "version"})


def read_only_message(table: type[Table]) -> str:
    """The Chinese refusal for a write to a read-only table."""
    return READ_ONLY_MESSAGES.get(table._meta.tablename, "该数据在管理后台只读")


def refuse_write(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    """Validator for every write on a read-only table."""
    raise HTTPException(status_code=405, detail=read_only_message(piccolo_crud.table))


def refuse_put(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    """Validator for PUT on every table."""
    # PiccoloCRUD.put_single runs no hooks, so a PUT would skip the policy check and the audit
    # event; piccolo-admin's own UI only ever PATCHes.
    raise HTTPException(status_code=405, detail="请使用 PATCH 修改单条记录")


def refuse_bulk_delete(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    """Validator for DELETE on a whole table (piccolo-admin does not route it; kept shut anyway)."""
    raise HTTPException(status_code=405, detail="不能在管理后台批量删除")


async def city_only(piccolo_crud: PiccoloCRUD, request: Request) -> None:
    """Validator: only city (市教委) members or superusers may change reference data."""
    # The gate (admin/gate.py) already lets only these in; this stays behind it, because a
    # membership edit by anyone else could grant themselves the city role.
    user: BaseUser = request.user.user
    if user.superuser:
        return
    is_city = await Membership.exists().where(
        (Membership.user == user.id) & (Membership.role == Role.city.value)
    )
    if not is_city:
        raise HTTPException(status_code=403, detail="只有市教委账号可以在管理后台修改数据")


# --- Listing: defence in depth behind refuse_write -----------------------------------------


def refuse_listing_save(row: Table, request: Request) -> Table:
    """pre_save hook on Listing: a listing is only ever created by a provider's application."""
    raise HTTPException(status_code=405, detail=READ_ONLY_MESSAGES["listing"])


def refuse_listing_state_patch(
    row_id: Any, values: dict[Column, Any], request: Request
) -> dict[Column, Any]:
    """pre_patch hook on Listing: state and version belong to the workflow engine alone."""
    touched = sorted(LOCKED_LISTING_COLUMNS & {column._meta.name for column in values})
    if touched:
        raise HTTPException(
            status_code=405,
            detail=f"{READ_ONLY_MESSAGES['listing']}（不能修改 {', '.join(touched)}）",
        )
    return values


def refuse_delete(row_id: Any, request: Request) -> None:
    """pre_delete hook on read-only tables."""
    raise HTTPException(status_code=405, detail="该数据在管理后台只读，不能删除")


# --- District policy overrides --------------------------------------------------------------


def policy_errors(value: object) -> list[schemas.FieldError]:
    """Problems of a district policy override, alone and merged onto the city default."""
    errors = schemas.validate(schemas.POLICY, value, partial=True)
    if errors or not isinstance(value, Mapping):
        return errors
    # An override can be valid piece by piece and still leave the merged policy invalid.
    merged = schemas.merge_policy(schemas.city_default_policy(), value)
    return schemas.validate(schemas.POLICY, merged)


def check_policy(raw: object) -> None:
    """Raise a 422 naming every invalid field of a district policy (JSON text or object)."""
    try:
        value = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except json.JSONDecodeError:
        raise HTTPException(
            status_code=422,
            detail=[{"loc": ["policy"], "msg": "区级政策不是有效的 JSON", "type": "json"}],
        ) from None
    errors = policy_errors(value)
    if errors:
        # The shape of FastAPI's validation errors, which piccolo-admin's UI lists field by field.
        raise HTTPException(
            status_code=422,
            detail=[
                {
                    "loc": ["policy", error.field or "policy"],
                    "msg": f"区级政策（{error.field or '整体'}）：{error.message}",
                    "type": error.code,
                }
                for error in errors
            ],
        )


def check_district_save(row: Table, request: Request) -> Table:
    """pre_save hook on District: validate the policy of a new district."""
    check_policy(row.policy)  # type: ignore[attr-defined]
    return row


def check_district_patch(
    row_id: Any, values: dict[Column, Any], request: Request
) -> dict[Column, Any]:
    """pre_patch hook on District: validate a changed policy."""
    for column, value in values.items():
        if column._meta.name == "policy":
            check_policy(value)
    return values
