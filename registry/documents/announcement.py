"""A district's whitelist announcement (白名单公告) as an official document (GB/T 9704)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from registry.documents.notice import district_name
from registry.documents.numbering import issue_number, subject_of
from registry.documents.official import DistrictDocument
from registry.documents.render import html_of, pdf_in_thread, pdf_of
from registry.public.exports import WhitelistRow, current_whitelist
from registry.reference import CATEGORY_LABELS


@dataclass(frozen=True)
class CategoryGroup:
    """The providers of one category, each with that category's courses."""

    code: str
    label: str
    rows: list[tuple[WhitelistRow, list[str]]]


@dataclass(frozen=True)
class AnnouncementDocument(DistrictDocument):
    """The whitelist of one district on one date."""

    district_code: str
    district_name: str
    on: date
    rows: list[WhitelistRow]
    public_url: str
    number: str

    @property
    def title(self) -> str:
        """The document's title."""
        return f"关于公布{self.district_name}课后服务非学科类培训机构白名单的公告"

    @property
    def title_lines(self) -> tuple[str, str]:
        """The title broken between words (GB/T 9704)."""
        return (f"关于公布{self.district_name}课后服务非学科类", "培训机构白名单的公告")

    @property
    def groups(self) -> list[CategoryGroup]:
        """The table by category, in reference order; a provider of two categories is in both."""
        groups = []
        for code, label in CATEGORY_LABELS.items():
            rows = [
                (row, [c.name for c in row.courses if c.category == code])
                for row in self.rows
                if code in row.categories
            ]
            if rows:
                groups.append(CategoryGroup(code, label, rows))
        return groups

    @property
    def search_url(self) -> str:
        """Where the public checks a provider's standing now."""
        return self.public_url.rstrip("/") + "/"


async def announcement_document(
    district_code: str, on: date, public_url: str
) -> AnnouncementDocument | None:
    """The district's whitelist now; None for an unknown district.

    The same whitelist announced again keeps its number and first date; `on` dates a new one.
    """
    name = await district_name(district_code)
    if name is None:
        return None
    rows = await current_whitelist(district_code)
    # The same providers in the same standing are the same announcement.
    subject = subject_of(sorted((row.listing_id, row.state, row.valid_until) for row in rows))
    issued = await issue_number(district_code, "announcement", subject, on)
    return AnnouncementDocument(
        district_code, name, issued.issued_on, rows, public_url, issued.text
    )


def announcement_html(document: AnnouncementDocument) -> str:
    """The document's HTML."""
    return html_of("announcement.html", doc=document)


def render_announcement(document: AnnouncementDocument) -> bytes:
    """The announcement as PDF bytes."""
    return pdf_of(announcement_html(document))


async def render_announcement_async(document: AnnouncementDocument) -> bytes:
    """The announcement as PDF bytes, rendered off the event loop."""
    return await pdf_in_thread(announcement_html(document))
