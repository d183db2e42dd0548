"""Issue 13: queries read as words, word-start initials, rank tiers, partial matches.

Table-driven on whichever engine the suite runs on (SQLite by default, PostgreSQL with
REGISTRY_DATABASE_URL): both must return the same providers in the same order.
"""

from __future__ import annotations

import pytest

from registry.public.search import search
from registry.tables import WhitelistEntry
from tests.cast import HEPING
from tests.public.search.world import HEXI, form, listed_directly

NANKAI, DONGLI, XIQING = "120104", "120110", "120111"


def _form(category: str, courses: list[str], description: str = "机构简介") -> dict[str, object]:
    result = form([category], [(c, "循序渐进", ["lower_primary"], 150) for c in courses])
    result["organisation"]["description"] = description
    return result


async def _world() -> dict[str, int]:
    """Listing ids by key; the grades make the static order differ from the expected rank."""
    specs: dict[str, tuple[str, str, dict[str, object], str | None]] = {
        "qinghe": ("天津市青禾篮球俱乐部", NANKAI, _form("sports", ["少儿篮球"]), None),
        "haitun": ("天津市南开区海豚游泳馆", NANKAI, _form("sports", ["游泳"]), "excellent"),
        "yuedong": (
            "天津市河西区跃动体育中心",
            HEXI,
            _form("sports", ["体能训练"], "也开设篮球兴趣班"),
            "excellent",
        ),
        "dongli": ("天津东丽区科创教育中心", DONGLI, _form("science", ["机器人编程"]), None),
        "nianhua": ("天津杨柳青年画工作室", XIQING, _form("heritage", ["杨柳青年画"]), None),
        "caihong": ("天津市和平区彩虹艺术中心", HEPING, _form("arts", ["中国舞", "街舞"]), None),
        "mabu": ("天津码布少儿编程", HEPING, _form("science", ["少儿编程"]), "excellent"),
        "shengcai": ("天津市绳彩体育", HEPING, _form("sports", ["花样跳绳"]), "excellent"),
        "yueqi": ("天津市跃起体育", HEPING, _form("sports", ["跳绳"]), None),
    }
    world = {}
    for key, (name, district, application, grade) in specs.items():
        world[key] = (await listed_directly(name, district, application))["listing"]  # type: ignore[arg-type]
        if grade:
            await WhitelistEntry.update({WhitelistEntry.latest_grade: grade}).where(
                WhitelistEntry.listing == world[key]
            )
    return world


async def _ids(query: str) -> list[int]:
    return [row["listing_id"] for row in (await search(query, page_size=50)).items]


@pytest.mark.parametrize(
    ("query", "words", "expected"),
    [
        # A CJK run is read as words (南开 | 篮球), not as bigrams that must all match.
        ("南开篮球", ["南开", "篮球"], ["qinghe"]),
        ("青禾篮球", ["青禾", "篮球"], ["qinghe"]),
        ("南开 篮球", ["南开", "篮球"], ["qinghe"]),
        # Traditional characters are read as simplified; full-width letters as ASCII.
        ("南開籃球", ["南开", "篮球"], ["qinghe"]),
        # A district word matches every listing in the district (the short form as well).
        # (南开 inside the name 南开区 ranks above the district alone.)
        ("南开", ["南开"], ["haitun", "qinghe"]),
        ("南开区游泳", ["南开区", "游泳"], ["haitun"]),
        # Synonyms: 舞蹈 → 中国舞, 街舞…; 跳舞 → 舞蹈; pinyin of a word with synonyms too.
        ("舞蹈", ["舞蹈"], ["caihong"]),
        ("跳舞", ["跳舞"], ["caihong"]),
        ("wudao", ["wudao"], ["caihong"]),
        # Initials at word starts only: lq is 篮球, never 东丽区 (dlq) or 杨柳青 (ylq).
        ("lq", ["lq"], ["qinghe", "yuedong"]),  # 篮球 in yuedong's description
        ("dlq", ["dlq"], ["dongli"]),
        ("ylq", ["ylq"], ["nianhua"]),
        ("lqjlb", ["lqjlb"], ["qinghe"]),  # two adjacent words' initials
    ],
)
async def test_words_match(db: object, query: str, words: list[str], expected: list[str]) -> None:
    world = await _world()
    result = await search(query, page_size=50)
    assert result.words == words
    assert result.missing == []
    assert [row["listing_id"] for row in result.items] == [world[k] for k in expected], query


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # In a course or the name before in the description, even past a better grade.
        ("篮球", ["qinghe", "yuedong"]),
        ("lanqiu", ["qinghe", "yuedong"]),
        # A whole word (跳绳) before a part of one (花样跳绳), past a better grade.
        ("跳绳", ["yueqi", "shengcai"]),
        # A synonym matched whole (编程 → 少儿编程) is a whole-word match: ties keep the
        # static order (the better grade first).
        ("编程", ["mabu", "dongli"]),
    ],
)
async def test_rank_tiers(db: object, query: str, expected: list[str]) -> None:
    world = await _world()
    assert await _ids(query) == [world[k] for k in expected]


