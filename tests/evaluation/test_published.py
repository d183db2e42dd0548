"""Confirmed evaluation results where they are read: the public page, the provider, the school."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from registry.pages.filters import zh_date
from registry.tables import EvaluationResult
from tests.api.conftest import Client, Login, login  # noqa: F401  (the fixture)
from tests.cast import CAST, HEPING, listing_in
from tests.evaluation.helpers import CYCLE, SELF_REPORT, after_deadlines, engagement
from workflows import timesource
from workflows.states import State


async def public_page(client: httpx.AsyncClient) -> str:
    response = await client.get(f"/providers/{CAST.organisations['feiyue']}")
    assert response.status_code == 200, response.text
    return response.text


async def open_cycle(reviewer: Client) -> int:
    response = await reviewer.post(f"/api/v1/districts/{HEPING}/cycles", json=CYCLE)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_a_grade_is_public_only_once_confirmed_with_its_sample(
    login: Login,  # noqa: F811
    anonymous: httpx.AsyncClient,
) -> None:
    listing_id = await listing_in(State.listed)
    engaged = await engagement(listing_id)
    reviewer, school, provider = (
        await login("reviewer"),
        await login("school"),
        await login("provider"),
    )
    cycle = await open_cycle(reviewer)
    # One school and ten parents carry a 合格 (not more: 良好 needs two schools).
    scores = {
        "scores.teaching_quality": "70",
        "scores.punctuality": "70",
        "scores.safety_management": "70",
        "scores.communication": "70",
        "tallies.very_satisfied": "2",
        "tallies.satisfied": "6",
        "tallies.neutral": "2",
        "tallies.dissatisfied": "0",
    }
    url = f"/school/evaluation/{cycle}/engagements/{engaged}"
    assert (await school.post(url, data=scores)).status_code == 303
    own = f"/api/v1/cycles/{cycle}/self-report/{listing_id}"
    report = await provider.put(own, json=SELF_REPORT)
    assert report.status_code == 200, report.text
    with after_deadlines():
        await published_after_close(login, anonymous, cycle, listing_id)


async def published_after_close(
    login: Login,  # noqa: F811
    anonymous: httpx.AsyncClient,
    cycle: int,
    listing_id: int,
) -> None:
    reviewer, school, provider = (
        await login("reviewer"),
        await login("school"),
        await login("provider"),
    )
    assert (await reviewer.post(f"/api/v1/cycles/{cycle}/close")).status_code == 200

    # Computed but not confirmed: it can still change, so nobody outside the bureau sees it.
    html = await public_page(anonymous)
    assert "尚未评估" in html and "份家长问卷" not in html
    mine = await provider.get("/provider/evaluation")
    assert "暂无已确认的评估结果" in mine.text and "report.pdf" not in mine.text
    assert "合作机构暂无已确认的评估结果" in (await school.get("/school/evaluation")).text

    confirmed = await reviewer.post(
        f"/api/v1/cycles/{cycle}/confirm", json={"listing_ids": [listing_id]}
    )
    assert confirmed.status_code == 200, confirmed.text
    result = (await reviewer.get(f"/api/v1/cycles/{cycle}/results")).json()["items"][0]
    label, day = result["grade_label"], zh_date(timesource.now())
    html = await public_page(anonymous)
    assert "尚未评估" not in html
    assert f"<strong>{label}</strong>（2026年秋季学期，{day}确认）" in html
    assert "依据 1 所学校评价、10 份家长问卷" in html
    assert "样本较少，仅供参考" in html

    mine = await provider.get("/provider/evaluation")
    link = f"/api/v1/cycles/{cycle}/results/{listing_id}/report.pdf"
    assert f'href="{link}"' in mine.text
    assert label in mine.text and result["consequence_label"] in mine.text
    assert f"{result['score']:.2f}" in mine.text
    pdf = await provider.get(link)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    seen = await school.get("/school/evaluation")
    assert "天津市和平区飞跃青少年篮球俱乐部有限公司" in seen.text and label in seen.text
    assert day in seen.text


async def test_a_large_sample_has_no_note_and_the_latest_confirmed_wins(
    login: Login,  # noqa: F811
    anonymous: httpx.AsyncClient,
) -> None:
    listing_id = await listing_in(State.listed)
    cycle = await open_cycle(await login("reviewer"))
    common = {"cycle": cycle, "listing": listing_id, "consequence": "renew"}
    await EvaluationResult.insert(
        EvaluationResult(
            key="old",
            grade="pass",
            score_centi=7000,
            school_responses=1,
            parent_responses=5,
            status="confirmed",
            confirmed_at=datetime(2025, 1, 20, 3, tzinfo=UTC),
            **common,
        ),
        EvaluationResult(
            key="new",
            grade="good",
            score_centi=8550,
            school_responses=4,
            parent_responses=120,
            status="confirmed",
            confirmed_at=datetime(2026, 1, 20, 3, tzinfo=UTC),
            **common,
        ),
        # A newer result the reviewer has not confirmed must not replace the confirmed one.
        EvaluationResult(key="draft", grade="fail", score_centi=1000, **common),
    )
    html = await public_page(anonymous)
    assert "<strong>良好</strong>" in html and "2026年1月20日确认" in html
    assert "依据 4 所学校评价、120 份家长问卷" in html
    assert "样本较少" not in html and "不合格" not in html and "合格</strong>" not in html
