"""Document numbers: in sequence per district and year, kept by a document issued again."""

from __future__ import annotations

import asyncio
from datetime import date

from registry.documents.evaluation_report import evaluation_report
from registry.documents.notice import notice_document
from registry.documents.numbering import document_number, issue_number
from registry.reference import DISTRICT_SHORT_NAMES as DISTRICT_STEMS
from tests.cast import BINHAI, HEPING, listing_in
from tests.documents.test_evaluation_report import good_inputs, open_cycle, store_result
from workflows.states import State

DAY = date(2026, 3, 2)
NANKAI = "120104"


def test_each_district_has_its_own_unambiguous_stem() -> None:
    assert document_number(NANKAI, 2026, 341) == "南开教〔2026〕341号"
    assert document_number("120112", 2026, 1) == "津南教〔2026〕1号"
    assert len(set(DISTRICT_STEMS.values())) == len(DISTRICT_STEMS) == 16


async def test_two_documents_on_one_day_get_consecutive_numbers(db: object) -> None:
    first = await issue_number(HEPING, "notice", "a", DAY)
    second = await issue_number(HEPING, "evaluation_report", "cycle1/listing2", DAY)
    assert (first.text, second.text) == ("和平教〔2026〕1号", "和平教〔2026〕2号")


async def test_reissue_keeps_number_and_first_date(db: object) -> None:
    first = await issue_number(HEPING, "notice", "a", DAY)
    await issue_number(HEPING, "notice", "b", DAY)
    again = await issue_number(HEPING, "notice", "a", date(2026, 3, 9))
    assert again == first and again.issued_on == DAY


async def test_another_district_starts_at_one(db: object) -> None:
    await issue_number(HEPING, "notice", "a", DAY)
    await issue_number(HEPING, "notice", "b", DAY)
    other = await issue_number(BINHAI, "notice", "a", DAY)
    assert other.text == "滨海教〔2026〕1号"


async def test_a_new_year_restarts_the_sequence(db: object) -> None:
    await issue_number(HEPING, "notice", "a", date(2026, 12, 31))
    await issue_number(HEPING, "notice", "b", date(2026, 12, 31))
    new_year = await issue_number(HEPING, "notice", "c", date(2027, 1, 4))
    assert new_year.text == "和平教〔2027〕1号"


async def test_concurrent_issues_take_distinct_numbers(db: object) -> None:
    subjects = [f"s{n}" for n in range(8)] * 2  # each document asked for twice at once
    issued = await asyncio.gather(*(issue_number(HEPING, "notice", s, DAY) for s in subjects))
    by_subject = dict(zip(subjects, issued, strict=True))
    assert all(by_subject[s] == i for s, i in zip(subjects, issued, strict=True))
    assert sorted(i.sequence for i in by_subject.values()) == list(range(1, 9))


async def test_the_same_notice_list_keeps_its_number_and_a_changed_one_gets_the_next(
    db: object,
) -> None:
    await listing_in(State.in_public_notice)
    first = await notice_document(HEPING, DAY, "http://x")
    again = await notice_document(HEPING, date(2026, 3, 3), "http://x")
    assert first is not None and again is not None
    assert (again.number, again.on) == (first.number, DAY) == ("和平教〔2026〕1号", DAY)
    await listing_in(State.in_public_notice, organisation="other")
    changed = await notice_document(HEPING, date(2026, 3, 3), "http://x")
    assert changed is not None and changed.number == "和平教〔2026〕2号"


async def test_a_confirmed_report_is_numbered_once_and_a_draft_not_at_all(db: object) -> None:
    cycle = await open_cycle()
    confirmed = await listing_in(State.listed)
    draft = await listing_in(State.listed, organisation="other")
    await store_result(cycle, good_inputs(confirmed), confirmed_by="reviewer")
    await store_result(cycle, good_inputs(draft))
    await issue_number(HEPING, "notice", "issued before", date(2027, 1, 4))
    report = await evaluation_report(cycle, confirmed)
    # Dated the day it was confirmed (2027-01-25 in Beijing), numbered in that year's sequence.
    assert (report.number, report.on) == ("和平教〔2027〕2号", date(2027, 1, 25))
    assert (await evaluation_report(cycle, confirmed)).number == report.number
    assert (await evaluation_report(cycle, draft)).number == "（未确认，不编号）"
