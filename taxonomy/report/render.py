"""The written forms of a coverage report: CSV tables, the terminal summary, and coverage.md
and coverage.html: the sections, each defined once here, and the Jinja2 templates
(``templates/``) that say how each format shows them."""

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
from ..labels.indicator import split_labels
from ..labels.labelfile import MIN_SUPPORT
from . import charts
from .figures import TITLE, Report
from .style import colour, environment, pct, stylesheet

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
        for kind in ("md", "html"):
            write_text(tmp / f"coverage.{kind}", _render(kind, report))
            names.append(f"coverage.{kind}")
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
    compare = report.compare
    header = f"{'category':<24}{'papers':>7}{'share':>8}{'hand':>6}{'model':>7}{'mean score':>12}"
    lines += ["", header + (f"{'then':>7}{'change':>8}" if compare is not None else "")]
    for i, row in report.categories.iterrows():
        line = (f"{row['name'][:23]:<24}{row['papers']:>7}{pct(row['share']):>8}"
                f"{row['hand']:>6}{row['model']:>7}{_score(row['mean_score']):>12}")
        if compare is not None:
            then = compare.iloc[i]
            line += f"{then['then']:>7}{_signed(then['change']):>8}"
        lines.append(line)
    if report.new_papers is not None:
        lines.append(f"\n{len(report.new_papers)} papers new since the older table "
                     f"({report.papers_then} papers)")
    if report.label_support is not None:
        lines += [f"warning: {row['name']} has {row['hand_labels']} hand labels "
                  f"(fewer than {MIN_SUPPORT})"
                  for _, row in report.label_support.iterrows() if row["warning"]]
    return "\n".join(lines)


# -- The sections: what each shows; the templates say how --------------------------------------

# How a cell is shown; numeric kinds align right.
NUMERIC = frozenset({"count", "percent", "score", "precise", "threshold", "signed"})


@dataclasses.dataclass(frozen=True)
class Column:
    title: str
    key: str
    kind: str = "text"  # text, count, percent, score, precise, threshold, signed, paper, ...

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC


@dataclasses.dataclass
class Table:
    """Rows under column headers; ``csv`` names the file with every row, when one exists."""

    columns: list[Column]
    rows: list[dict[str, Any]]
    csv: str | None = None
    category: str | None = None  # the category a per-category table belongs to


@dataclasses.dataclass
class Section:
    id: str
    title: str
    note: str = ""
    chart: Callable[[], str] | None = None  # an inline SVG, drawn only for the HTML page
    tables: list[Table] = dataclasses.field(default_factory=list)
    # How the tables show: "table"; "folded" (collapsed under ``summary``); "per category"
    # (one table per category); "lists" (per category, a numbered list of papers).
    layout: str = "table"
    summary: str = ""


