"""Jinja filters: dates and labels as Chinese users read them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from litestar.plugins.jinja import JinjaTemplateEngine

from registry.labels import event_label, role_label, state_label
from registry.reference import CATEGORY_LABELS
from registry.settings import get_settings
from workflows.states import exit_reason_label


def zh_date(value: date | datetime | None) -> str:
    """2026年3月2日."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(get_settings().timezone)).date()
    return f"{value.year}年{value.month}月{value.day}日"


def zh_datetime(value: datetime | None) -> str:
    """2026年3月2日 10:05 in the registry's time zone."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(get_settings().timezone))
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def category_label(value: str) -> str:
    """The Chinese name of a category code."""
    return CATEGORY_LABELS.get(value, value)


def mask_id(value: str | None) -> str:
    """A resident ID as shown in public: 1201**********123X."""
    if not value:
        return ""
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "****"


def register(engine: JinjaTemplateEngine) -> None:
    """Install the filters."""
    # Labels come from registry/labels.py (and workflows/states.py): one table for every page.
    for function in (
        zh_date,
        zh_datetime,
        state_label,
        event_label,
        role_label,
        exit_reason_label,
        category_label,
        mask_id,
    ):
        engine.engine.filters[function.__name__] = function
