"""The written forms of a coverage report: CSV tables, coverage.md, coverage.html and the
terminal summary."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pandas as pd

from .io.atomic import write_text
from .io.writers import write_frame
from .labels.indicator import split_labels
from .labels.labelfile import MIN_SUPPORT
from .report import TITLE, Report

# Longer lists are cut in coverage.md and coverage.html; the CSV beside them has every row.
_MD_ROWS = 50
_PAGE_ROWS = 200


def _sections(report: Report) -> dict[str, pd.DataFrame | None]:
    """File name -> table for every section (None where this report lacks it)."""
    return {
        "categories.csv": report.categories, "top_papers.csv": report.top_papers,
        "uncovered.csv": report.uncovered, "uncertain.csv": report.uncertain,
        "cooccurrence.csv": report.cooccurrence.reset_index(),
        "over_time.csv": report.over_time, "reading_list.csv": report.reading_list,
        "label_support.csv": report.label_support, "compare.csv": report.compare,
        "new_papers.csv": report.new_papers,
    }


def write_report(report: Report, out_dir: str | os.PathLike) -> list[Path]:
    """Write coverage.md, coverage.html and one CSV per section into ``out_dir`` (each file
    atomically); returns the paths written."""
    out_dir = Path(out_dir)
    written = []
    for name, table in _sections(report).items():
        if table is None:
            # A section this report lacks (no --compare, no labels): drop the file an earlier
            # report left, so the folder never mixes two reports.
            (out_dir / name).unlink(missing_ok=True)
            continue
        write_frame(out_dir / name, table.round(4))
        written.append(out_dir / name)
    for name, text in (("coverage.md", markdown(report)), ("coverage.html", html_page(report))):
        write_text(out_dir / name, text)
        written.append(out_dir / name)
    return written


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _score(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.2f}"


def _signed(value: int) -> str:
    return f"{value:+d}" if value else "0"


def _totals(report: Report) -> list[tuple[str, str]]:
    """(figure, what) pairs for the header of every written form."""
    share = report.covered / report.papers if report.papers else 0.0
    return [(str(report.papers), "papers"), (str(report.covered), f"in a category ({_pct(share)})"),
            (str(report.papers - report.covered), "in none"),
            (str(report.by_hand), "by hand label"), (str(report.by_model), "by model"),
            (str(report.uncertain["id"].nunique()), "uncertain")]


def summary_table(report: Report) -> str:
    """Plain-text summary for the terminal: totals, then one line per category."""
    lines = [", ".join(f"{n} {what}" for n, what in _totals(report))]
    with_compare = report.compare is not None
    header = f"{'category':<24}{'papers':>7}{'share':>8}{'hand':>6}{'model':>7}{'mean score':>12}"
    lines += ["", header + (f"{'then':>7}{'change':>8}" if with_compare else "")]
    for i, row in report.categories.iterrows():
        line = (f"{row['name'][:23]:<24}{row['papers']:>7}{_pct(row['share']):>8}"
                f"{row['hand']:>6}{row['model']:>7}{_score(row['mean_score']):>12}")
        if with_compare:
            then = report.compare.iloc[i]
            line += f"{then['then']:>7}{_signed(then['change']):>8}"
        lines.append(line)
    if with_compare:
        lines.append(f"\n{len(report.new_papers)} papers new since the older table "
                     f"({report.papers_then} papers)")
    if report.label_support is not None:
        lines += [f"warning: {row['name']} has {row['hand_labels']} hand labels "
                  f"(fewer than {MIN_SUPPORT})"
                  for _, row in report.label_support.iterrows() if row["warning"]]
    return "\n".join(lines)


# -- Markdown ------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _md_link(title: str, link: str) -> str:
    if not link.startswith(("http://", "https://")):
        return _md(title)
    safe = link.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"[{_md(title)}]({safe})"


def _md_table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    """Table lines; ``align`` has an 'l' or 'r' per column (default: first left, rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = ["---" if a == "l" else "--:" for a in align]
    return [f"| {' | '.join(r)} |" for r in (header, rule, *rows)] + [""]


def _md_cut(total: int, csv_name: str) -> list[str]:
    return [f"… and {total - _MD_ROWS} more in `{csv_name}`.", ""] if total > _MD_ROWS else []


def _page_cut(total: int, csv_name: str) -> str:
    return (f'<p class="note">… and {total - _PAGE_ROWS} more in <code>{csv_name}</code>.</p>'
            if total > _PAGE_ROWS else "")


def markdown(report: Report) -> str:
    """coverage.md: GitHub Markdown with the totals and every table, ready to paste."""
    names = dict(zip(report.categories["id"], report.categories["name"], strict=True))
    out = [f"# {TITLE}", "", f"Report of {report.generated}"
           + (f" · model {', '.join(report.models)}" if report.models else ""), "",
           " · ".join(f"**{n}** {what}" for n, what in _totals(report)), "",
           "## Categories", ""]
    out += _md_table(["Category", "Papers", "Share", "Hand", "Model", "Mean score"], [
        [_md(r["name"]), str(r["papers"]), _pct(r["share"]), str(r["hand"]), str(r["model"]),
         _score(r["mean_score"])] for _, r in report.categories.iterrows()])
    out += ["## Co-occurrence", "", "Papers in both categories; the diagonal is each "
            "category's own count.", ""]
    out += _md_table(["", *map(_md, names.values())], [
        [_md(names[cid]), *map(str, row)] for cid, row in zip(
            report.cooccurrence.index, report.cooccurrence.to_numpy(), strict=True)])
    out += ["## Coverage over time", "", "<details><summary>Papers per month</summary>", ""]
    out += _md_table(["Month", "Papers", "Uncovered", *map(_md, names.values())],
                     [list(map(str, row)) for row in report.over_time.to_numpy()])
    out += ["</details>", ""]
    if report.label_support is not None:
        out += ["## Label support", ""]
        out += _md_table(["Category", "Hand labels", "Warning"], [
            [_md(r["name"]), str(r["hand_labels"]), r["warning"]]
            for _, r in report.label_support.iterrows()], "lrl")
    if report.compare is not None:
        out += ["## Change since the older table", "",
                f"{report.papers_then} → {report.papers} papers; "
                f"{len(report.new_papers)} new.", ""]
        out += _md_table(["Category", "Then", "Now", "Change"], [
            [_md(r["name"]), str(r["then"]), str(r["now"]), _signed(r["change"])]
            for _, r in report.compare.iterrows()])
    out += [f"## Uncertain papers ({report.uncertain['id'].nunique()})", "",
            f"Model-tagged papers scoring within {report.uncertain_margin:g} of a category's "
            "threshold, one row per paper and category, closest first; worth a hand label.", ""]
    out += _md_table(["Paper", "Category", "Score", "Threshold", "Assigned"], [
        [_md_link(r["title"], r["link"]), _md(names[r["category"]]),
         _score(r["score"]), _score(r["threshold"]), "yes" if r["assigned"] else "no"]
        for _, r in report.uncertain.head(_MD_ROWS).iterrows()], "llrrl")
    out += _md_cut(len(report.uncertain), "uncertain.csv")
    out += [f"## Papers in no category ({len(report.uncovered)})", ""]
    out += _md_table(["Paper", "Date", "Closest category", "Score"], [
        [_md_link(r["title"], r["link"]), r["date"] or "–", _md(names[r["best_category"]]),
         _score(r["best_score"])] for _, r in report.uncovered.head(_MD_ROWS).iterrows()],
        "lllr")
    out += _md_cut(len(report.uncovered), "uncovered.csv")
    out += [f"## Top papers (up to {report.top_n} per category)", "",
            "<details><summary>Highest-scoring papers</summary>", ""]
    out += _md_table(["Category", "Rank", "Paper", "Score", "Source"], [
        [_md(names[r["category"]]), str(r["rank"]), _md_link(r["title"], r["link"]),
         _score(r["score"]), r["source"]] for _, r in report.top_papers.iterrows()], "lrlrl")
    out += ["</details>", "", "## Reading list", ""]
    for cid, name in names.items():
        papers = report.reading_list[report.reading_list["category"] == cid]
        out += [f"<details><summary>{html.escape(name)} ({len(papers)})</summary>", ""]
        out += [f"- {_md_link(r['title'], r['link'])}" + (f" · {r['date']}" if r["date"] else "")
                for _, r in papers.head(_MD_ROWS).iterrows()]
        out += ["", *_md_cut(len(papers), "reading_list.csv"), "</details>", ""]
    return "\n".join(out)


# -- HTML ----------------------------------------------------------------------------------

_CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --accent: #1f77b4;
  --soft: #f5f7fa; --warn: #b44d12; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
header { background: linear-gradient(135deg, #12344d, #1f77b4); color: #fff;
  padding: 2.2rem 0 1.6rem; }
.wrap { max-width: 1120px; margin: 0 auto; padding: 0 1.5rem; }
h1 { margin: 0 0 .2rem; font-size: 1.9rem; font-weight: 650; letter-spacing: -.01em; }
.meta { margin: 0 0 1.3rem; opacity: .85; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr));
  gap: .8rem; }
