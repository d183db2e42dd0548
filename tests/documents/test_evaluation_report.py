"""The evaluation report PDF: read back with pdftotext, adjusted results, who may download it."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from registry.documents.evaluation_report import (
    evaluation_report,
    evaluation_report_pdf,
    inputs_in_words,
    report_html,
)
from registry.tables import EvaluationCycle, EvaluationResult
from schemas import city_default_rubric
from tests.api.conftest import Login, login  # noqa: F401  (the fixture, for this module)
from tests.cast import CAST, HEPING, listing_in
from workflows.engine import NotFound
from workflows.scoring import Evaluation, Inputs, SelfReportStatus, Tally, evaluate
from workflows.states import State

ORGANISATION = "天津市和平区飞跃青少年篮球俱乐部有限公司"
OTHER = "天津滨海墨香书法培训中心"
CYCLE_NAME = "2026年秋季学期"


QUESTIONS = ("teaching_quality", "punctuality", "safety_management", "communication")


def good_inputs(listing_id: int) -> Inputs:
    """Two schools, twenty parents, an inspection, a self-report, a complaint and an incident."""
    return Inputs(
        listing_id=listing_id,
        school_scores=(
            dict(zip(QUESTIONS, (92, 88, 90, 86), strict=True)),
            dict(zip(QUESTIONS, (80, 85, 84, 79), strict=True)),
        ),
        tally=Tally(very_satisfied=12, satisfied=5, neutral=2, dissatisfied=1),
        upheld_complaints=1,
        incidents={"minor": 1},
        inspection=85,
        self_report=SelfReportStatus.on_time,
    )


async def open_cycle(district: str = HEPING) -> int:
    """A cycle inserted directly, with the city's default rubric snapshotted."""
    rows = await EvaluationCycle.insert(
        EvaluationCycle(
            district=CAST.districts[district],
            name=CYCLE_NAME,
            term="2026-autumn",
            starts_on=date(2026, 9, 1),
            ends_on=date(2027, 1, 20),
            self_report_due=date(2026, 12, 31),
            status="open",
            rubric=city_default_rubric(),
        )
    ).returning(EvaluationCycle.id)
    return int(rows[0]["id"])


async def store_result(
    cycle_id: int,
    inputs: Inputs,
    *,
    confirmed_by: str | None = None,
    adjusted: dict[str, Any] | None = None,
) -> Evaluation:
    """The engine's evaluation stored as a result (optionally confirmed, or adjusted)."""
    ev = evaluate(city_default_rubric(), inputs)
    values: dict[str, Any] = {
        "score_centi": ev.score_centi,
        "grade": ev.grade,
        "consequence": ev.consequence.value,
        "exit_reason": ev.exit_reason.value if ev.exit_reason else None,
    }
    values.update(adjusted or {})
    await EvaluationResult.insert(
        EvaluationResult(
            key=f"{cycle_id}:{inputs.listing_id}",
            cycle=cycle_id,
            listing=inputs.listing_id,
            breakdown=ev.breakdown(),
            school_responses=ev.school_responses,
            parent_responses=ev.parent_responses,
            status="confirmed" if confirmed_by else "computed",
            adjusted=adjusted is not None,
            adjust_reason=(adjusted or {}).get("adjust_reason", ""),
            confirmed_by=CAST.users[confirmed_by] if confirmed_by else None,
            confirmed_at=datetime(2027, 1, 25, 2, 30, tzinfo=UTC) if confirmed_by else None,
            **{k: v for k, v in values.items() if k != "adjust_reason"},
        )
    )
    return ev


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text by pdftotext, without whitespace (table cells wrap)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian package poppler-utils) is not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return re.sub(r"\s+", "", out)


def cjk_fonts(pdf: bytes, tmp_path: Path) -> list[str]:
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (Debian package poppler-utils) is not installed")
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if "CJK" in line]


def test_inputs_are_written_in_words() -> None:
    tally = {"very_satisfied": 12, "satisfied": 5, "neutral": 2, "dissatisfied": 1}
    assert (
        inputs_in_words("parent_satisfaction", {**tally, "responses": 20})
        == "非常满意12、满意5、一般2、不满意1，共20份"
    )
    schools = {"schools": 2, "school_means": ["89.00", "82.00"]}
    assert inputs_in_words("school_feedback", schools) == "2所学校评价，各校平均分：89.00、82.00"
    none = {"schools": 0, "school_means": []}
    assert inputs_in_words("school_feedback", none) == "无合作学校评价"
    assert inputs_in_words("inspection", {"inspection": None}) == "未进行现场检查"
    assert inputs_in_words("self_report", {"status": "late"}) == "逾期提交"
    assert inputs_in_words("safety_incidents", {"minor": 1, "serious": 0, "major": 0}) == (
        "一般1起、较大0起、重大0起"
    )
    assert inputs_in_words("upheld_complaints", {"upheld": 2}) == "查实投诉2件"


