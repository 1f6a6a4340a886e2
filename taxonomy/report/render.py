"""The written forms of a coverage report: CSV tables, coverage.md and coverage.html (Jinja2
templates over the sections of ``sections.py``), and the terminal summary."""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ..io.atomic import atomic_dir, write_text
from ..io.writers import write_frame
from ..labels.labelfile import MIN_SUPPORT
from .figures import TITLE, Report
from .sections import Column, sections
from .style import colour, environment, pct, stylesheet
from .style import md as _md

# Longer lists are cut in coverage.md and coverage.html; the CSV beside them has every row.
_MD_ROWS = 50
_PAGE_ROWS = 200


# Each DataFrame field of ``Report`` is written to the CSV file of its name.
_TABLES = [f.name for f in dataclasses.fields(Report) if f.type.startswith("pd.DataFrame")]
# Every file a report folder may hold; a folder with anything else is never replaced.
REPORT_FILES = frozenset({*(f"{name}.csv" for name in _TABLES), "coverage.md", "coverage.html"})


def write_report(report: Report, out_dir: str | os.PathLike) -> list[Path]:
    """Write coverage.md, coverage.html and one CSV per section into ``out_dir`` as a whole (a
    temp folder swapped in: an interrupted run leaves the old report); the paths written."""
    out_dir = Path(out_dir)
    names = []
    with atomic_dir(out_dir, owned=REPORT_FILES.__contains__) as tmp:
        for field in _TABLES:
            table = getattr(report, field)
            if table is not None:  # a section this report lacks (no --compare, no labels)
                table = table.reset_index() if field == "cooccurrence" else table
                write_frame(tmp / f"{field}.csv", table.round(4))
                names.append(f"{field}.csv")
        for name, text in (("coverage.md", markdown(report)), ("coverage.html",
                                                                html_page(report))):
            write_text(tmp / name, text)
            names.append(name)
    return [out_dir / name for name in names]


def _score(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.2f}"


def _signed(value: int) -> str:
    return f"{value:+d}" if value else "0"


def _totals(report: Report) -> list[tuple[str, str]]:
    """(figure, what) pairs for the header of every written form."""
    share = report.covered / report.papers if report.papers else 0.0
    return [(str(report.papers), "papers"), (str(report.covered), f"in a category ({pct(share)})"),
            (str(report.papers - report.covered), "in none"),
            (str(report.by_hand), "by hand label"), (str(report.by_model), "by model"),
            (str(len(report.uncertain)), "to review")]


def summary_table(report: Report) -> str:
    """Plain-text summary for the terminal: totals, then one line per category."""
    lines = [", ".join(f"{n} {what}" for n, what in _totals(report))]
    compare, new_papers = report.compare, report.new_papers
    with_compare = compare is not None and new_papers is not None
    header = f"{'category':<24}{'papers':>7}{'share':>8}{'hand':>6}{'model':>7}{'mean score':>12}"
    lines += ["", header + (f"{'then':>7}{'change':>8}" if with_compare else "")]
    for i, row in report.categories.iterrows():
        line = (f"{row['name'][:23]:<24}{row['papers']:>7}{pct(row['share']):>8}"
                f"{row['hand']:>6}{row['model']:>7}{_score(row['mean_score']):>12}")
        if compare is not None:
            then = compare.iloc[i]
            line += f"{then['then']:>7}{_signed(then['change']):>8}"
        lines.append(line)
    if new_papers is not None:
        lines.append(f"\n{len(new_papers)} papers new since the older table "
                     f"({report.papers_then} papers)")
    if report.label_support is not None:
        lines += [f"warning: {row['name']} has {row['hand_labels']} hand labels "
                  f"(fewer than {MIN_SUPPORT})"
                  for _, row in report.label_support.iterrows() if row["warning"]]
    return "\n".join(lines)


# -- Markdown and HTML from the templates ------------------------------------------------------

def _render(kind: str, report: Report) -> str:
    names = dict(zip(report.categories["id"], report.categories["name"], strict=True))
    env = environment(kind)
    return env.get_template(f"coverage.{kind}.j2").render(
        title=TITLE, report=report, totals=_totals(report), sections=sections(report),
        names=names, colours={cid: colour(i) for i, cid in enumerate(names)},
        cell=_html_cell if kind == "html" else _md_cell,
        limit=_MD_ROWS if kind == "md" else _PAGE_ROWS,
        css=stylesheet(env) if kind == "html" else "")


def markdown(report: Report) -> str:
    """coverage.md: GitHub Markdown with the totals and every table, ready to paste."""
    return _render("md", report)


def html_page(report: Report) -> str:
    """coverage.html: one self-contained page (inline CSS and SVG charts, no scripts)."""
    return _render("html", report)


def _threshold(value: float) -> str:
    # Rounded up: a 4-decimal score is assigned exactly when it reaches the shown value.
    return "–" if pd.isna(value) else f"{math.ceil(round(value * 10_000, 6)) / 10_000:.4f}"


_FORMATS: dict[str, Callable[[Any], str]] = {
    "count": lambda value: str(int(value)), "percent": pct, "score": _score,
    "precise": lambda value: "–" if pd.isna(value) else f"{value:.4f}",  # as scores are written
    "threshold": _threshold, "signed": lambda value: _signed(int(value)),
    "yesno": lambda value: "yes" if value else "no", "date": lambda value: str(value) or "–",
}


def _plain(value: Any, column: Column, names: dict[str, str]) -> str:
    """A cell as text, the same in both formats (before escaping)."""
    if column.kind == "category":
        return names.get(value, str(value))
    if column.kind in _FORMATS:
        return _FORMATS[column.kind](value)
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def _web(link: Any) -> bool:
    return isinstance(link, str) and link.startswith(("http://", "https://"))


def _md_cell(row: dict[str, Any], column: Column, names: dict[str, str]) -> str:
    text = _plain(row[column.key], column, names)
    if column.kind == "paper" and _web(row.get("link")):
        safe = row["link"].replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        return f"[{_md(text)}]({safe})"
    return _md(text) if column.kind in ("text", "paper", "category", "warning") else text


def _html_cell(row: dict[str, Any], column: Column, names: dict[str, str],
               colours: dict[str, str]) -> Any:
    from markupsafe import Markup, escape

    value = row[column.key]
    text = escape(_plain(value, column, names))
    if column.kind == "paper" and _web(row.get("link")):
        return Markup(f'<a href="{escape(row["link"])}">{text}</a>')
    if column.kind == "category":
        return Markup(f'<span class="cat"><span class="chip" style="background:'
                      f'{colours.get(value, "#7f7f7f")}"></span>{text}</span>')
    if column.kind == "date":
        return Markup(f'<span class="date">{escape(str(value))}</span>')
    if column.kind == "warning":
        return Markup(f'<span class="warn">{text}</span>')
    if column.kind == "signed":
        change = "up" if value > 0 else "down" if value < 0 else ""
        return Markup(f'<span class="{change}">{text}</span>')
    return text
