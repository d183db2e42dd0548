"""GET /api/v1/whitelist (the contract) and the public search page `/`."""

from __future__ import annotations

import httpx

from registry.tables import WhitelistEntry
from tests.cast import BINHAI, HEPING
from tests.public.search.world import build_world

CONTRACT = {"id", "organisation_id", "name", "district", "categories", "state", "courses"}


async def test_api_contract(anonymous: httpx.AsyncClient) -> None:
    world = await build_world()
    response = await anonymous.get("/api/v1/whitelist", params={"q": "lq"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"total", "page", "page_size", "items", "facets"} | {
        "words",
        "missing",
        "suggestion",
    }  # issue 13 adds how the query was read
    assert (body["words"], body["missing"], body["suggestion"]) == (["lq"], [], None)
    assert (body["total"], body["page"], body["page_size"]) == (1, 1, 20)
    item = body["items"][0]
    assert CONTRACT | {"valid_until", "district_name", "rectifying", "highlight"} <= set(item)
    assert item["id"] == world["feiyue"]
    assert item["district"] == HEPING and item["district_name"] == "和平区"
    assert item["categories"] == ["sports"] and item["courses"] == ["少儿篮球"]
    assert item["state"] == "listed" and item["rectifying"] is False
    assert item["highlight"]["courses"] == ["少儿<mark>篮球</mark>"]
    assert "<mark>篮球</mark>" in item["highlight"]["name"]
    assert body["facets"]["district"] == {HEPING: 1}


async def test_api_filters_repeatable(anonymous: httpx.AsyncClient) -> None:
    world = await build_world()
    response = await anonymous.get(
        "/api/v1/whitelist",
        params=[("district", BINHAI), ("district", "120103"), ("sort", "name")],
    )
    ids = {item["id"] for item in response.json()["items"]}
    assert ids == {world["moxiang"], world["caihong"]}
    response = await anonymous.get(
        "/api/v1/whitelist", params=[("category", "science"), ("category", "sports")]
    )
    assert {i["id"] for i in response.json()["items"]} == {world["feiyue"], world["xinghuo"]}
    response = await anonymous.get("/api/v1/whitelist", params={"rectifying": "true"})
    assert [i["id"] for i in response.json()["items"]] == [world["moxiang"]]


async def test_api_bad_values_are_400_naming_the_field(anonymous: httpx.AsyncClient) -> None:
    for params, field in (
        ({"page_size": "500"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"page": "0"}, "page"),
        ({"sort": "random"}, "sort"),
        ({"fee_min": "abc"}, "fee_min"),
        ({"grade_band": "college"}, "grade_band"),
        ({"fee_min": "300", "fee_max": "100"}, "fee_min"),
    ):
        response = await anonymous.get("/api/v1/whitelist", params=params)
        assert response.status_code == 400, (params, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (params, response.text)


async def test_page_renders_without_javascript(anonymous: httpx.AsyncClient) -> None:
    await build_world()
    response = await anonymous.get("/", params={"q": "书法"})
    assert response.status_code == 200
    html = response.text
    assert '<form id="search-form"' in html and 'method="get"' in html
    assert "<mark>书法</mark>" in html and "整改中" in html
    assert "共找到 <strong>1</strong> 家机构" in html
    assert "/static/search.js" in html
    assert 'href="/providers/' in html


async def test_page_filters_and_empty_fields(anonymous: httpx.AsyncClient) -> None:
    await build_world()
    # A plain form submits empty fields: they mean "no filter", not an error.
    response = await anonymous.get(
        "/?q=&fee_min=&fee_max=&grade_band=&rectifying=&sort=name&district=" + BINHAI
    )
    assert response.status_code == 200
    assert "共找到 <strong>1</strong> 家机构" in response.text
    assert "墨香" in response.text and "星火" not in response.text


async def test_partial_renders_only_the_results(anonymous: httpx.AsyncClient) -> None:
    await build_world()
    response = await anonymous.get("/", params={"q": "lanqiu", "partial": "1"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="search-results"')
    assert "<html" not in response.text and "<mark>篮球</mark>" in response.text
    assert "data-facets=" in response.text


async def test_page_paging(anonymous: httpx.AsyncClient) -> None:
    await build_world()
    response = await anonymous.get("/", params={"page": "9"})
    assert response.status_code == 200 and "上一页" in response.text


async def test_page_filters_by_the_latest_grade_and_shows_it(
    anonymous: httpx.AsyncClient,
) -> None:
    world = await build_world()
    await WhitelistEntry.update({WhitelistEntry.latest_grade: "good"}).where(
        WhitelistEntry.listing == world["xinghuo"]
    )
    page = await anonymous.get("/", params={"grade": "good"})
    assert "星火少儿编程中心" in page.text and "评估良好" in page.text
    assert "彩虹艺术中心" not in page.text and "共找到 <strong>1</strong> 家机构" in page.text
    assert '<option value="good" selected>良好</option>' in page.text
    unknown = await anonymous.get("/", params={"grade": "A+"})
    assert unknown.status_code == 200 and "共找到 <strong>4</strong> 家机构" in unknown.text


async def test_page_drops_a_reversed_fee_range_instead_of_refusing(
    anonymous: httpx.AsyncClient,
) -> None:
    await build_world()
    everyone = await anonymous.get("/", params={"sort": "name"})
    reversed_range = await anonymous.get(
        "/", params={"sort": "name", "fee_min": "300", "fee_max": "100"}
    )
    assert reversed_range.status_code == 200
    total = everyone.text.split("共找到 <strong>")[1].split("</strong>")[0]
    assert f"共找到 <strong>{total}</strong> 家机构" in reversed_range.text
    assert 'name="fee_min" min="0" value=""' in reversed_range.text
