"""What every district document in the official layout (GB/T 9704) shares: issuer and number."""

from __future__ import annotations

from datetime import date

# The district part of a document number (津X教〔year〕N号). Several names share their first
# character (河东、河西、河北), so each district has its own short form.
DISTRICT_SHORT = {
    "120101": "和",
    "120102": "东",
    "120103": "西",
    "120104": "南",
    "120105": "北",
    "120106": "红",
    "120110": "丽",
    "120111": "青",
    "120112": "津南",
    "120113": "辰",
    "120114": "武",
    "120115": "宝",
    "120116": "滨",
    "120117": "宁",
    "120118": "静",
    "120119": "蓟",
}


def document_number(district_code: str, on: date) -> str:
    """津和教〔2026〕61号.

    The registry keeps no register of outgoing documents, so N is the day of the year of the
    document's date: the same list on the same day always carries the same number, and two
    days never share one.
    """
    short = DISTRICT_SHORT.get(district_code, "")
    return f"津{short}教〔{on.year}〕{on.timetuple().tm_yday}号"


class DistrictDocument:
    """Mixin for a dataclass with district_code, district_name and on (the document's date)."""

    district_code: str
    district_name: str
    on: date

    @property
    def issuer(self) -> str:
        """The issuing office (发文机关)."""
        return f"天津市{self.district_name}教育局"

    @property
    def number(self) -> str:
        """The document number (发文字号)."""
        return document_number(self.district_code, self.on)
