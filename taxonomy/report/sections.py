"""The sections of the coverage report, each defined once: id, title, note, tables, chart.

The Markdown and HTML templates (``templates/``) render the same sections; a section only
says what it shows, the templates how.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..labels.indicator import split_labels
from ..labels.labelfile import MIN_SUPPORT
from . import charts
from .figures import Report

# How a cell is shown; numeric kinds align right.
NUMERIC = frozenset({"count", "percent", "score", "precise", "threshold", "signed"})


@dataclass(frozen=True)
class Column:
    title: str
    key: str
    kind: str = "text"  # text, count, percent, score, precise, threshold, signed, paper, ...

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC


@dataclass
class Table:
    """Rows under column headers; ``csv`` names the file with every row, when one exists."""

    columns: list[Column]
    rows: list[dict[str, Any]]
    csv: str | None = None
    category: str | None = None  # the category a per-category table belongs to


@dataclass
class Section:
    id: str
    title: str
    note: str = ""
    chart: Callable[[], str] | None = None  # an inline SVG, drawn only for the HTML page
    tables: list[Table] = field(default_factory=list)
    # How the tables show: "table"; "folded" (collapsed under ``summary``); "per category"
    # (one table per category); "lists" (per category, a numbered list of papers).
    layout: str = "table"
    summary: str = ""


def sections(report: Report) -> list[Section]:
    """Every section this report has, in page order."""
    ids = list(report.categories["id"])
    found = [
        Section("categories", "Coverage per category",
                chart=lambda: charts.coverage_chart(report.categories),
                tables=[Table([Column("Category", "id", "category"),
                               Column("Papers", "papers", "count"),
                               Column("Share", "share", "percent"),
                               Column("Hand", "hand", "count"),
                               Column("Model", "model", "count"),
                               Column("Mean score", "mean_score", "score")],
                              _rows(report.categories), "categories.csv")]),
        Section("cooccurrence", "Co-occurrence",
                "Papers in both categories; the diagonal is each category's own count.",
                chart=lambda: charts.cooccurrence_chart(report.cooccurrence, _names(report)),
                tables=[Table([Column("", "category", "category"),
                               *(Column(name, cid, "count")
                                 for cid, name in zip(ids, _names(report), strict=True))],
                              _rows(report.cooccurrence.reset_index()), "cooccurrence.csv")]),
        Section("over-time", "Coverage over time",
                "Category assignments per month (a paper in two categories counts in both); "
                "the chart merges months into quarters or years over a long range.",
                chart=lambda: charts.over_time_chart(report.over_time, ids, _names(report)),
                tables=[Table([Column("Month", "month"), Column("Papers", "papers", "count"),
                               Column("Uncovered", "uncovered", "count"),
                               *(Column(name, cid, "count")
                                 for cid, name in zip(ids, _names(report), strict=True))],
                              _rows(report.over_time), "over_time.csv")],
                layout="folded", summary="Papers per month"),
    ]
    if report.label_support is not None:
        found.append(Section(
            "support", "Label support",
            f"Hand labels per category; below {MIN_SUPPORT} a category cannot be trained or "
            "evaluated reliably.",
            tables=[Table([Column("Category", "id", "category"),
                           Column("Hand labels", "hand_labels", "count"),
                           Column("Warning", "warning", "warning")],
                          _rows(report.label_support), "label_support.csv")]))
    if report.compare is not None and report.new_papers is not None:
        new = report.new_papers.assign(categories=[
            ", ".join(_names(report)[ids.index(c)] for c in split_labels(labels) if c in ids)
            or "–" for labels in report.new_papers["labels"]])
        found.append(Section(
            "compare", "Change since the older table",
            f"{report.papers_then} → {report.papers} papers; {len(report.new_papers)} new.",
            tables=[Table([Column("Category", "id", "category"), Column("Then", "then", "count"),
                           Column("Now", "now", "count"), Column("Change", "change", "signed")],
                          _rows(report.compare), "compare.csv"),
                    Table([Column("Paper", "title", "paper"), Column("Date", "date", "date"),
                           Column("Categories", "categories")],
                          _rows(new), "new_papers.csv")]))
    found += [
        Section("uncertain", f"Uncertain papers: the review queue ({len(report.uncertain)})",
                f"The model-tagged papers (at most {report.uncertain_top}) whose hand label "
                "would teach the model most: closest to a category's threshold or torn "
                "between two categories, most informative first. 'taxonomy review' writes "
                "such a queue as a labels file to fill in and merge.",
                tables=[Table([Column("Paper", "title", "paper"),
                               Column("Category", "category", "category"),
                               Column("Score", "score", "precise"),
                               Column("Threshold", "threshold", "threshold"),
                               Column("Assigned", "assigned", "yesno"),
                               Column("Also near", "also_near", "category")],
                              _rows(report.uncertain), "uncertain.csv")]),
        Section("uncovered", f"Papers in no category ({len(report.uncovered)})",
                "With the category each came closest to.",
                tables=[Table([Column("Paper", "title", "paper"), Column("Date", "date", "date"),
                               Column("Source", "source"),
                               Column("Closest category", "best_category", "category"),
                               Column("Score", "best_score", "score")],
                              _rows(report.uncovered), "uncovered.csv")]),
        Section("top", f"Top papers (up to {report.top_n} per category)",
                "The highest-scoring papers of each category.",
                tables=[Table([Column("#", "rank", "count"), Column("Paper", "title", "paper"),
                               Column("Score", "score", "score"), Column("Source", "source")],
                              _rows(report.top_papers[report.top_papers["category"] == cid]),
                              "top_papers.csv", cid) for cid in ids],
                layout="per category"),
        Section("reading", "Reading list", "The papers of each category, newest first.",
                tables=[Table([Column("Paper", "title", "paper"), Column("Date", "date", "date")],
                              _rows(report.reading_list[report.reading_list["category"] == cid]),
                              "reading_list.csv", cid) for cid in ids],
                layout="lists"),
    ]
    return found


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict(orient="records")


def _names(report: Report) -> list[str]:
    return list(report.categories["name"])
