"""A district's whitelist announcement (白名单公告) as an official document (GB/T 9704)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from registry.documents.notice import district_name
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
    """The district's whitelist now, dated `on`; None for an unknown district."""
    name = await district_name(district_code)
    if name is None:
        return None
    rows = await current_whitelist(district_code)
    return AnnouncementDocument(district_code, name, on, rows, public_url)


def announcement_html(document: AnnouncementDocument) -> str:
    """The document's HTML."""
    return html_of("announcement.html", doc=document)


def render_announcement(document: AnnouncementDocument) -> bytes:
    """The announcement as PDF bytes."""
    return pdf_of(announcement_html(document))


async def render_announcement_async(document: AnnouncementDocument) -> bytes:
    """The announcement as PDF bytes, rendered off the event loop."""
    return await pdf_in_thread(announcement_html(document))