.stat { background: rgba(255, 255, 255, .12); border-radius: 10px; padding: .7rem 1rem; }
.stat b { display: block; font-size: 1.6rem; font-variant-numeric: tabular-nums; }
.stat span { font-size: .85rem; opacity: .9; }
nav { border-bottom: 1px solid var(--line); background: var(--soft); font-size: .9rem; }
nav a { display: inline-block; padding: .6rem .9rem .6rem 0; color: var(--accent);
  text-decoration: none; margin-right: .4rem; }
section { padding: 1.6rem 0 .6rem; border-bottom: 1px solid var(--line); }
h2 { font-size: 1.3rem; margin: 0 0 .3rem; }
h3 { font-size: 1.02rem; margin: 1.2rem 0 .4rem; }
.note { color: var(--muted); margin: 0 0 1rem; font-size: .92rem; }
figure { margin: 0 0 1rem; }
figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; margin: 0 0 1.2rem; font-size: .9rem; }
th, td { padding: .42rem .6rem; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: top; }
th { background: var(--soft); font-weight: 600; color: var(--muted); font-size: .8rem;
  text-transform: uppercase; letter-spacing: .03em; }
tbody tr:hover { background: #fafbfc; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.chip { display: inline-block; width: .75rem; height: .75rem; border-radius: 3px;
  margin-right: .45rem; vertical-align: -1px; }
