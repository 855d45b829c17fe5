"""Small self-contained SVG charts for reports (no plotting library: a report is one file
that opens anywhere, and the install stays small)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#718096")
_ROW = 26
_LABEL_W = 190
_BAR_W = 360


def _scale(values: Sequence[float], log: bool) -> Callable[[float], float]:
    """Value → fraction of the bar width."""
    positive = [v for v in values if v > 0]
    top = max(positive, default=1.0)
    if not log:
        return lambda v: max(0.0, v) / top
    lo = math.log10(min(positive, default=1.0)) - 0.3
    span = math.log10(top) - lo or 1.0
    return lambda v: 0.0 if v <= 0 else (math.log10(v) - lo) / span


def stack(title: str, charts: Sequence[str]) -> str:
    """Several charts one below the other in a single SVG document."""
    sizes = [(int(_attr(c, "width")), int(_attr(c, "height"))) for c in charts]
    width = max((w for w, _ in sizes), default=200)
    parts = [
        f'<text x="4" y="20" font-size="16" font-weight="bold">{escape(title)}</text>',
    ]
    y = 30
    for chart, (_, height) in zip(charts, sizes, strict=True):
        parts.append(chart.replace("<svg ", f'<svg x="0" y="{y}" ', 1))
        y += height + 10
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}"'
        f' viewBox="0 0 {width} {y}" font-family="sans-serif">'
        f'<rect width="100%" height="100%" fill="white"/>{"".join(parts)}</svg>\n'
    )


def _attr(svg: str, name: str) -> str:
    return svg.split(f' {name}="', 1)[1].split('"', 1)[0]


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}".rstrip("0").rstrip(".")


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[float]]],
    *,
    unit: str = "",
    series: Sequence[str] = (),
    limit: float | None = None,
    log: bool = False,
) -> str:
    """Horizontal bars: one row per label, one bar per series value (grouped).

    ``limit`` draws a dashed reference line (e.g. a target) across the rows; ``log`` scales
    the bars logarithmically (values spanning orders of magnitude).
    """
    n_series = max((len(values) for _, values in rows), default=1) or 1
    scale = _scale([v for _, values in rows for v in values] + [limit or 0.0], log)
    row_h = _ROW * n_series + 8
    legend_h = 20 if series else 0
    height = 34 + legend_h + row_h * len(rows) + 10
    width = _LABEL_W + _BAR_W + 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12"'
        f' role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for i, name in enumerate(series):
        lx = _LABEL_W + i * 130
        parts.append(
            f'<rect x="{lx}" y="28" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>'
            f'<text x="{lx + 16}" y="38">{escape(name)}</text>'
        )
    y = 34 + legend_h
    for label, values in rows:
        parts.append(
            f'<text x="{_LABEL_W - 6}" y="{y + row_h / 2 + 4}" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        for i, value in enumerate(values):
            w = scale(value) * _BAR_W
            by = y + 4 + i * _ROW
            colour = PALETTE[i % len(PALETTE)]
            parts.append(
                f'<rect x="{_LABEL_W}" y="{by}" width="{w:.1f}" height="{_ROW - 6}"'
                f' fill="{colour}"/>'
                f'<text x="{_LABEL_W + w + 4:.1f}" y="{by + _ROW / 2 + 1}">'
                f"{_fmt(value)}{escape(unit)}</text>"
            )
        y += row_h
    if limit is not None:
        x = _LABEL_W + scale(limit) * _BAR_W
        parts.append(
            f'<line x1="{x:.1f}" y1="{34 + legend_h}" x2="{x:.1f}" y2="{y}" stroke="#c53030"'
            ' stroke-dasharray="4 3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
