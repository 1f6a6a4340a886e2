"""The labels file: hand labels (id, title, abstract, labels, note), read and checked row by
row against the taxonomy."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DumpError, LabelsError
from ..io.cells import restore
from ..io.delimited import Undecodable, read_rows
from ..io.readlog import ReadLog
from ..io.sniff import decoded_lines, sniff
from .categories import Taxonomy
from .indicator import split_labels, to_indicator

if TYPE_CHECKING:
    import pandas as pd

LABEL_COLUMNS = ("id", "title", "abstract", "labels", "note")
# Below this many positive examples a category cannot be trained or evaluated reliably.
MIN_SUPPORT = 10


@dataclass
class LabeledPapers:
    ids: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    abstracts: list[str] = field(default_factory=list)
    labels: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source: str = ""

    def __len__(self) -> int:
        return len(self.ids)

    def indicator(self, category_ids: Sequence[str]) -> np.ndarray:
        return to_indicator(self.labels, category_ids)

    def frame(self) -> pd.DataFrame:
        """The papers as a DataFrame with 'id', 'title' and 'abstract' columns: what the
        estimator's ``fit`` and ``predict`` take."""
        import pandas as pd

        return pd.DataFrame({"id": self.ids, "title": self.titles, "abstract": self.abstracts})


def read_records(path: Path) -> tuple[list[str], Iterator[tuple[int, list[str]]], ReadLog]:
    """The header and records of a labels CSV; a line that is not UTF-8 or a broken record is
    logged (at the line it starts on) and skipped, never taking the rows after it along."""
    log, bad = ReadLog(), Undecodable()
    try:
        names, rows = read_rows(decoded_lines(sniff(path, "utf-8", "csv"), log, hint=False,
                                              undecodable=bad), str(path), log, undecodable=bad)
    except DumpError as exc:
        raise LabelsError(exc.message.replace("no such file", "no such labels file"),
                          exc.path, exc.line) from None
    return names, rows, log


def check_labels(path: str | os.PathLike, taxonomy: Taxonomy) -> tuple[LabeledPapers, list[str]]:
    """The valid rows of a labels file and one message per problem (file:line: ...), in line
    order."""
    path = Path(path)
    papers = LabeledPapers(source=str(path))
    known = set(taxonomy.ids)
    header, rows, log = read_records(path)
    missing = [c for c in LABEL_COLUMNS[:4] if c not in header]
    if missing:
        raise LabelsError(f"header lacks column(s) {', '.join(missing)}; expected "
                          f"{','.join(LABEL_COLUMNS)}", path, 1)
    seen: dict[str, int] = {}
    found: list[tuple[int, str]] = []
    for line, values in rows:
        if not any(v.strip() for v in values):
            continue
        row = {name: restore(value) for name, value in zip(header, values, strict=True)}
        row_problems = []
        paper_id = row["id"].strip()
        if not paper_id:
            row_problems.append("empty id")
        elif paper_id in seen:
            row_problems.append(f"duplicate id {paper_id!r} (first on line {seen[paper_id]})")
        row_problems += [f"missing {name}" for name in ("title", "abstract")
                         if not row[name].strip()]
        labels = split_labels(row["labels"])
        unknown = [label for label in labels if label not in known]
        if unknown:
            row_problems.append(f"unknown category {', '.join(map(repr, unknown))}; "
                                f"known: {', '.join(taxonomy.ids)}")
        if len(set(labels)) != len(labels):
            row_problems.append("a category is repeated")
        if row_problems:
            found.extend((line, msg) for msg in row_problems)
            continue
        seen[paper_id] = line
        papers.ids.append(paper_id)
        papers.titles.append(row["title"].strip())
        papers.abstracts.append(row["abstract"].strip())
        papers.labels.append([c for c in taxonomy.ids if c in labels])
        papers.notes.append(row.get("note", "").strip())
    found += [(line, _advice(reason)) for _, line, reason in log.skipped]
    problems = [f"{path}:{line}: {msg}" for line, msg in sorted(found, key=lambda f: f[0])]
    if not papers.ids and not problems:
        problems.append(f"{path}:1: no labeled papers; add rows under the header")
    return papers, problems


def _advice(reason: str) -> str:
    if reason.startswith("not "):
        return f"{reason}; re-save the file as UTF-8"
    if "fields where the header has" in reason:
        return f"{reason}; quote fields that contain commas"
    return reason


def load_labels(path: str | os.PathLike, taxonomy: Taxonomy) -> LabeledPapers:
    """A labels file that must be valid; the first problem is raised as a one-line error."""
    papers, problems = check_labels(path, taxonomy)
    if problems:
        more = f" (and {len(problems) - 1} more; run 'taxonomy labels check')" \
            if len(problems) > 1 else ""
        raise LabelsError(problems[0] + more)
    return papers


def support(papers: LabeledPapers, taxonomy: Taxonomy) -> dict[str, int]:
    """Number of hand-labeled papers per category, in taxonomy order."""
    counts = papers.indicator(taxonomy.ids).sum(axis=0)
    return {cid: int(n) for cid, n in zip(taxonomy.ids, counts, strict=True)}


def read_label_column(path: str | os.PathLike, taxonomy: Taxonomy) -> dict[str, list[str]]:
    """id -> labels from any CSV with 'id' and 'labels' columns (e.g. one annotator's pass)."""
    path = Path(path)
    header, rows, log = read_records(path)
    if not {"id", "labels"} <= set(header):
        raise LabelsError("needs 'id' and 'labels' columns", path, 1)
    out: dict[str, list[str]] = {}
    for line, values in rows:
        row = dict(zip(header, values, strict=True))
        labels = split_labels(row["labels"])
        unknown = [label for label in labels if label not in taxonomy.ids]
        if unknown:
            raise LabelsError(f"unknown category {unknown[0]!r}", path, line)
        out[row["id"]] = labels
    if log.skipped:
        _, line, reason = log.skipped[0]
        raise LabelsError(f"{_advice(reason)}; fix this row", path, line)
    return out


def read_column(path: str | os.PathLike, name: str) -> dict[str, str]:
    """id -> the value of column ``name`` of a labels file (empty when it has no such column)."""
    header, rows, _ = read_records(Path(path))
    if name not in header or "id" not in header:
        return {}
    return {row["id"]: row[name] for row in (dict(zip(header, values, strict=True))
                                              for _, values in rows)}


def format_support(papers: LabeledPapers, taxonomy: Taxonomy, shown_path: str) -> str:
    """Labeled papers per category as a terminal table, flagging thin categories."""
    lines = [f"{len(papers)} labeled papers in {shown_path}", f"{'category':<20} {'papers':>6}"]
    for cid, n in support(papers, taxonomy).items():
        flag = f"  (fewer than {MIN_SUPPORT}: too few to train reliably)" if n < MIN_SUPPORT else ""
        lines.append(f"{cid:<20} {n:>6}{flag}")
    none = sum(1 for labels in papers.labels if not labels)
    lines.append(f"{'(none of these)':<20} {none:>6}")
    return "\n".join(lines)