.warn { color: var(--warn); font-weight: 600; }
.up { color: #2f855a; } .down { color: #c53030; }
a { color: var(--accent); }
details { margin: 0 0 .8rem; }
summary { cursor: pointer; font-weight: 600; padding: .3rem 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr));
  gap: 0 1.6rem; }
ol.reading { margin: .3rem 0 1rem; padding-left: 1.6rem; }
ol.reading li { margin: .15rem 0; }
.date { color: var(--muted); font-size: .85rem; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
.cat { white-space: nowrap; }
footer { color: var(--muted); font-size: .85rem; padding: 1.2rem 0 2rem; }
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _a(title: str, link: str) -> str:
    """The title as a link when the link is a web address (anything else would be unsafe)."""
    if link.startswith(("http://", "https://")):
        return f'<a href="{_e(link)}">{_e(title)}</a>'
    return _e(title)


def _table(header: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    """An HTML table from already-escaped cells; columns in ``numeric`` align right."""
    def cells(tag: str, values: list[str]) -> str:
        return "".join(f'<{tag}{" class=n" if i in numeric else ""}>{v}</{tag}>'
                       for i, v in enumerate(values))
    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><thead><tr>{cells('th', header)}</tr></thead><tbody>{body}</tbody></table>"


def html_page(report: Report) -> str:
    """coverage.html: one self-contained page (inline CSS and SVG charts, no scripts)."""
    from . import charts

    ids = list(report.categories["id"])
    names = dict(zip(ids, report.categories["name"], strict=True))
    chip = {cid: f'<span class="chip" style="background:{charts.colour(i)}"></span>'
            for i, cid in enumerate(ids)}
    label = {cid: f'<span class="cat">{chip[cid]}{_e(names[cid])}</span>' for cid in ids}
    sections: list[tuple[str, str, str]] = []

    rows = [[label[r["id"]], str(r["papers"]), _pct(r["share"]), str(r["hand"]), str(r["model"]),
             _score(r["mean_score"])] for _, r in report.categories.iterrows()]
    sections.append(("categories", "Coverage per category",
                     f"<figure>{charts.coverage_chart(report.categories)}</figure>"
                     + _table(["Category", "Papers", "Share", "Hand", "Model", "Mean score"],
                              rows, {1, 2, 3, 4, 5})))
    matrix = report.cooccurrence
    rows = [[label[cid], *map(str, row)] for cid, row in zip(matrix.index, matrix.to_numpy(),
                                                               strict=True)]
    sections.append(("cooccurrence", "Co-occurrence",
                     '<p class="note">Papers in both categories; the diagonal is each '
                     "category's own count.</p>"
                     f"<figure>{charts.cooccurrence_chart(matrix, list(names.values()))}</figure>"
                     + _table(["", *map(_e, names.values())], rows,
                              set(range(1, len(ids) + 1)))))
    rows = [[_e(r["month"]), str(r["papers"]), str(r["uncovered"]), *(str(r[c]) for c in ids)]
            for _, r in report.over_time.iterrows()]
    chart = charts.over_time_chart(report.over_time, ids, list(names.values()))
    sections.append(("over-time", "Coverage over time",
                     '<p class="note">Category assignments per month, or per quarter or year '
                     "over a long range (a paper in two categories counts in both); dots mark "
                     "the papers.</p>"
                     f"<figure>{chart}</figure><details><summary>Papers per month</summary>"
                     + _table(["Month", "Papers", "Uncovered", *(label[c] for c in ids)], rows,
                              set(range(1, len(ids) + 3))) + "</details>"))
    if report.label_support is not None:
        rows = [[label[r["id"]], str(r["hand_labels"]),
                 f'<span class="warn">{_e(r["warning"])}</span>']
                for _, r in report.label_support.iterrows()]
        sections.append(("support", "Label support",
                         f'<p class="note">Hand labels per category; below {MIN_SUPPORT} a '
                         "category cannot be trained or evaluated reliably.</p>"
                         + _table(["Category", "Hand labels", ""], rows, {1})))
    if report.compare is not None:
        rows = [[label[r["id"]], str(r["then"]), str(r["now"]),
                 f'<span class="{"up" if r["change"] > 0 else "down" if r["change"] < 0 else ""}">'
                 f'{_signed(r["change"])}</span>'] for _, r in report.compare.iterrows()]
        new = [[_a(r["title"], r["link"]), f'<span class="date">{_e(r["date"])}'
                "</span>", _e(", ".join(names[c] for c in split_labels(r["labels"])) or "–")]
               for _, r in report.new_papers.head(_PAGE_ROWS).iterrows()]
        sections.append(("compare", "Change since the older table",
                         f'<p class="note">{report.papers_then} → {report.papers} papers; '
                         f"{len(report.new_papers)} new.</p>"
                         + _table(["Category", "Then", "Now", "Change"], rows, {1, 2, 3})
                         + f"<details><summary>New papers ({len(report.new_papers)})</summary>"
                         + _table(["Paper", "Date", "Categories"], new, set())
                         + _page_cut(len(report.new_papers), "new_papers.csv") + "</details>"))
    rows = [[_a(r["title"], r["link"]), label[r["category"]], _score(r["score"]),
             _score(r["threshold"]), "yes" if r["assigned"] else "no"]
            for _, r in report.uncertain.head(_PAGE_ROWS).iterrows()]
    sections.append(("uncertain", f"Uncertain papers ({report.uncertain['id'].nunique()})",
                     f'<p class="note">Model-tagged papers scoring within '
                     f"{report.uncertain_margin:g} of a category's threshold, one row per paper "
                     "and category, closest first; worth a hand label.</p>"
                     + _table(["Paper", "Category", "Score", "Threshold", "Assigned"], rows,
                              {2, 3}) + _page_cut(len(report.uncertain), "uncertain.csv")))
    rows = [[_a(r["title"], r["link"]), f'<span class="date">{_e(r["date"])}</span>',
             _e(r["source"]), label[r["best_category"]], _score(r["best_score"])]
            for _, r in report.uncovered.head(_PAGE_ROWS).iterrows()]
    sections.append(("uncovered", f"Papers in no category ({len(report.uncovered)})",
                     '<p class="note">With the category each came closest to.</p>'
                     + _table(["Paper", "Date", "Source", "Closest category", "Score"], rows,
                              {4}) + _page_cut(len(report.uncovered), "uncovered.csv")))
    blocks = []
    for cid in ids:
        top = report.top_papers[report.top_papers["category"] == cid]
        rows = [[str(r["rank"]), _a(r["title"], r["link"]), _score(r["score"]),
                 _e(r["source"])] for _, r in top.iterrows()]
        blocks.append(f"<div><h3>{label[cid]}</h3>"
                      + _table(["#", "Paper", "Score", "Source"], rows, {0, 2}) + "</div>")
    sections.append(("top", f"Top papers (up to {report.top_n} per category)",
                     f'<div class="grid">{"".join(blocks)}</div>'))
    blocks = []
    for cid in ids:
        papers = report.reading_list[report.reading_list["category"] == cid]
        items = "".join(f"<li>{_a(r['title'], r['link'])}"
                        + (f' <span class="date">{_e(r["date"])}</span>' if r["date"] else "")
                        + "</li>" for _, r in papers.head(_PAGE_ROWS).iterrows())
        blocks.append(f"<details><summary>{label[cid]} ({len(papers)})</summary>"
                      f'<ol class="reading">{items}</ol>'
                      f'{_page_cut(len(papers), "reading_list.csv")}</details>')
    sections.append(("reading", "Reading list", '<p class="note">The papers of each category, '
                     "newest first.</p>" + "".join(blocks)))

    stats = "".join(f'<div class="stat"><b>{_e(n)}</b><span>{_e(what)}</span></div>'
                    for n, what in _totals(report))
    model = f" · model {_e(', '.join(report.models))}" if report.models else ""
    nav = "".join(f'<a href="#{key}">{_e(re.sub(r" [(].*", "", title))}</a>'
                  for key, title, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{_e(title)}</h2>{content}</section>'
                   for key, title, content in sections)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(TITLE)} · {_e(report.generated)}</title><style>{_CSS}</style></head>"
            f'<body><header><div class="wrap"><h1>{_e(TITLE)}</h1>'
            f'<p class="meta">Report of {_e(report.generated)}{model}</p>'
            f'<div class="stats">{stats}</div></div></header>'
            f'<nav><div class="wrap">{nav}</div></nav><main class="wrap">{body}</main>'
            f'<footer class="wrap">Written by <code>taxonomy report</code>. Every table is also '
            f"a CSV file beside this page.</footer></body></html>\n")
