"""A reviewed queue (``taxonomy review``'s file) merged into a labels file: rows still ``?``
are left out, a held paper is kept (a conflict if its labels differ), new rows appended."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LabelsError
from ..io.atomic import atomic_path, exclusive
from ..io.cells import neutralize, restore
from ..io.records import title_key
from .categories import Taxonomy
from .indicator import join_labels, split_labels
from .labelfile import LABEL_COLUMNS, LabeledPapers, load_labels, read_records

PLACEHOLDER = "?"


@dataclass
class Conflict:
    line: int
    id: str
    queued: list[str]
    existing_id: str
    existing: list[str]


@dataclass
class MergeResult:
    added: list[str] = field(default_factory=list)
    unreviewed: int = 0
    already: int = 0
    conflicts: list[Conflict] = field(default_factory=list)


def read_queue(path: str | os.PathLike, taxonomy: Taxonomy
               ) -> tuple[list[tuple[int, dict[str, str], list[str]]], int]:
    """The reviewed rows of a queue file as (line, row, labels), and how many still hold the
    placeholder; any problem raises LabelsError naming the file and line."""
    path = Path(path)
    header, rows, log = read_records(path)
    lacking = [c for c in LABEL_COLUMNS[:4] if c not in header]
    if lacking:
        raise LabelsError(f"is not a review queue or labels file (no {', '.join(lacking)} "
                          "column); give the file 'taxonomy review' wrote", path, 1)
    reviewed, unreviewed = [], 0
    first_line: dict[str, int] = {}
    for line, values in rows:
        row = {name: restore(value) for name, value in zip(header, values, strict=True)}
        text = row["labels"].strip()
        if text == PLACEHOLDER:
            unreviewed += 1
            continue
        labels = split_labels(text)
        if any(label.lower() == "none" for label in labels):
            if len(labels) > 1:
                raise LabelsError(f"'{text}' names categories and 'none'; write either the "
                                  "categories (';'-separated) or 'none'; nothing was merged",
                                  path, line)
            labels = []
        unknown = [label for label in labels if label not in taxonomy.ids]
        if unknown:
            raise LabelsError(f"unknown category {unknown[0]!r}; use {', '.join(taxonomy.ids)} "
                              f"(';'-separated), 'none', or leave '{PLACEHOLDER}' to skip the "
                              "paper; nothing was merged", path, line)
        if not row["id"].strip() or not row["title"].strip() or not row["abstract"].strip():
            raise LabelsError("a reviewed row needs an id, a title and an abstract; nothing "
                              "was merged", path, line)
        paper_id = row["id"].strip()
        if paper_id in first_line:
            raise LabelsError(f"id {paper_id!r} is queued twice (first on line "
                              f"{first_line[paper_id]}); keep one row for it; nothing was "
                              "merged", path, line)
        first_line[paper_id] = line
        reviewed.append((line, row, labels))
    if log.skipped:
        _, line, reason = log.skipped[0]
        raise LabelsError(f"{reason}; fix this row (nothing was merged)", path, line)
    return reviewed, unreviewed


def merge_queue(queue: str | os.PathLike, into: str | os.PathLike, taxonomy: Taxonomy,
                on_wait: Callable[[], None] | None = None) -> MergeResult:
    """Append the reviewed rows of ``queue`` to the labels file ``into`` (created if missing),
    atomically and holding it against concurrent writers."""
    reviewed, unreviewed = read_queue(queue, taxonomy)
    into = Path(into)
    result = MergeResult(unreviewed=unreviewed)
    with exclusive(into, on_wait):
        existing = load_labels(into, taxonomy) if into.exists() else LabeledPapers()
        # Each paper held as (id, labels) under its id and under its title's key.
        held: dict[tuple[str, str], tuple[str, list[str]]] = {}
        for paper_id, title, labels in zip(existing.ids, existing.titles, existing.labels,
                                           strict=True):
            held["id", paper_id] = held["title", title_key(title)] = (paper_id, labels)
        new_rows = []
        for line, row, labels in reviewed:
            found = held.get(("id", row["id"])) or held.get(("title", title_key(row["title"])))
            if found is not None:
                if sorted(found[1]) == sorted(labels):
                    result.already += 1
                else:
                    result.conflicts.append(Conflict(line, row["id"], labels, *found))
                continue
            held["id", row["id"]] = held["title", title_key(row["title"])] = (row["id"], labels)
            # One line per row, whatever white space the spreadsheet left in a cell.
            new_rows.append([" ".join(row[name].split()) for name in ("id", "title", "abstract")]
                            + [join_labels(labels), " ".join(row.get("note", "").split())])
            result.added.append(row["id"])
        if not new_rows:
            return result
        old = into.read_bytes() if into.exists() else b""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n" if b"\r\n" in old[:4096] else "\n")
        if not old:
            writer.writerow(LABEL_COLUMNS)
        writer.writerows([[neutralize(cell) for cell in row] for row in new_rows])
        if old and not old.endswith(b"\n"):
            old += b"\n"
        with atomic_path(into) as tmp:
            tmp.write_bytes(old + buffer.getvalue().encode("utf-8"))
    return result


def format_conflicts(result: MergeResult, queue: str) -> str:
    lines = [f"{len(result.conflicts)} paper(s) of {queue} already have other hand labels; "
             "they were left as they are (fix them in the labels file by hand if the queue "
             "is right):"]
    for c in result.conflicts:
        lines.append(f"  {queue}:{c.line}: {c.id}: queue says {join_labels(c.queued) or 'none'}, "
                     f"labels file has {join_labels(c.existing) or 'none'}"
                     + (f" (as {c.existing_id})" if c.existing_id != c.id else ""))
    return "\n".join(lines)
