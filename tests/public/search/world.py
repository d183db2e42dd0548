"""Providers with distinct courses for search tests, listed directly or through the engine."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from registry.public.projection import refresh
from registry.tables import Listing, Organisation
from tests.cast import BINHAI, CAST, HEPING, listing_in
from tests.factories import valid_application
from workflows.states import State

HEXI = "120103"


def form(categories: list[str], courses: list[tuple[str, str, list[str], int]]) -> dict[str, Any]:
    """An application form with the given courses: (name, outline, grade bands, fee)."""
    result = valid_application()
    result["categories"] = categories
    result["organisation"]["description"] = "机构简介"  # not the basketball club's
    template = result["courses"][0]
    result["courses"] = [
        {
            **template,
            "name": name,
            "category": categories[0],
            "outline": outline,
            "grade_bands": bands,
            "fee_per_student_month": fee,
        }
        for name, outline, bands, fee in courses
    ]
    return result


async def listed_directly(
    name: str,
    district: str,
    application: dict[str, Any] | None = None,
    state: State = State.listed,
    listed_at: datetime | None = None,
) -> dict[str, int]:
    """An organisation listed without the engine (search tests need many names quickly)."""
    rows = await Organisation.insert(Organisation(name=name)).returning(Organisation.id)
    organisation_id = rows[0]["id"]
    rows = await Listing.insert(
        Listing(
            organisation=organisation_id,
            district=CAST.districts[district],
            state=state.value,
            form=application or form(["sports"], [("少儿篮球", "基本功", ["lower_primary"], 150)]),
            listed_at=listed_at or datetime(2026, 4, 1, tzinfo=UTC),
            valid_until=date(2029, 3, 31),
        )
    ).returning(Listing.id)
    await refresh(rows[0]["id"])
    return {"organisation": organisation_id, "listing": rows[0]["id"]}


async def build_world() -> dict[str, int]:
    """Listing ids by key: basketball (engine), calligraphy, coding, dance."""
    world = {"feiyue": await listing_in(State.listed)}
    calligraphy = form(
        ["arts"],
        [
            ("硬笔书法", "楷书基本笔画与结构", ["upper_primary"], 200),
            ("软笔书法", "毛笔临帖", ["upper_primary"], 200),
        ],
    )
    world["moxiang"] = (
        await listed_directly(
            "天津滨海墨香书法研习社", BINHAI, calligraphy, State.under_rectification
        )
    )["listing"]
    coding = form(
        ["science"],
        [
            ("Python编程", "图形化到代码", ["middle"], 300),
            ("机器人搭建", "传感器与电机", ["middle"], 300),
        ],
    )
    world["xinghuo"] = (await listed_directly("天津市和平区星火少儿编程中心", HEPING, coding))[
        "listing"
    ]
    dance = form(
        ["arts"],
        [
            ("中国舞", "基本功与民族舞", ["lower_primary"], 100),
            ("街舞", "律动与齐舞", ["lower_primary", "upper_primary"], 180),
        ],
    )
    world["caihong"] = (await listed_directly("天津市河西区彩虹艺术中心", HEXI, dance))["listing"]
    return world
