"""Unique papers of abstract dumps, repeats merged, as one table: in memory, or written to CSV /
JSONL / Parquet (what `taxonomy parse` does)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING

from .readers import ReadLog, check_inputs, read_papers
from .records import PAPER_COLUMNS, Deduplicator, Paper
from .sniff import Source
from .writers import TableWriter, refuse_inputs

if TYPE_CHECKING:
    import pandas as pd

CHUNK = 5_000


def chunked(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def papers_frame(papers: list[Paper]) -> pd.DataFrame:
    """Papers as a DataFrame with the output columns and nullable integer counts."""
    import pandas as pd

    frame = pd.DataFrame([p.to_dict() for p in papers], columns=list(PAPER_COLUMNS))
    return frame.astype({"n_authors": "Int64", "upvotes": "Int64"})


def learn_repeats(sources: list[Source], log: ReadLog, reference_date: dt.date | None
                  ) -> Deduplicator:
    """A first read of the inputs, so that a second read gives each paper whole (with what its
    repeats bring) the first time it is seen, and its row is written once."""
    learned = Deduplicator()
    for _ in read_papers(sources, log=log, reference_date=reference_date, dedupe=learned):
        pass
    return Deduplicator(learned=learned)


def parse_to_file(
    inputs: list[str | os.PathLike],
    out: str | os.PathLike,
    *,
    reference_date: dt.date | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
) -> ReadLog:
    """Write every unique paper of ``inputs`` to ``out`` (CSV / JSONL / Parquet); every input
    is checked first, and ``out`` must not be one of them."""
    sources = check_inputs(inputs, fmt=fmt, encoding=encoding)
    refuse_inputs(out, inputs)
    log = ReadLog()
    dedupe = learn_repeats(sources, log, reference_date)
    papers = read_papers(sources, log=ReadLog(), reference_date=reference_date, dedupe=dedupe)
    with TableWriter(out) as writer:
        for batch in chunked(papers, CHUNK):
            writer.write(papers_frame(batch))
    return log


def parse_papers(
    inputs: list[str | os.PathLike],
    *,
    reference_date: dt.date | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
) -> tuple[list[Paper], ReadLog]:
    """All unique papers of ``inputs`` in memory, repeats merged (for small inputs)."""
    sources = check_inputs(inputs, fmt=fmt, encoding=encoding)
    log, dedupe = ReadLog(), Deduplicator()
    papers = list(read_papers(sources, log=log, reference_date=reference_date, dedupe=dedupe))
    if dedupe.updates:
        papers = [Paper(**dedupe.updated(paper.to_dict())) for paper in papers]
    return papers, log


def format_papers(papers: list[Paper]) -> str:
    """Papers as a short terminal table: id, date and title."""
    lines = [f"{'id':<14} {'date':<10} title"]
    lines += [f"{p.id:<14} {p.date or '-':<10} "
              f"{p.title if len(p.title) <= 70 else p.title[:69] + '…'}" for p in papers]
    return "\n".join(lines)
