"""The notices now running, and the notice list (公示名单) as an official document (GB/T 9704)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from registry.documents.numbering import issue_number, subject_of
from registry.documents.official import DistrictDocument
from registry.documents.render import html_of, pdf_in_thread, pdf_of
from registry.public.projection import approved_courses
from registry.reference import CATEGORY_LABELS
from registry.tables import District, Listing
from workflows.states import State


@dataclass(frozen=True)
class Course:
    """An approved course as the public sees it (no staff, no fees)."""

    name: str
    category: str
    category_label: str


@dataclass(frozen=True)
class NoticeEntry:
    """One provider on public notice in one district."""

    listing_id: int
    district_code: str
    district_name: str
    organisation_name: str
    provider_kind: str
    categories: tuple[str, ...]
    courses: tuple[Course, ...]
    notice_start: date | None
    notice_end: date | None

    @property
    def category_labels(self) -> list[str]:
        """The categories in Chinese."""
        return [CATEGORY_LABELS.get(code, code) for code in self.categories]


def _entry(row: dict[str, Any]) -> NoticeEntry:
    form = row["form"] if isinstance(row["form"], dict) else {}
    courses = tuple(
        Course(
            name=str(c.get("name", "")),
            category=str(c.get("category", "")),
            category_label=CATEGORY_LABELS.get(str(c.get("category", "")), ""),
        )
        for c in approved_courses(form, row["course_decisions"] or {})
    )
    return NoticeEntry(
        listing_id=row["id"],
        district_code=row["district_code"],
        district_name=row["district_name"],
        # Individuals are listed by their name only; the resident ID is never read here.
        organisation_name=row["organisation_name"],
        provider_kind=row["organisation_kind"],
        categories=tuple(str(c) for c in form.get("categories", [])),
        courses=courses,
        notice_start=row["notice_start"],
        notice_end=row["notice_end"],
    )


async def running_notices(district_code: str | None = None) -> list[NoticeEntry]:
    """Every listing in public notice (of one district), by district, start date and id."""
    where = Listing.state == State.in_public_notice.value
    if district_code is not None:
        where = where & (Listing.district.code == district_code)
    rows = await (
        Listing.select(
            Listing.id,
            Listing.form,
            Listing.course_decisions,
            Listing.notice_start,
            Listing.notice_end,
            Listing.district.code.as_alias("district_code"),
            Listing.district.name.as_alias("district_name"),
            Listing.organisation.name.as_alias("organisation_name"),
            Listing.organisation.kind.as_alias("organisation_kind"),
        )
        .where(where)
        .order_by(Listing.district.code, Listing.notice_start, Listing.id)
        .output(load_json=True)
    )
    return [_entry(row) for row in rows]


async def district_name(code: str) -> str | None:
    """The district's name, or None for an unknown code."""
    row = await District.select(District.name).where(District.code == code).first()
    return row["name"] if row else None


@dataclass(frozen=True)
class NoticeDocument(DistrictDocument):
    """The notice list of one district on one date."""

    district_code: str
    district_name: str
    on: date
    entries: list[NoticeEntry]
    public_url: str
    number: str

    @property
    def title(self) -> str:
        """The document's title."""
        return f"关于{self.district_name}课后服务非学科类培训机构入库名单的公示"

    @property
    def title_lines(self) -> tuple[str, str]:
        """The title broken where the words allow (GB/T 9704: break between words, balanced)."""
        return (f"关于{self.district_name}课后服务非学科类培训机构", "入库名单的公示")

    @property
    def common_period(self) -> tuple[date, date] | None:
        """The notice period when every entry shares one (the body then names it)."""
        periods = {(e.notice_start, e.notice_end) for e in self.entries}
        if len(periods) != 1:
            return None
        start, end = periods.pop()
        return (start, end) if start and end else None

    @property
    def notices_url(self) -> str:
        """Where the public lodges objections online."""
        return f"{self.public_url.rstrip('/')}/notices"


async def notice_document(district_code: str, on: date, public_url: str) -> NoticeDocument | None:
    """The notice list of a district: the listings in public notice now; None if no such district.

    The list is the notices running when it is made. The same list (the same listings, with
    the same periods) is the same document: it keeps the number and date it was first issued
    with; `on` dates a list not issued before.
    """
    name = await district_name(district_code)
    if name is None:
        return None
    entries = await running_notices(district_code)
    subject = subject_of((e.listing_id, e.notice_start, e.notice_end) for e in entries)
    issued = await issue_number(district_code, "notice", subject, on)
    return NoticeDocument(district_code, name, issued.issued_on, entries, public_url, issued.text)


def notice_html(document: NoticeDocument) -> str:
    """The document's HTML."""
    return html_of("notice.html", doc=document)


def render_notice(document: NoticeDocument) -> bytes:
    """The notice list as PDF bytes."""
    return pdf_of(notice_html(document))


async def render_notice_async(document: NoticeDocument) -> bytes:
    """The notice list as PDF bytes, rendered off the event loop."""
    return await pdf_in_thread(notice_html(document))


def notice_filename(document: NoticeDocument) -> tuple[str, str]:
    """The download's Chinese file name and its ASCII fallback."""
    stamp = document.on.strftime("%Y%m%d")
    return (
        f"{document.district_name}公示名单-{stamp}.pdf",
        f"notice-{document.district_code}-{stamp}.pdf",
    )
