"""The digest's small charts as inline SVG, in the coverage report's palette: per category,
its papers in this window and the windows before.

Drawn directly rather than with matplotlib, whose import and rendering alone would take most
of the digest's time budget (a digest is written in well under 2 s); the bars are simple
enough that a few rectangles and labels say it all.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from ..report.style import INK, colour

_WIDTH, _HEIGHT = 300, 110
_TOP, _BOTTOM, _SIDE = 16, 20, 4  # room for the share labels above, the dates below
_MUTED = "#616e7c"


def periods_chart(periods: pd.DataFrame, index: int, unit: str = "window") -> str:
    """Bars of papers per window, oldest first: the current one solid, earlier ones pale,
    each labeled with its count and share of all papers of that window."""
    counts = [int(c) for c in periods["papers"]]
    top = max(1, *counts)
    n = len(counts)
    slot = (_WIDTH - 2 * _SIDE) / n
    plot = _HEIGHT - _TOP - _BOTTOM
    fill = colour(index)
    title = (f"papers per {unit}, oldest first: "
             + ", ".join(f"{s} {c}" for s, c in zip(periods["since"], counts, strict=True)))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
             f'width="{_WIDTH}" height="{_HEIGHT}" role="img" aria-label={quoteattr(title)} '
             'font-family="system-ui, sans-serif">', f"<title>{escape(title)}</title>",
             f'<line x1="{_SIDE}" x2="{_WIDTH - _SIDE}" y1="{_HEIGHT - _BOTTOM}" '
             f'y2="{_HEIGHT - _BOTTOM}" stroke="#bbbbbb" stroke-width="1"/>']
    for i, (count, share, since) in enumerate(zip(counts, periods["share"], periods["since"],
                                                  strict=True)):
        height = plot * count / top
        x = _SIDE + i * slot + slot * 0.15
        y = _HEIGHT - _BOTTOM - height
        opacity = "1" if i == n - 1 else "0.4"
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                     f'height="{height:.1f}" fill="{fill}" fill-opacity="{opacity}"/>')
        middle = x + slot * 0.35
        parts.append(f'<text x="{middle:.1f}" y="{y - 3:.1f}" font-size="9" '
                     f'text-anchor="middle" fill="{INK}">{count}'
                     f'<tspan fill="{_MUTED}" font-size="8"> {share:.0%}</tspan></text>')
        parts.append(f'<text x="{middle:.1f}" y="{_HEIGHT - 6}" font-size="8" '
                     f'text-anchor="middle" fill="{_MUTED}">{escape(str(since)[5:])}</text>')
    parts.append("</svg>")
    return "".join(parts)
