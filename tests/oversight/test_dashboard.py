"""The district dashboard: its figures against what a known seed put in the tables, the
deadline list against what the clock then does, and the page as district staff see it."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from piccolo.engine.base import Engine
from pypdf import PdfReader

from registry.oversight.city import city_rows
from registry.oversight.dashboard import Period, dashboard
from registry.oversight.report import report_pdf, report_xlsx, supervision_report
from registry.tables import (
    CycleStatus,
    District,
    EvaluationCycle,
    EvaluationResult,
    Listing,
    Organisation,
    ResultStatus,
)
from tests.api import conftest as api_fixtures
from tests.cast import BINHAI, CAST, HEPING, NOW, T0, actor, listing_in, listing_row
from tests.cli_runner import registry
from tests.evaluation.helpers import listed_provider
from tests.factories import at, state_of, step
from workflows import deadlines
from workflows.clock import tick
from workflows.states import State
from workflows.timesource import local_today

login = api_fixtures.login

# The seed: how many listings of the cast's provider each district holds, by state.
SEED = {
    HEPING: {
        State.submitted: 2,
        State.in_review: 1,
        State.needs_supplement: 1,
        State.in_public_notice: 1,
        State.listed: 2,
        State.under_rectification: 1,
        State.exited: 1,
    },
    BINHAI: {State.listed: 1, State.submitted: 1},
}


async def _seed() -> dict[str, dict[State, list[int]]]:
    made: dict[str, dict[State, list[int]]] = {}
    for district, states in SEED.items():
        organisation = "feiyue" if district == HEPING else "other"
        for state, count in states.items():
            for _ in range(count):
                listing_id = await listing_in(state, organisation=organisation, district=district)
                made.setdefault(district, {}).setdefault(state, []).append(listing_id)
                await _make_room(listing_id)
    return made


async def _make_room(listing_id: int) -> None:
    """Hand the listing to a provider of its own, so the cast's provider may apply again in the
    district (one live listing per provider and district)."""
    rows = await Organisation.insert(Organisation(name=f"测试机构{listing_id}")).returning(
        Organisation.id
    )
    await Listing.update({Listing.organisation: rows[0]["id"]}).where(Listing.id == listing_id)


def _district(code: str) -> dict[str, object]:
    return {"id": CAST.districts[code], "code": code, "name": code}


async def test_figures_equal_what_the_seed_put_in(db: object) -> None:
    made = await _seed()
    board = await dashboard([_district(HEPING)], local_today(NOW))
    shown = {f.key: f.value for f in board.by_state}
    expected = {state.value: count for state, count in SEED[HEPING].items()}
    assert {k: v for k, v in shown.items() if v} == expected
    assert all(
        f.href.startswith("/bureau?") and f"district={HEPING}" in f.href for f in board.by_state
    )
    # On the whitelist: listed and under rectification (the exited one left it).
    assert board.whitelist_size == 3
    sports = next(f for f in board.by_category if f.key == "sports")
    assert sports.value == 3 and sports.href == f"/?district={HEPING}&category=sports"
    months = {m.month: m for m in board.months}
    # Every seeded listing was submitted at T0 (March); approvals at T0; end of notice and the
    # one exit a month later (April).
    submitted = sum(SEED[HEPING].values())
    decided = sum(
        SEED[HEPING][s]
        for s in (State.in_public_notice, State.listed, State.under_rectification, State.exited)
    )
    assert (months["2026-03"].received, months["2026-03"].decided) == (submitted, decided)
    assert months["2026-04"].listed == decided - SEED[HEPING][State.in_public_notice]
    assert months["2026-04"].exits == {"voluntary": 1}
    assert sum(m.received for m in board.months) == submitted
    # Binhai's listings count for Binhai only.
    binhai = await dashboard([_district(BINHAI)], local_today(NOW))
    assert {f.key: f.value for f in binhai.by_state if f.value} == {"listed": 1, "submitted": 1}
    assert made[BINHAI][State.listed]


async def test_median_review_time_counts_working_days(db: object) -> None:
    reviewer, approver = await actor("reviewer"), await actor("approver")
    for days in (2, 10):  # Monday 2 March: decided on Wednesday 4th and on Thursday 12th
        listing_id = await listing_in(State.in_review)
        await step(listing_id, "recommend", reviewer, now=T0)
        await step(listing_id, "approve", approver, now=T0 + timedelta(days=days))
        await _make_room(listing_id)
    board = await dashboard([_district(HEPING)], local_today(NOW))
    # 2 and 8 working days (3–6 and 9–12 March are all working days).
    assert board.reviews_measured == 2
    assert board.median_review_days == 5


async def test_the_deadline_list_is_what_the_clock_then_does(db: object) -> None:
    notice = await listing_in(State.in_public_notice)
    await _make_room(notice)
    supplement = await listing_in(State.needs_supplement)
    notice_end = (await listing_row(notice))["notice_end"]
    supplement_due = (await listing_row(supplement))["supplement_due"]
    day = min(notice_end, supplement_due)
    board = await dashboard([_district(HEPING)], day)
    listed = {(d.listing_id, d.transition.name): d for d in board.deadlines}
    assert (notice, "end_notice") in listed and (supplement, "lapse_supplement") in listed
    assert listed[(notice, "end_notice")].days_left(day) == (notice_end - day).days
    assert [d.listing_id for d in board.notices_ending] == [notice]
    # The clock fires what `passed` names on the day after each deadline, and nothing before.
    last = max(notice_end, supplement_due)
    assert await tick(at(f"{day.isoformat()}T20:00:00")) == {}
    due = await deadlines.passed(last + timedelta(days=1))
    assert {(d.listing_id, d.transition.name) for d in due} == set(listed)
    fired = await tick(at(f"{(last + timedelta(days=1)).isoformat()}T08:00:00"))
    assert fired == {"end_notice": 1, "lapse_supplement": 1}
    assert (await state_of(notice))[0] == State.listed
    assert await deadlines.passed(last + timedelta(days=1)) == []


async def test_district_staff_see_their_dashboard_with_charts(login, db: object) -> None:
    listed = await listing_in(State.listed)
    await _make_room(listed)
    await listing_in(State.submitted)
    client = await login("reviewer")
    page = await client.get("/bureau/dashboard")
    assert page.status_code == 200
    text = page.text
    assert "监管概览" in text
    assert text.count("<svg") == 4
    assert re.search(r'data-figure="state.submitted">1<', text)
    assert re.search(r'data-figure="whitelist">1<', text)
    # The city picks the district; an unknown one is not found.
    city = await login("city")
    other = await city.get(f"/bureau/dashboard?district={BINHAI}")
    assert other.status_code == 200 and 'data-figure="whitelist">0<' in other.text
    assert (await city.get("/bureau/dashboard?district=999999")).status_code == 404
    provider = await login("provider")
    assert (await provider.get("/bureau/dashboard")).status_code == 404


async def test_the_city_sees_each_district_as_its_dashboard_counts_it(login, db: object) -> None:
    await _seed()
    await District.update({District.pupils: 20_000}).where(District.code == HEPING)
    rows = {r.district["code"]: r for r in await city_rows(local_today(NOW))}
    assert len(rows) == 16
    for code in (HEPING, BINHAI):
        alone = await dashboard([_district(code)], local_today(NOW))
        assert rows[code].board.whitelist_size == alone.whitelist_size
        assert rows[code].board.by_state == alone.by_state
    heping = rows[HEPING]
    assert heping.board.whitelist_size == 3
    assert heping.per_10k_pupils == Decimal("1.5")  # 3 listings per 20,000 pupils
    assert rows[BINHAI].per_10k_pupils is None  # enrolment not recorded
    assert heping.exits_by_reason == {"voluntary": 1}
    assert heping.schools == 1 and heping.engaging_schools == 0
    client = await login("city")
    page = await client.get("/city")
    assert page.status_code == 200
    row = page.text.split(f'data-district="{HEPING}"')[1].split("</tr>")[0]
    assert 'data-figure="whitelist">3<' in row and "1.5" in row
    reviewer = await login("reviewer")
    assert (await reviewer.get("/city")).status_code == 404


async def test_the_supervision_report_has_the_city_views_figures(login, db: object) -> None:
    await _seed()
    await District.update({District.pupils: 20_000}).where(District.code == HEPING)
    today = local_today(NOW)
    period = Period(date(2026, 3, 1), date(2026, 4, 30))
    rows = {r.district["code"]: r for r in await city_rows(today, period)}
    document = await supervision_report(period, today)
    assert document.number == "津教〔2026〕1号"
    table = dict(document.table())
    heping = table["和平区"]
    headers = [h for h, _ in document.columns]
    column = dict(zip(headers, heping, strict=True))
    assert column["白名单机构"] == rows[HEPING].board.whitelist_size == 3
    assert column["每万名学生机构数"] == Decimal("1.5")
    assert column["受理申请"] == sum(SEED[HEPING].values())  # every one submitted in March
    assert column["退出"] == 1 and column["新入库"] == 4
    # The same period again keeps its number; the workbook and the PDF say the same.
    assert (await supervision_report(period, today)).number == document.number
    sheet = load_workbook(io.BytesIO(report_xlsx(document)))["各区对比"]
    lines = {r[0]: r[1:] for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert list(lines["和平区"]) == [float(v) if isinstance(v, Decimal) else v for v in heping]
    assert lines["全市"][headers.index("受理申请")] == sum(
        sum(states.values()) for states in SEED.values()
    )
    pages = PdfReader(io.BytesIO(await report_pdf(document))).pages
    # Read as one text: without spaces and line breaks, and without the page numbers (— 2 —)
    # that fall inside a paragraph running onto the next page.
    text = re.sub(r"—\d+—", "", re.sub(r"\s+", "", "".join(p.extract_text() for p in pages)))
    assert "天津市教育委员会" in text and "津教〔2026〕1号" in text
    assert "2026年3月1日至2026年4月30日" in text
    assert f"受理入库申请{sum(sum(s.values()) for s in SEED.values())}件" in text
    # The download on /city, and a period it refuses with the field named.
    city = await login("city")
    got = await city.get(
        "/city/report", params={"from": "2026-03-01", "to": "2026-04-30", "format": "xlsx"}
    )
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    assert load_workbook(io.BytesIO(got.content))["各区对比"]["A4"].value == "和平区"
    bad = await city.get("/city/report", params={"from": "2026-05-01", "to": "2026-04-30"})
    assert bad.status_code == 400 and "结束日期：结束日期不能早于开始日期" in bad.text


async def test_the_report_command_writes_both_formats(db: Engine, tmp_path: Path) -> None:
    await listing_in(State.listed)
    out = tmp_path / "report.pdf"
    done = await registry(
        db, "report", "supervision", "--from", "2026-01-01", "--to", "2026-11-15", "--out", str(out)
    )
    assert done.code == 0, done.err
    assert out.read_bytes().startswith(b"%PDF")
    sheet = tmp_path / "report.xlsx"
    done = await registry(
        db,
        "report",
        "supervision",
        "--from",
        "2026-01-01",
        "--to",
        "2026-11-15",
        "--format",
        "xlsx",
        "--out",
        str(sheet),
    )
    assert done.code == 0, done.err
    assert load_workbook(sheet)["各区对比"]["A4"].value == "和平区"
    wrong = await registry(
        db, "report", "supervision", "--from", "2026-02-30", "--to", "2026-11-15", "--out", str(out)
    )
    assert wrong.code == 2 and "--from" in wrong.err and "YYYY-MM-DD" in wrong.err


async def test_a_district_grading_most_providers_excellent_stands_out(login, db: object) -> None:
    listings = [await listed_provider(f"评估机构{n}") for n in range(4)]
    cycle = await EvaluationCycle.insert(
        EvaluationCycle(
            district=CAST.districts[HEPING],
            name="2026年春季学期",
            term="2025-2026学年第二学期",
            starts_on=date(2026, 3, 1),
            ends_on=date(2026, 6, 30),
            self_report_due=date(2026, 6, 20),
            status=CycleStatus.closed.value,
            closed_at=NOW - timedelta(days=100),
            rubric={},
        )
    ).returning(EvaluationCycle.id)
    for listing_id, grade in zip(
        listings, ("excellent", "excellent", "excellent", "good"), strict=True
    ):
        await EvaluationResult.insert(
            EvaluationResult(
                key=f"{cycle[0]['id']}:{listing_id}",
                cycle=cycle[0]["id"],
                listing=listing_id,
                grade=grade,
                consequence="renew",
                status=ResultStatus.confirmed.value,
            )
        )
    rows = {r.district["code"]: r for r in await city_rows(local_today(NOW))}
    # 3 of 4 graded 优秀: 75%, past the city policy's warning line of 50%.
    assert rows[HEPING].excellent_share == Decimal("75.00")
    assert rows[HEPING].too_many_excellent and not rows[BINHAI].too_many_excellent
    city = await login("city")
    row = (await city.get("/city")).text.split(f'data-district="{HEPING}"')[1].split("</tr>")[0]
    assert "超过本区预警线 50%" in row
