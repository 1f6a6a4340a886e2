"""The coverage report's charts, drawn off-screen with matplotlib (no GUI backend, no pyplot
state) and returned as SVG to inline in HTML, text kept as text so the page's fonts apply."""

from __future__ import annotations

import io
import re
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from .figures import UNDATED
from .style import INK, colour

__all__ = ["cooccurrence_chart", "coverage_chart", "over_time_chart"]

_GRID = "#e5e5e5"
_RC: Any = {  # matplotlib types its keys as literals; these are checked at run time
    "svg.fonttype": "none",
    "svg.hashsalt": "taxonomy-report",  # stable element ids: same data, same SVG
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.edgecolor": "#bbbbbb",
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_NAMESPACES = re.compile(r'\s+xmlns(?::xlink)?="[^"]*"')


def coverage_chart(categories: pd.DataFrame) -> str:
    """Horizontal bars of papers per category in its colour: solid by hand label, pale by model."""
    count = len(categories)
    y = np.arange(count)[::-1]
    hand, model = categories["hand"].to_numpy(), categories["model"].to_numpy()
    total = hand + model
    colours = [colour(i) for i in range(count)]
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(8, 0.45 * count + 1.3))
        ax = fig.subplots()
        ax.barh(y, hand, color=colours, height=0.62)
        ax.barh(y, model, left=hand, color=colours, alpha=0.45, height=0.62)
        for yi, n, share in zip(y, total, categories["share"], strict=True):
            ax.text(n, yi, f"  {n} ({share:.0%})", va="center", fontsize=9, color=INK)
        ax.set_yticks(y, categories["name"])
        ax.set_xlim(0, max(1, int(total.max(initial=0))) * 1.18)
        ax.set_xlabel("papers")
        ax.xaxis.grid(True, color=_GRID)
        ax.set_axisbelow(True)
        # Each legend entry shows the bars' own colours, solid for hand labels and pale for
        # the model, so the key matches what the bars look like.
        solid = tuple(Rectangle((0, 0), 1, 1, color=c) for c in colours)
        pale = tuple(Rectangle((0, 0), 1, 1, color=c, alpha=0.45) for c in colours)
        ax.legend([solid, pale], ["hand label", "model"], loc="lower right",
                  bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False, fontsize=9,
                  handler_map={tuple: HandlerTuple(ndivide=None, pad=0)}, handlelength=4)
        return _svg(fig)


def cooccurrence_chart(matrix: pd.DataFrame, names: list[str]) -> str:
    """Heatmap of papers per pair of categories, each cell labeled with its count. The diagonal
    (each category's own count) is grey so that it does not wash out the pairs' colour scale."""
    values = matrix.to_numpy()
    pairs = np.ma.masked_array(values, mask=np.eye(len(values), dtype=bool))
    top = max(1, int(pairs.filled(0).max()))
    with mpl.rc_context(_RC):
        size = 1.0 + 0.9 * len(names)
        fig = Figure(figsize=(size + 2.2, size))
        ax = fig.subplots()
        ax.imshow(np.eye(len(values)), cmap=ListedColormap(["#ffffff", "#e4e7eb"]))
        image = ax.imshow(pairs, cmap="Blues", vmin=0, vmax=top)
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
        ax.set_yticks(range(len(names)), names)
        ax.spines[:].set_visible(False)
        ax.tick_params(length=0)
        for i, j in np.ndindex(values.shape):
            dark = i != j and values[i, j] > top * 0.6
            ax.text(j, i, str(values[i, j]), ha="center", va="center", fontsize=9,
                    color="white" if dark else INK, weight="bold" if i == j else "normal")
        fig.colorbar(image, ax=ax, shrink=0.8, label="papers in both",
                     ticks=MaxNLocator(integer=True))
        return _svg(fig)


def over_time_chart(over_time: pd.DataFrame, category_ids: list[str], names: list[str]) -> str:
    """Stacked bars of category assignments over time, and a dot for the papers of each bar.
    Months are merged into quarters or years when the range is long, so bars stay visible."""
    dated = over_time[over_time["month"] != UNDATED]
    with mpl.rc_context(_RC):
        fig = Figure(figsize=(9, 3.6))
        ax = fig.subplots()
        if dated.empty:
            ax.text(0.5, 0.5, "no dated papers", ha="center", va="center", color="#888888",
                    transform=ax.transAxes)
            ax.set_axis_off()
            return _svg(fig)
        span = len(pd.period_range(dated["month"].min(), dated["month"].max(), freq="M"))
        freq, unit = (("M", "month") if span <= 36 else ("Q", "quarter") if span <= 120
                      else ("Y", "year"))
        periods = pd.PeriodIndex(dated["month"], freq="M").asfreq(freq)
        binned = dated[["papers", *category_ids]].groupby(periods).sum()
        starts = binned.index.start_time
        width = (binned.index.end_time - starts).days.to_numpy() * 0.8
        middle = (starts + (binned.index.end_time - starts) / 2).to_numpy()
        bottom = binned[category_ids].cumsum(axis=1) - binned[category_ids]  # stacked in order
        for index, (cid, name) in enumerate(zip(category_ids, names, strict=True)):
            ax.bar(middle, binned[cid].to_numpy(), bottom=bottom[cid].to_numpy(), width=width,
                   color=colour(index), label=name)
        ax.plot(middle, binned["papers"], "o", color=INK, markersize=3.5, label="papers")
        ax.set_ylabel(f"per {unit}")
        ax.yaxis.grid(True, color=_GRID)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_axisbelow(True)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False, fontsize=9)
        return _svg(fig)


def _svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element ready to inline in HTML: no XML prologue, DOCTYPE or
    RDF metadata (every default entry set to None), so it names no external URL."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight",
                metadata=dict.fromkeys(("Date", "Format", "Type", "Creator")))
    text = buffer.getvalue()
    return _NAMESPACES.sub("", text[text.index("<svg"):], count=2).strip()