async def test_report_reads_back_with_every_figure(login: Login, tmp_path: Path) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    cycle_id = await open_cycle()
    ev = await store_result(cycle_id, good_inputs(listing_id))
    response = await (await login("reviewer")).get(
        f"/api/v1/cycles/{cycle_id}/results/{listing_id}/report.pdf"
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert unquote(disposition.split("''")[1]) == f"评估报告-{CYCLE_NAME}-{ORGANISATION}.pdf"
    text = pdf_text(response.content, tmp_path)
    assert "天津市和平区教育局文件" in text
    assert "和平区课后服务非学科类培训机构评估结果报告" in text
    assert ORGANISATION in text and f"120101-{listing_id:06d}" in text
    assert CYCLE_NAME in text and "2026年9月1日" in text and "2027年1月20日" in text
    assert ev.score is not None and str(ev.score) in text
    assert ev.grade_label in text and ev.consequence.label in text
    for line in ev.lines:
        assert line.label in text
        assert str(line.points) in text, line
    assert "非常满意12、满意5、一般2、不满意1，共20份" in text
    assert "查实投诉1件" in text and "-5.00" in text
    assert "学校评价2份" in text and "家长问卷20份" in text
    assert "无一票否决情形" in text
    assert ev.explanation in text
    assert "待评审确认" in text
    # The points add up to the score, as the report says they do.
    assert sum(line.points for line in ev.lines) == ev.score
    fonts = cjk_fonts(response.content, tmp_path)
    assert fonts and all(re.search(r"Identity-H\s+yes", line) for line in fonts), fonts


async def test_adjusted_result_shows_both_scores_and_the_reason(db: object, tmp_path: Path) -> None:
    listing_id = await listing_in(State.listed)
    cycle_id = await open_cycle()
    # Low satisfaction: the engine exits the listing by 一票否决; the reviewer overrules.
    inputs = Inputs(
        listing_id=listing_id,
        tally=Tally(very_satisfied=3, satisfied=3, neutral=2, dissatisfied=4),
        inspection=72,
        self_report=SelfReportStatus.late,
    )
    reason = "问卷存在重复提交，剔除后满意度达标，经复核调整"
    ev = await store_result(
        cycle_id,
        inputs,
        confirmed_by="approver",
        adjusted={
            "score_centi": 7150,
            "grade": "pass",
            "consequence": "renew",
            "exit_reason": None,
            "adjust_reason": reason,
        },
    )
    assert ev.consequence.value == "exit" and ev.vetoes
    text = pdf_text(await evaluation_report_pdf(cycle_id, listing_id), tmp_path)
    assert "71.50（评审调整）" in text
    assert f"得分{ev.score}" in text and ev.grade_label in text
    assert "退出白名单" in text and "满意度低于阈值" in text  # the computed consequence
    assert "合格续期" in text and "合格" in text
    assert reason in text
    assert ev.vetoes[0][1] in text  # the veto's own words
    assert "已由approver于2027年1月25日10:30确认" in text
    assert "家长问卷12份" in text and "学校评价0份" in text
    # A confirmed report carries the confirmation day as its date.
    report = await evaluation_report(cycle_id, listing_id)
    assert report.on == date(2027, 1, 25) and Decimal(report.score) == Decimal("71.50")


async def test_provider_sees_only_a_confirmed_report(login: Login) -> None:  # noqa: F811
    confirmed_listing = await listing_in(State.listed)
    pending_listing = await listing_in(State.listed, organisation="other")
    cycle_id = await open_cycle()
    await store_result(cycle_id, good_inputs(confirmed_listing), confirmed_by="reviewer")
    await store_result(cycle_id, good_inputs(pending_listing))
    url = "/api/v1/cycles/{}/results/{}/report.pdf"
    provider = await login("provider")
    assert (await provider.get(url.format(cycle_id, confirmed_listing))).status_code == 200
    other = await login("provider_other")
    assert (await other.get(url.format(cycle_id, pending_listing))).status_code == 404
    assert (await other.get(url.format(cycle_id, confirmed_listing))).status_code == 404
    assert (await provider.get(url.format(cycle_id, pending_listing))).status_code == 404


async def test_staff_of_the_district_and_the_city_only(login: Login) -> None:  # noqa: F811
    listing_id = await listing_in(State.listed)
    cycle_id = await open_cycle()
    await store_result(cycle_id, good_inputs(listing_id))
    url = f"/api/v1/cycles/{cycle_id}/results/{listing_id}/report.pdf"
    for who in ("approver", "city"):
        assert (await (await login(who)).get(url)).status_code == 200, who
    for who in ("reviewer_binhai", "school"):
        assert (await (await login(who)).get(url)).status_code == 404, who
    reviewer = await login("reviewer")
    unknown_cycle = f"/api/v1/cycles/{cycle_id + 999}/results/{listing_id}/report.pdf"
    unknown_listing = f"/api/v1/cycles/{cycle_id}/results/{listing_id + 999}/report.pdf"
    assert (await reviewer.get(unknown_cycle)).status_code == 404
    assert (await reviewer.get(unknown_listing)).status_code == 404
    with pytest.raises(NotFound):
        await evaluation_report_pdf(cycle_id + 999, listing_id)
    with pytest.raises(NotFound):
        await evaluation_report_pdf(cycle_id, listing_id + 999)


async def test_a_result_without_data_is_left_to_the_reviewer(db: object) -> None:
    listing_id = await listing_in(State.listed)
    cycle_id = await open_cycle()
    ev = await store_result(cycle_id, Inputs(listing_id=listing_id))
    assert ev.score is None
    html = report_html(await evaluation_report(cycle_id, listing_id))
    assert "未评定" in html and "暂不处理（需人工评定）" in html
    # Missing inputs are unscored, never zero.
    assert "无合作学校评价，本项不计分" in html and "未提交自查报告，本项不计分" in html
    assert "按0分计" not in html
    assert "待评审确认" in html
