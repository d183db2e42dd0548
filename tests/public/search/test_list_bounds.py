"""Repeatable filters are bounded: 1,000 `category=` once took SQLite past its expression depth
(a 500); now too many values answer 422 naming the parameter, on the API and the page."""

from __future__ import annotations

import httpx
import pytest

from registry.public.search.service import MAX_FILTER_VALUES
from tests.public.search.world import build_world


@pytest.mark.parametrize("parameter", ["category", "district"])
async def test_api_refuses_too_many_values_naming_the_parameter(
    anonymous: httpx.AsyncClient, parameter: str
) -> None:
    await build_world()
    value, label = ("sports", "类别") if parameter == "category" else ("120101", "所在区")
    response = await anonymous.get("/api/v1/whitelist", params=[(parameter, value)] * 1000)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["status_code"] == 422
    assert body["errors"] == [
        {
            "field": parameter,
            "code": "maxItems",
            "message": f"筛选条件「{parameter}」（{label}）"
            f"最多可选{MAX_FILTER_VALUES}项，本次请求有1000项",
        }
    ]


async def test_page_refuses_too_many_values_with_a_chinese_message(
    anonymous: httpx.AsyncClient,
) -> None:
    await build_world()
    response = await anonymous.get("/", params=[("category", "sports")] * 1000)
    assert response.status_code == 422
    assert "筛选条件「category」（类别）最多可选20项" in response.text
    partial = await anonymous.get("/", params=[("district", "120101")] * 500 + [("partial", "1")])
    assert partial.status_code == 422 and "「district」（所在区）" in partial.text


async def test_every_real_choice_still_fits(anonymous: httpx.AsyncClient) -> None:
    await build_world()
    categories = ["sports", "arts", "science", "labour", "reading", "heritage", "civics",
                  "mental_health", "other"]  # fmt: skip
    districts = [f"1201{n:02d}" for n in range(1, 17)]
    params = [("category", c) for c in categories] + [("district", d) for d in districts]
    response = await anonymous.get("/api/v1/whitelist", params=params)
    assert response.status_code == 200 and response.json()["total"] == 4
    assert (await anonymous.get("/", params=params)).status_code == 200
