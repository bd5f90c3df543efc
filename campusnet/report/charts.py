"""Inline SVG charts drawn in Python: no JavaScript, nothing fetched.

:func:`bar_chart` draws one horizontal bar per row: the capacity as a grey track, the used amount as a
coloured bar on the same scale (green below 80 %, amber below 100 %, red above), the figures on the right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from markupsafe import Markup

OK, WARN, OVER, TRACK = "#2e7d32", "#f9a825", "#c62828", "#e0e0e0"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    capacity: float | None  # None: no capacity known (drawn grey, no percentage)
    href: str | None = None


def pct(value: float, capacity: float | None) -> float | None:
    return None if not capacity else 100.0 * value / capacity


def colour(p: float | None) -> str:
    if p is None:
        return "#757575"
    return OK if p < 80 else WARN if p <= 100 else OVER


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 or v == int(v) else f"{v:.1f}"


def bar_chart(title: str, bars: Sequence[Bar], unit: str = "", *, width: int = 760, label_w: int = 190) -> Markup:
    """A horizontal bar chart as an inline ``<svg>`` (labels and title are XML-escaped)."""
    row_h, top = 22, 28
    if not bars:
        return Markup('<p class="none">none yet</p>')
    track_w = width - label_w - 190
    scale_max = max(max((b.capacity or 0) for b in bars), max(b.value for b in bars), 1.0)
    h = top + row_h * len(bars) + 6
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{h}" '
             f'viewBox="0 0 {width} {h}" aria-label="{escape(title, {chr(34): "&quot;"})}">',
             f'<title>{escape(title)}</title>',
             f'<text x="0" y="16" font-weight="bold" font-size="13">{escape(title)}</text>']
    for i, b in enumerate(bars):
        y = top + i * row_h
        p = pct(b.value, b.capacity)
        cap_w = track_w * (b.capacity or 0) / scale_max
        val_w = track_w * b.value / scale_max
        label = escape(b.label if len(b.label) <= 28 else b.label[:27] + "…")
        text = f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">{label}</text>'
        if b.href:
            text = f'<a href="{escape(b.href, {chr(34): "&quot;"})}">{text}</a>'
        parts.append(text)
        if b.capacity:
            parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{cap_w:.1f}" height="14" fill="{TRACK}"/>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{max(val_w, 0.5):.1f}" height="14" '
                     f'fill="{colour(p)}"><title>{label}: {_fmt(b.value)} {unit}</title></rect>')
        figure = f"{_fmt(b.value)} / {_fmt(b.capacity)} {unit}" if b.capacity else f"{_fmt(b.value)} {unit}"
        if p is not None:
            figure += f" ({p:.0f} %)"
        parts.append(f'<text x="{label_w + track_w + 8}" y="{y + 14}" font-size="12">{escape(figure)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is XML-escaped


def meter(value: float, capacity: float | None, width: int = 120) -> Markup:
    """A one-row inline bar for table cells."""
    p = pct(value, capacity)
    w = 0.0 if p is None else min(p, 100.0) * width / 100
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="meter" width="{width}" height="10" '
           f'viewBox="0 0 {width} 10"><rect width="{width}" height="10" fill="{TRACK}"/>'
           f'<rect width="{w:.1f}" height="10" fill="{colour(p)}"/></svg>')
    return Markup(svg)  # noqa: S704 - numbers only
