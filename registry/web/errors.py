"""One error shape for the whole API: {status_code, detail, errors: [{field, code, message}]}."""

from __future__ import annotations

import errno
import logging
import sqlite3
from typing import Any
from urllib.parse import quote

from asyncpg.exceptions import (
    DataError,
    InsufficientResourcesError,
    NumericValueOutOfRangeError,
    OperatorInterventionError,
    PostgresConnectionError,
    TooManyConnectionsError,
)
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from registry.access.accounts import AccountError
from registry.oversight.complaints import RateLimited
from registry.pages.common import LoginRequired, render
from workflows.errors import Conflict, Forbidden, NotFound, Refused, TransitionError

log = logging.getLogger(__name__)

STATUS_DETAIL = {
    400: "请求格式不正确",
    401: "请先登录",
    403: "无权执行此操作",
    404: "请求的资源不存在",
    405: "不支持的请求方法",
    409: "数据已被他人修改，请刷新后重试",
    413: "上传内容过大",
    422: "提交的数据未通过校验",
    429: "请求过于频繁",
    500: "服务器内部错误，请稍后再试",
    503: "系统繁忙，请稍后再试",
}

# A part that fails for a while (a locked or unreachable database, a full or read-only disk)
# answers 503 with Retry-After: the request was fine and may succeed later; 500 means a bug.
BUSY = ("系统繁忙，数据库暂时无法处理请求，请稍后再试", 10)
NO_SPACE = (
    "存储空间不足或暂时不可写入，本次操作未能保存，请稍后再试；如持续出现请联系系统管理员",
    120,
)
_STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.ENOTDIR}
)
_SQLITE_BUSY = ("database is locked", "database table is locked")
_SQLITE_STORAGE = (
    "database or disk is full",
    "disk i/o error",
    "readonly database",
    "unable to open database file",
)


# What each refusal of the domain means in HTTP: the one place the two vocabularies meet (the
# domain's errors carry no status of their own). A subclass answers as its nearest listed kind.
STATUS_OF: dict[type[TransitionError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Conflict: 409,
    Refused: 422,
    RateLimited: 429,
}


def status_of(error: TransitionError) -> int:
    """The HTTP status that answers a domain refusal (422 for a bare TransitionError)."""
    for kind in type(error).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 422


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    # Pages answer with a Chinese HTML page; the API (and its clients) with JSON.
    return not request.url.path.startswith(("/api/", "/schema"))


def html_error(request: Request[Any, Any, Any], status: int, detail: str) -> Response[Any]:
    """A Chinese error page for browsers (a login redirect where a page needs one)."""
    if status == LoginRequired.status_code:
        return Redirect(f"/login?next={quote(request.url.path)}", status_code=303)
    titles = {403: "无权访问", 404: "页面不存在", 500: "服务器内部错误", 503: "系统暂时不可用"}
    return render(  # type: ignore[return-value]
        "error.html",
        None,
        status_code=status,
        title=titles.get(status, "请求未能完成"),
        detail=detail,
    )


def error_response(
    status: int, detail: str, errors: list[dict[str, str]] | None = None
) -> Response[Any]:
    """The uniform JSON error body."""
    return Response(
        {"status_code": status, "detail": detail, "errors": errors or []},
        status_code=status,
        media_type=MediaType.JSON,
    )


def _validation_errors(exc: ValidationException) -> list[dict[str, str]]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = []
    for item in extra:
        key = str(item.get("key", "")) if isinstance(item, dict) else ""
        label = f"「{key}」" if key else "请求内容"
        errors.append({"field": key, "code": "invalid", "message": f"{label}缺失或格式不正确"})
    return errors


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Malformed request bodies and parameters name the field at fault."""
    errors = _validation_errors(exc)
    if _wants_html(request):
        return html_error(
            request, 400, "；".join(e["message"] for e in errors) or STATUS_DETAIL[400]
        )
    return error_response(400, STATUS_DETAIL[400], errors)


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Litestar's own HTTP errors, in our shape and in Chinese."""
    status = exc.status_code
    detail = STATUS_DETAIL.get(status, exc.detail)
    if status == 403 and "csrf" in str(exc.detail).lower():
        detail = "缺少或错误的 CSRF 令牌：请在 X-CSRFToken 请求头中携带 registry_csrf Cookie 的值"
        if _wants_html(request):
            detail = "表单已过期，请返回上一页刷新后重新提交"
    if _wants_html(request):
        return html_error(request, status, detail)
    return error_response(status, detail)


def handle_transition(request: Request[Any, Any, Any], exc: TransitionError) -> Response[Any]:
    """Engine refusals: 403, 404, 409 or 422 with the guard messages."""
    if _wants_html(request):
        messages = "；".join(e.message for e in exc.errors)
        return html_error(
            request, status_of(exc), f"{exc.detail}{'：' if messages else ''}{messages}"
        )
    return error_response(status_of(exc), exc.detail, [e.as_dict() for e in exc.errors])


def handle_account(_: Request[Any, Any, Any], exc: AccountError) -> Response[Any]:
    """Account errors name their field."""
    return error_response(
        422, exc.message, [{"field": exc.field, "code": "invalid", "message": exc.message}]
    )


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Never a stack trace to the user; the log keeps it."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    if _wants_html(request):
        return html_error(request, HTTP_500_INTERNAL_SERVER_ERROR, STATUS_DETAIL[500])
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, STATUS_DETAIL[500])


