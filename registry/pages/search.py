"""The public search page `/`: a plain GET form, and a results fragment for search.js."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, get
from litestar.response import Template

from registry.pages.common import maybe_actor, render
from registry.public.search import Sort
from registry.public.search.service import BadFilter, make_filters, run_search
from registry.public.search.tokens import query_pinyin
from registry.reference import CATEGORIES
from registry.tables import District
from registry.web.page_cache import PUBLIC_PAGE
from workflows.checks import GRADE_BANDS
from workflows.scoring import GRADE_LABELS

PAGE_SIZE = 20
SORT_LABELS = {
    Sort.relevance: "相关度",
    Sort.grade: "最新评价等级",
    Sort.name: "名称（按拼音）",
    Sort.newest: "最新入库",
}
RECTIFYING = {"": "全部", "1": "仅整改中", "0": "不含整改中"}
# A listing graded 不合格 exits, so the whitelist only holds these grades.
GRADES = {code: GRADE_LABELS[code] for code in ("excellent", "good", "pass")}


def _int(value: str | None, low: int = 0) -> int | None:
    # A plain form sends empty fields; the page ignores what it cannot read instead of a 400.
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= low else None


def _params(request: Request[Any, Any, Any]) -> dict[str, Any]:
    query = request.query_params
    sort = query.get("sort") or Sort.relevance.value
    return {
        "q": (query.get("q") or "").strip()[:100],
        "district": [d for d in query.getall("district", []) if d],
        "category": [c for c in query.getall("category", []) if c],
        "grade_band": query.get("grade_band") if query.get("grade_band") in GRADE_BANDS else "",
        "fee_min": _int(query.get("fee_min")),
        "fee_max": _int(query.get("fee_max")),
        "grade": query.get("grade") if query.get("grade") in GRADES else "",
        "rectifying": query.get("rectifying") if query.get("rectifying") in RECTIFYING else "",
        "sort": sort if sort in Sort.__members__ else Sort.relevance.value,
        "page": _int(query.get("page"), 1) or 1,
    }


def _link(params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    pairs = [(k, v) for k, v in merged.items() if not isinstance(v, list) and v not in ("", None)]
    pairs += [(k, item) for k, v in merged.items() if isinstance(v, list) for item in v]
    return "/?" + urlencode(pairs)


def _chosen(params: dict[str, Any]) -> int:
    """How many filters are set (the phone's filter button says so while they are hidden)."""
    single = ("grade_band", "grade", "rectifying")
    fee = params["fee_min"] is not None or params["fee_max"] is not None
    return (
        len(params["district"])
        + len(params["category"])
        + sum(1 for key in single if params[key])
        + int(fee)
    )


@get("/", include_in_schema=False, opt={PUBLIC_PAGE: True})
async def search_page(request: Request[Any, Any, Any]) -> Template:
    """Search the whitelist; `partial=1` renders only the results (for search.js)."""
    params = _params(request)
    try:
        filters = make_filters(
            params["district"],
            params["category"],
            params["grade_band"],
            params["fee_min"],
            params["fee_max"],
            params["grade"],
            {"1": True, "0": False}.get(params["rectifying"]),
        )
    except BadFilter:  # a reversed fee range: search without the fee filter
        params["fee_min"] = params["fee_max"] = None
        filters = make_filters(
            params["district"],
            params["category"],
            params["grade_band"],
            None,
            None,
            params["grade"],
            {"1": True, "0": False}.get(params["rectifying"]),
        )
    result, items = await run_search(
        params["q"], filters, Sort(params["sort"]), params["page"], PAGE_SIZE
    )
    pages = max(1, -(-result.total // PAGE_SIZE))
    context = {
        "params": params,
        "result": result,
        "items": items,
        "pages": pages,
        "prev_link": _link(params, page=params["page"] - 1) if params["page"] > 1 else None,
        "next_link": _link(params, page=params["page"] + 1) if params["page"] < pages else None,
        "districts": await District.select(District.code, District.name).order_by(District.code),
        "categories": CATEGORIES,
        "category_labels": dict(CATEGORIES),
        "grade_bands": GRADE_BANDS,
        "sort_labels": {s.value: label for s, label in SORT_LABELS.items()},
        "rectifying_labels": RECTIFYING,
        "grades": GRADES,
        "grade_labels": GRADE_LABELS,
        "chosen": _chosen(params),
        "suggestion_link": (
            _link(params, q=result.suggestion, page=1) if result.suggestion else None
        ),
        "suggestion_pinyin": query_pinyin(result.suggestion) if result.suggestion else "",
    }
    if request.query_params.get("partial") == "1":
        return Template(template_name="search/_results.html", context=context)
    return render("search/index.html", await maybe_actor(request), **context)


ROUTES: list[Any] = [search_page]
