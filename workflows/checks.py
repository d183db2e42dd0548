"""Automatic checks of an application: blocking problems and warnings for the reviewer."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.context import Context, Refusal


@dataclass(frozen=True)
class Finding:
    """One result of the automatic checks."""

    code: str
    field: str
    message: str
    blocking: bool

    @property
    def refusal(self) -> Refusal:
        """The finding in the API's error shape."""
        return Refusal(self.field, self.code, self.message)


def run_checks(ctx: Context) -> list[Finding]:
    """Every finding for the listing's form, documents and district policy."""
    return []
