"""Charts as inline SVG drawn on the server: nothing is fetched from another host, nothing runs
in the browser, and the numbers stay readable as text (each chart has a <title> and its bars
their values), so a screen reader or a printed page loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Colours of a series, in order (distinguishable in greyscale print as light to dark).
PALETTE = ("#2f6fb0", "#e08a2c", "#4a9d5b", "#b8453a", "#7a5bab", "#8c8c8c", "#3aa3a3")
ROW = 26
LABEL_WIDTH = 112
VALUE_WIDTH = 48


@dataclass(frozen=True)
class Bar:
    """One labelled value, and where it links."""

    label: str
    value: int
    href: str = ""


@dataclass(frozen=True)
class Series:
    """One named series of a column chart, a value per column."""

    name: str
    values: Sequence[int]


def _linked(inner: str, href: str) -> str:
    return f'<a href="{escape(href)}">{inner}</a>' if href else inner


def bars(title: str, items: Sequence[Bar], width: int = 520) -> Markup:
    """A horizontal bar chart, one row per item, the longest bar filling the width."""
    span = width - LABEL_WIDTH - VALUE_WIDTH
    top = max([item.value for item in items] + [1])
    height = ROW * len(items) + 8
    rows = []
    for index, item in enumerate(items):
        y = 4 + index * ROW
        length = round(span * item.value / top)
        label = escape(item.label)
        row = (
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end">{label}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{length}" height="{ROW - 8}"'
            f' fill="{PALETTE[0]}"><title>{escape(item.label)}：{item.value}</title></rect>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 17}">{item.value}</text>'
        )
        rows.append(_linked(row, item.href))
    # A picture of numbers is an image; one whose bars are links is a group of links (an image
    # may not hold interactive content).
    role = "group" if any(item.href for item in items) else "img"
    return Markup(
        f'<svg class="chart" role="{role}" viewBox="0 0 {width} {height}" width="100%"'
        f' aria-label="{escape(title)}"><title>{escape(title)}</title>{"".join(rows)}</svg>'
    )


def columns(
    title: str, labels: Sequence[str], series: Sequence[Series], *, stacked: bool = False
) -> Markup:
    """Columns per label (a month), one per series side by side, or stacked; with a legend."""
    width, plot_height, bottom, left = 640, 180, 40, 32
    totals = [
        sum(s.values[i] for s in series) if stacked else max([s.values[i] for s in series] + [0])
        for i in range(len(labels))
    ]
    top = max([*totals, 1])
    slot = (width - left) / max(len(labels), 1)
    group = slot * 0.8
    bar = group if stacked else group / max(len(series), 1)
    parts = [
        f'<line x1="{left}" y1="{plot_height}" x2="{width}" y2="{plot_height}" stroke="#999"/>',
        f'<text x="{left - 4}" y="12" text-anchor="end" class="axis">{top}</text>',
        f'<text x="{left - 4}" y="{plot_height}" text-anchor="end" class="axis">0</text>',
    ]
    for i, label in enumerate(labels):
        x0 = left + i * slot + (slot - group) / 2
        base = float(plot_height)
        for n, one in enumerate(series):
            value = one.values[i]
            height = (plot_height - 8) * value / top
            x = x0 if stacked else x0 + n * bar
            y = base - height if stacked else plot_height - height
            if value:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}"'
                    f' fill="{PALETTE[n % len(PALETTE)]}">'
                    f"<title>{escape(label)} {escape(one.name)}：{value}</title></rect>"
                )
            if stacked:
                base -= height
        parts.append(
            f'<text x="{left + i * slot + slot / 2:.1f}" y="{plot_height + 16}"'
            f' text-anchor="middle" class="axis">{escape(label)}</text>'
        )
    legend = "".join(
        f'<rect x="{left + n * 120}" y="{plot_height + 26}" width="10" height="10"'
        f' fill="{PALETTE[n % len(PALETTE)]}"/>'
        f'<text x="{left + n * 120 + 14}" y="{plot_height + 35}">{escape(one.name)}</text>'
        for n, one in enumerate(series)
    )
    height = plot_height + bottom
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%"'
        f' aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f"{''.join(parts)}{legend}</svg>"
    )