def handle_out_of_range(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A number too large for the database's integer columns names no record: 404."""
    # Ids are 32-bit on PostgreSQL and 64-bit on SQLite; a path or body id beyond that reaches
    # the driver, which refuses it (asyncpg: a DataError caused by OverflowError) before any
    # row is looked at. Any other data error is a bug, and stays a logged 500.
    out_of_range = isinstance(exc, OverflowError | NumericValueOutOfRangeError) or isinstance(
        exc.__cause__, OverflowError
    )
    if not out_of_range:
        return handle_unexpected(request, exc)
    detail = "记录不存在"
    if _wants_html(request):
        return html_error(request, 404, detail)
    return error_response(404, detail, [{"field": "id", "code": "not_found", "message": detail}])


def unavailable(exc: BaseException) -> tuple[str, int] | None:
    """(message, retry-after seconds) when `exc` is a failing part rather than a bug, else None."""
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        if any(part in text for part in _SQLITE_BUSY):
            return BUSY
        if any(part in text for part in _SQLITE_STORAGE):
            return NO_SPACE
        return None
    if isinstance(exc, TooManyConnectionsError | PostgresConnectionError):
        return BUSY
    if isinstance(exc, InsufficientResourcesError):  # disk full, out of memory on the server
        return NO_SPACE
    if isinstance(exc, OperatorInterventionError):  # shutting down, starting, query cancelled
        return BUSY
    if isinstance(exc, ConnectionError | TimeoutError):  # the database went away, a pool wait
        return BUSY
    if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
        return NO_SPACE
    return None


def handle_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A failing part: 503 with Retry-After and a Chinese message; anything else stays a 500."""
    answer = unavailable(exc)
    if answer is None:
        return handle_unexpected(request, exc)
    detail, retry_after = answer
    # One line, no traceback: the cause is outside the code, and it may repeat for a while.
    log.error("unavailable on %s %s: %r", request.method, request.url.path, exc)
    if _wants_html(request):
        response = html_error(request, 503, detail)
    else:
        response = error_response(503, detail)
    response.headers["Retry-After"] = str(retry_after)
    return response


def handle_rate_limited(request: Request[Any, Any, Any], exc: RateLimited) -> Response[Any]:
    """429 with the refusal's message and Retry-After (every adapter alike)."""
    response = handle_transition(request, exc)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DataError: handle_out_of_range,
    OverflowError: handle_out_of_range,
    sqlite3.OperationalError: handle_unavailable,
    OSError: handle_unavailable,
    PostgresConnectionError: handle_unavailable,
    InsufficientResourcesError: handle_unavailable,
    OperatorInterventionError: handle_unavailable,
    RateLimited: handle_rate_limited,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    TransitionError: handle_transition,
    AccountError: handle_account,
    Exception: handle_unexpected,
}