def sections(report: Report) -> list[Section]:
    """Every section this report has, in page order."""
    ids, names = list(report.categories["id"]), list(report.categories["name"])
    per_category = [(name, cid, "count") for cid, name in zip(ids, names, strict=True)]
    found = [
        Section("categories", "Coverage per category",
                chart=lambda: charts.coverage_chart(report.categories),
                tables=[_table(report.categories, "categories.csv",
                               ("Category", "id", "category"), ("Papers", "papers", "count"),
                               ("Share", "share", "percent"), ("Hand", "hand", "count"),
                               ("Model", "model", "count"),
                               ("Mean score", "mean_score", "score"))]),
        Section("cooccurrence", "Co-occurrence",
                "Papers in both categories; the diagonal is each category's own count.",
                chart=lambda: charts.cooccurrence_chart(report.cooccurrence, names),
                tables=[_table(report.cooccurrence.reset_index(), "cooccurrence.csv",
                               ("", "category", "category"), *per_category)]),
        Section("over-time", "Coverage over time",
                "Category assignments per month (a paper in two categories counts in both); "
                "the chart merges months into quarters or years over a long range.",
                chart=lambda: charts.over_time_chart(report.over_time, ids, names),
                tables=[_table(report.over_time, "over_time.csv", ("Month", "month"),
                               ("Papers", "papers", "count"),
                               ("Uncovered", "uncovered", "count"), *per_category)],
                layout="folded", summary="Papers per month"),
    ]
    if report.label_support is not None:
        found.append(Section(
            "support", "Label support",
            f"Hand labels per category; below {MIN_SUPPORT} a category cannot be trained or "
            "evaluated reliably.",
            tables=[_table(report.label_support, "label_support.csv",
                           ("Category", "id", "category"),
                           ("Hand labels", "hand_labels", "count"),
                           ("Warning", "warning", "warning"))]))
    if report.compare is not None and report.new_papers is not None:
        new = report.new_papers.assign(categories=[
            ", ".join(names[ids.index(c)] for c in split_labels(labels) if c in ids)
            or "–" for labels in report.new_papers["labels"]])
        found.append(Section(
            "compare", "Change since the older table",
            f"{report.papers_then} → {report.papers} papers; {len(report.new_papers)} new.",
            tables=[_table(report.compare, "compare.csv", ("Category", "id", "category"),
                           ("Then", "then", "count"), ("Now", "now", "count"),
                           ("Change", "change", "signed")),
                    _table(new, "new_papers.csv", ("Paper", "title", "paper"),
                           ("Date", "date", "date"), ("Categories", "categories"))]))
    found += [
        Section("uncertain", f"Uncertain papers: the review queue ({len(report.uncertain)})",
                f"The model-tagged papers (at most {report.uncertain_top}) whose hand label "
                "would teach the model most: closest to a category's threshold or torn "
                "between two categories, most informative first. 'taxonomy review' writes "
                "such a queue as a labels file to fill in and merge.",
                tables=[_table(report.uncertain, "uncertain.csv", ("Paper", "title", "paper"),
                               ("Category", "category", "category"),
                               ("Score", "score", "precise"),
                               ("Threshold", "threshold", "threshold"),
                               ("Assigned", "assigned", "yesno"),
                               ("Also near", "also_near", "category"))]),
        Section("uncovered", f"Papers in no category ({len(report.uncovered)})",
                "With the category each came closest to.",
                tables=[_table(report.uncovered, "uncovered.csv", ("Paper", "title", "paper"),
                               ("Date", "date", "date"), ("Source", "source"),
                               ("Closest category", "best_category", "category"),
                               ("Score", "best_score", "score"))]),
        Section("top", f"Top papers (up to {report.top_n} per category)",
                "The highest-scoring papers of each category.",
                tables=[_table(report.top_papers[report.top_papers["category"] == cid],
                               "top_papers.csv", ("#", "rank", "count"),
                               ("Paper", "title", "paper"), ("Score", "score", "score"),
                               ("Source", "source"), category=cid) for cid in ids],
                layout="per category"),
        Section("reading", "Reading list", "The papers of each category, newest first.",
                tables=[_table(report.reading_list[report.reading_list["category"] == cid],
                               "reading_list.csv", ("Paper", "title", "paper"),
                               ("Date", "date", "date"), category=cid) for cid in ids],
                layout="lists"),
    ]
    return found


def _table(frame: pd.DataFrame, csv: str, *columns: tuple[str, ...],
           category: str | None = None) -> Table:
    """A table of every row of ``frame`` under ``columns``, each (title, key[, kind])."""
    return Table([Column(*c) for c in columns], frame.to_dict(orient="records"), csv, category)


# -- Markdown and HTML from the templates ------------------------------------------------------

def _render(kind: str, report: Report) -> str:
    names = dict(zip(report.categories["id"], report.categories["name"], strict=True))
    env = environment(kind)
    return env.get_template(f"coverage.{kind}.j2").render(
        title=TITLE, report=report, totals=_totals(report), sections=sections(report),
        names=names, colours={cid: colour(i) for i, cid in enumerate(names)},
        plain=_plain, css=stylesheet(env) if kind == "html" else "")


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
    return "" if pd.isna(value) else str(value)
