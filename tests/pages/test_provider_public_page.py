"""The public provider page: courses, listings, history, the as-of question, no personal data."""

from __future__ import annotations

from datetime import timedelta

import httpx

from registry.notices.certificates import verify_code
from tests.cast import CAST, T0, actor, listing_in
from tests.factories import ASSISTANT_ID, COACH_ID, state_of
from workflows import engine
from workflows.states import State


async def page(client: httpx.AsyncClient, organisation: str = "feiyue", **params: str) -> str:
    response = await client.get(f"/providers/{CAST.organisations[organisation]}", params=params)
    assert response.status_code == 200, response.text
    return response.text


async def test_page_shows_courses_listing_and_history(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.under_rectification)
    html = await page(anonymous)
    assert "天津市和平区飞跃青少年篮球俱乐部有限公司" in html
    assert "少儿篮球" in html and "体育" in html
    assert "小学低年级" in html and "小学高年级" in html
    assert "周一 16:30-18:30" in html and "150" in html
    assert "天津市和平区" in html and "整改中" in html and "有效期至" in html
    assert f"/verify/{verify_code(listing_id)}" in html
    # The history, with dates (listed 1 April, rectification ordered 2 April).
    assert "提交入库申请" in html and "2026年3月2日" in html
    assert "公示期满，列入白名单" in html and "2026年4月1日" in html
    assert "责令整改" in html and "2026年4月2日" in html
    assert "家长投诉上课迟到" not in html  # the reviewer's internal reason


async def test_page_never_shows_personal_data(anonymous: httpx.AsyncClient) -> None:
    await listing_in(State.listed)
    html = await page(anonymous)
    for secret in (COACH_ID, ASSISTANT_ID, "张伟", "赵助教", "13820001234", "022-23456789",
                   "lixiaomei@feiyue-basketball.cn", "李晓梅", "91120101MA06B2C3DU"):  # fmt: skip
        assert secret not in html, secret


async def test_exited_provider_keeps_its_history(anonymous: httpx.AsyncClient) -> None:
    listing_id = await listing_in(State.listed)
    _, version = await state_of(listing_id)
    await engine.fire(
        listing_id,
        "revoke",
        await actor("reviewer"),
        version=version,
        reason="x",
        params={"exit_reason": "fee_violation"},
        now=T0 + timedelta(days=45),
    )
    html = await page(anonymous)
    assert "目前未在任何区的白名单内" in html
    assert "撤销入库，退出白名单" in html and "违规收费" in html and "2026年4月16日" in html


async def test_as_of_question_on_the_page(anonymous: httpx.AsyncClient) -> None:
    await listing_in(State.listed)  # listed 2026-04-01
    yes = await page(anonymous, district="120101", date="2026-04-01")
    assert "是：2026年4月1日，该机构在和平区白名单内" in yes
    no = await page(anonymous, district="120101", date="2026-03-31")
    assert "否：2026年3月31日，该机构不在和平区白名单内" in no
    elsewhere = await page(anonymous, district="120116", date="2026-04-01")
    assert "否：" in elsewhere and "滨海新区" in elsewhere
    bad = await page(anonymous, district="120101", date="April")
    assert "请选择区并填写日期" in bad


async def test_no_public_footprint_is_404(anonymous: httpx.AsyncClient) -> None:
    await listing_in(State.in_public_notice, organisation="other")
    response = await anonymous.get(f"/providers/{CAST.organisations['other']}")
    assert response.status_code == 404 and "未找到该机构" in response.text
    missing = await anonymous.get("/providers/999999")
    assert missing.status_code == 404
