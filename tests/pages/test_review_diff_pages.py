"""What changed since the last submission, in words: form fields by their titles, and documents."""

from __future__ import annotations

from datetime import timedelta

from registry.tables import Document, FormSnapshot, Listing
from tests.api import conftest as api_fixtures
from tests.cast import T0, actor, listing_in
from tests.factories import step, valid_application
from workflows.states import State

login = api_fixtures.login


async def _document(listing_id: int, kind: str, name: str, staff_index: int | None = None) -> int:
    rows = await Document.insert(
        Document(
            listing=listing_id,
            kind=kind,
            sha256=name.encode().hex()[:64].ljust(64, "0"),
            original_name=name,
            mime_type="application/pdf",
            size=1024,
            staff_index=staff_index,
        )
    ).returning(Document.id)
    return int(rows[0]["id"])


async def _supplemented(listing_id: int, day: int) -> None:
    """One round trip: the reviewer asks (no items), the provider resubmits."""
    when = T0 + timedelta(days=day)
    await step(listing_id, "request_supplement", await actor("reviewer"), reason="补正", now=when)
    await step(listing_id, "resubmit", await actor("provider"), now=when + timedelta(hours=1))


async def test_changes_are_named_by_their_titles_and_documents_are_listed(
    login, db: object
) -> None:
    listing_id = await listing_in(State.in_review)
    licence = await _document(listing_id, "licence", "营业执照2025.pdf")
    insurance = await _document(listing_id, "insurance", "保险单.pdf")
    await _supplemented(listing_id, 1)  # this submission keeps the two documents
    await step(listing_id, "request_supplement", await actor("reviewer"), reason="再补",
               now=T0 + timedelta(days=3))  # fmt: skip
    form = valid_application()
    form["courses"][0]["weekly_schedule"][0]["end"] = "18:45"
    await Listing.update({Listing.form: form}).where(Listing.id == listing_id)
    await Document.delete().where(Document.id.is_in([licence, insurance]))
    await _document(listing_id, "licence", "营业执照2026.pdf")
    await _document(listing_id, "health_certificate", "健康证明.pdf", staff_index=0)
    await step(listing_id, "resubmit", await actor("provider"), now=T0 + timedelta(days=4))

    reviewer = await login("reviewer")
    page = (await reviewer.get(f"/bureau/listings/{listing_id}")).text
    changes = page[
        page.index('id="changes"') : page.index("</section>", page.index('id="changes"'))
    ]
    assert "课程 1 · 上课时段 1 · 结束时间" in changes
    assert "courses[0].weekly_schedule[0].end" in changes  # the machine path stays, small
    assert "材料变化（3）" in changes
    assert "营业执照2025.pdf" in changes and "营业执照2026.pdf" in changes and "替换" in changes
    assert "保险单.pdf" in changes and "删除" in changes
    assert "健康证明.pdf" in changes and "新增" in changes

    diff = (await reviewer.get(f"/api/v1/listings/{listing_id}/diff")).json()
    end = next(c for c in diff["changes"] if c["path"] == "courses[0].weekly_schedule[0].end")
    assert end["label"] == "课程 1 · 上课时段 1 · 结束时间" and end["new"] == "18:45"
    found = {(d["kind"], d["document_kind"]): d for d in diff["documents"]}
    assert set(found) == {
        ("replaced", "licence"),
        ("removed", "insurance"),
        ("added", "health_certificate"),
    }
    replaced = found[("replaced", "licence")]
    assert replaced["old"]["original_name"] == "营业执照2025.pdf"
    assert replaced["new"]["original_name"] == "营业执照2026.pdf"
    assert found[("added", "health_certificate")]["staff_index"] == 0


async def test_a_submission_from_before_document_lists_says_nothing_about_documents(
    login, db: object
) -> None:
    listing_id = await listing_in(State.in_review)
    await FormSnapshot.update({FormSnapshot.documents: None}).where(
        FormSnapshot.listing == listing_id
    )
    await _document(listing_id, "licence", "执照.pdf")
    reviewer = await login("reviewer")
    diff = (await reviewer.get(f"/api/v1/listings/{listing_id}/diff")).json()
    assert diff["documents"] is None
    page = (await reviewer.get(f"/bureau/listings/{listing_id}")).text
    assert "材料变化" not in page
