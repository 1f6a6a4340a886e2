"""The sections of the coverage report, each defined once: what it shows; the Markdown and
HTML templates (``templates/``) say how."""

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
