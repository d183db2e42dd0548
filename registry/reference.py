"""Reference data: Tianjin's 16 districts (GB/T 2260) and the service categories."""

from __future__ import annotations

from typing import Any

from registry.tables import Category, District

INNER_SIX_POLICY: dict[str, Any] = {"service_end_no_earlier_than": "18:30"}

# (code, name, one of the six inner districts)
DISTRICTS: tuple[tuple[str, str, bool], ...] = (
    ("120101", "和平区", True),
    ("120102", "河东区", True),
    ("120103", "河西区", True),
    ("120104", "南开区", True),
    ("120105", "河北区", True),
    ("120106", "红桥区", True),
    ("120110", "东丽区", False),
    ("120111", "西青区", False),
    ("120112", "津南区", False),
    ("120113", "北辰区", False),
    ("120114", "武清区", False),
    ("120115", "宝坻区", False),
    ("120116", "滨海新区", False),
    ("120117", "宁河区", False),
    ("120118", "静海区", False),
    ("120119", "蓟州区", False),
)


def short_name(name: str) -> str:
    """The district's everyday short form: 南开区 → 南开, 滨海新区 → 滨海.

    People say it when they search (南开篮球), and the bureau's documents use it as the
    issuing office's stem (南开教〔2026〕3号); every stem keeps two characters, since one would be
    ambiguous (河东、河西、河北).
    """
    return name.removesuffix("新区").removesuffix("区")


# code → short form
DISTRICT_SHORT_NAMES: dict[str, str] = {code: short_name(name) for code, name, _ in DISTRICTS}
# The city's own code (天津市), for what the city issues rather than a district.
CITY_CODE = "120000"

CATEGORIES: tuple[tuple[str, str], ...] = (
    ("sports", "体育"),
    ("arts", "艺术"),
    ("science", "科技"),
    ("labour", "劳动"),
    ("reading", "阅读"),
    ("heritage", "传统文化/非遗"),
    ("civics", "思政/红色文化"),
    ("mental_health", "心理健康"),
    ("other", "其他"),
)

CATEGORY_LABELS: dict[str, str] = dict(CATEGORIES)


async def seed_reference() -> None:
    """Insert the districts and categories that are missing; never overwrite edits."""
    existing = {r["code"] for r in await District.select(District.code)}
    missing = [
        District(code=code, name=name, inner_six=inner, policy=INNER_SIX_POLICY if inner else {})
        for code, name, inner in DISTRICTS
        if code not in existing
    ]
    if missing:
        await District.insert(*missing)
    existing = {r["code"] for r in await Category.select(Category.code)}
    categories = [
        Category(code=code, name=name, position=index)
        for index, (code, name) in enumerate(CATEGORIES)
        if code not in existing
    ]
    if categories:
        await Category.insert(*categories)
