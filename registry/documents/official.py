"""What every district document in the official layout (GB/T 9704) shares: issuer and number."""

from __future__ import annotations

from datetime import date


class DistrictDocument:
    """Mixin for a dataclass with district_code, district_name, on (its date) and number.

    `number` comes from the register of issued numbers (registry/documents/numbering.py), and
    `on` is the date it was first issued under that number.
    """

    district_code: str
    district_name: str
    on: date
    number: str

    @property
    def issuer(self) -> str:
        """The issuing office (发文机关)."""
        return f"天津市{self.district_name}教育局"