@pytest.mark.parametrize(
    ("query", "expected", "missing", "suggestion"),
    [
        # No provider has all three words: the pair with the most matches, saying so.
        ("南开 篮球 游泳", ["qinghe"], ["游泳"], None),
        ("青禾篮球书法", ["qinghe"], ["书法"], None),
        # A pinyin typo: nothing found, a correction offered.
        ("lanqu", [], [], "篮球"),
        ("lanqiuu", [], [], "篮球"),
        # A typo next to a word that matches: a partial match and the corrected query.
        ("南开 lanqiuu", ["haitun", "qinghe"], ["lanqiuu"], "南开 篮球"),
        # Words that match nothing: an empty answer, no suggestion.
        ("足球 书法", [], [], None),
    ],
)
async def test_partial_matches_and_suggestions(
    db: object, query: str, expected: list[str], missing: list[str], suggestion: str | None
) -> None:
    world = await _world()
    result = await search(query, page_size=50)
    assert [row["listing_id"] for row in result.items] == [world[k] for k in expected]
    assert result.total == len(expected)
    assert (result.missing, result.suggestion) == (missing, suggestion)
    if suggestion:
        assert (await search(suggestion)).total > 0


async def test_api_and_page_say_partial_and_suggest(anonymous: object) -> None:
    import httpx

    assert isinstance(anonymous, httpx.AsyncClient)
    await _world()
    body = (await anonymous.get("/api/v1/whitelist", params={"q": "南开 篮球 游泳"})).json()
    assert body["words"] == ["南开", "篮球", "游泳"] and body["missing"] == ["游泳"]
    assert body["suggestion"] is None and body["total"] == 1
    body = (await anonymous.get("/api/v1/whitelist", params={"q": "lanqu"})).json()
    assert (body["total"], body["missing"], body["suggestion"]) == (0, [], "篮球")
    page = (await anonymous.get("/", params={"q": "南开 篮球 游泳"})).text
    assert "没有同时包含“南开”“篮球”“游泳”的机构，以下为部分匹配" in page
    assert "青禾" in page
    page = (await anonymous.get("/", params={"q": "lanqu"})).text
    assert "您要找的是不是：" in page and "篮球（lanqiu）</a>" in page
    assert 'href="/?q=%E7%AF%AE%E7%90%83' in page


async def test_items_mark_words_matched_by_synonym_or_pinyin(anonymous: object) -> None:
    import httpx

    assert isinstance(anonymous, httpx.AsyncClient)
    await _world()
    for query, course in (("舞蹈", "<mark>中国舞</mark>"), ("jiewu", "<mark>街舞</mark>")):
        body = (await anonymous.get("/api/v1/whitelist", params={"q": query})).json()
        assert course in body["items"][0]["highlight"]["courses"], query
    body = (await anonymous.get("/api/v1/whitelist", params={"q": "南开篮球"})).json()
    assert body["items"][0]["highlight"]["courses"] == ["少儿<mark>篮球</mark>"]


@pytest.mark.parametrize(
    "query", ["篮球", "天津", "编程", "南开", "跳绳", "lq", "舞", "球", "体育"]
)
async def test_pages_of_one_agree_with_one_page(db: object, query: str) -> None:
    # A page inside tier 0 is read in the static order from the whole-word matches alone;
    # past them the tiers are sorted. Both must give the same sequence.
    await _world()
    everything = await _ids(query)
    one_by_one = []
    for page in range(1, len(everything) + 1):
        result = await search(query, page=page, page_size=1)
        one_by_one += [row["listing_id"] for row in result.items]
    assert one_by_one == everything and len(everything) >= 1
