"""The district dashboard (/bureau/dashboard): a district's supervision figures at a glance,
and the deadlines of the days ahead: the reviewer's first screen of the working day."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from litestar.response import Template

from registry.oversight import charts
from registry.oversight.dashboard import Dashboard, dashboard
from registry.pages.common import page_actor, render
from registry.pages.evaluation.common import district_query, staff_district
from workflows.actors import Actor
from workflows.states import exit_reason_label
from workflows.timesource import local_today

_PAGE = {"actor": Provide(page_actor)}


def _charts(board: Dashboard) -> dict[str, object]:
    months = [flow.month[2:].replace("-", "/") for flow in board.months]
    reasons = sorted({reason for flow in board.months for reason in flow.exits})
    return {
        "categories": charts.bars(
            "白名单机构按服务类别",
            [charts.Bar(f.label, f.value, f.href) for f in board.by_category],
        ),
        "grades": charts.bars(
            f"最近一轮评估等级分布（{board.last_cycle_name or '尚无已结束的评估周期'}）",
            [charts.Bar(f.label, f.value, f.href) for f in board.last_cycle_grades],
        ),
        "applications": charts.columns(
            "每月申请受理与审结",
            months,
            [
                charts.Series("受理申请", [f.received for f in board.months]),
                charts.Series("作出决定", [f.decided for f in board.months]),
            ],
        ),
        "listings": charts.columns(
            "每月入库与退出（按退出原因）",
            months,
            [charts.Series("入库", [f.listed for f in board.months])]
            + [
                charts.Series(
                    f"退出：{exit_reason_label(reason)}",
                    [f.exits.get(reason, 0) for f in board.months],
                )
                for reason in reasons
            ],
        ),
    }


@get("/bureau/dashboard", include_in_schema=False, dependencies=_PAGE)
async def district_dashboard(
    actor: NamedDependency[Actor],
    district: Annotated[str, QueryParameter(description="6-digit district code")] = "",
) -> Template:
    """One district's figures (the city chooses the district); 404 for anyone else."""
    chosen, districts = await staff_district(actor, district)
    board = await dashboard([chosen], local_today())
    return render(
        "bureau/dashboard.html",
        actor,
        board=board,
        district=chosen,
        districts=districts,
        query=district_query(chosen, districts),
        charts=_charts(board),
    )


ROUTES = [district_dashboard]
