"""Small self-contained SVG charts for reports (no plotting library: a report is one file
that opens anywhere, and the install stays small)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

PALETTE = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#718096")
_ROW = 26
_LABEL_W = 190
_BAR_W = 360


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}".rstrip("0").rstrip(".")


def bar_chart(
    title: str,
    rows: Sequence[tuple[str, Sequence[float]]],
    *,
    unit: str = "",
    series: Sequence[str] = (),
    limit: float | None = None,
) -> str:
    """Horizontal bars: one row per label, one bar per series value (grouped).

    ``limit`` draws a dashed reference line (e.g. a target) across the rows.
    """
    n_series = max((len(values) for _, values in rows), default=1) or 1
    top = max([v for _, values in rows for v in values] + [limit or 0.0, 1e-9])
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
            w = max(0.0, value) / top * _BAR_W
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
        x = _LABEL_W + limit / top * _BAR_W
        parts.append(
            f'<line x1="{x:.1f}" y1="{34 + legend_h}" x2="{x:.1f}" y2="{y}" stroke="#c53030"'
            ' stroke-dasharray="4 3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
