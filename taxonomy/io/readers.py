"""Streaming readers for abstract dumps: listing-page text, JSON Lines, CSV, Parquet, each
maybe gzipped.

The format is recognised from the content, never the file name, so a renamed or compressed
dump still reads. Every reader yields :class:`~taxonomy.io.records.Paper` records one at a time
and records the bad ones it skipped in a :class:`ReadLog`, so a multi-GB dump streams in
constant memory and one broken record never stops a run.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import DumpError
from .delimited import read_csv
from .jsonl import read_jsonl
from .listing import read_listing
from .parquet import read_parquet
from .readlog import ReadLog
from .records import Deduplicator, Paper
from .sniff import decoded_lines, sniff_format

FORMATS = ("listing", "jsonl", "csv", "parquet")


def read_papers(
    paths: Iterable[str | os.PathLike],
    *,
    log: ReadLog | None = None,
    reference_date: dt.date | None = None,
    fmt: str | None = None,
    dedupe: Deduplicator | None = None,
) -> Iterator[Paper]:
    """Every paper in ``paths``, each unique paper once (see :class:`Deduplicator`)."""
    log = log if log is not None else ReadLog()
    dedupe = dedupe if dedupe is not None else Deduplicator()
    stream = (p for path in paths for p in read_file(path, log=log,
                                                      reference_date=reference_date, fmt=fmt))
    for paper in dedupe(stream):
        log.papers += 1
        yield paper
    log.repeats = dedupe.repeats


def read_file(
    path: str | os.PathLike,
    *,
    log: ReadLog | None = None,
    reference_date: dt.date | None = None,
    fmt: str | None = None,
) -> Iterator[Paper]:
    """Papers of one dump, in file order (repeats included)."""
    log = log if log is not None else ReadLog()
    path = Path(path)
    kind = fmt or sniff_format(path)
    if kind not in FORMATS:
        raise DumpError(f"unknown format {kind!r}; use one of {', '.join(FORMATS)}")
    reference = reference_date or dt.date.today()
    if kind == "parquet":
        papers = read_parquet(path, log, reference)
    else:
        reader = {"listing": read_listing, "jsonl": read_jsonl, "csv": read_csv}[kind]
        papers = reader(decoded_lines(path, log), str(path), log, reference)
    found = 0
    for paper in papers:
        found += 1
        yield paper
    if not found:
        own = [entry for entry in log.skipped if entry[0] == str(path)]
        if own:
            _, line, reason = own[0]
            raise DumpError(f"no usable papers: {len(own)} record(s) skipped, the first at line "
                            f"{line} ({reason}); fix the records or the file's format", path)
        hint = {
            "listing": "expected a copied paper-listing page (a title line, then its abstract)",
            "jsonl": "expected one JSON object per line with 'title' and 'abstract'",
            "csv": "expected a CSV header with 'title' and 'abstract' columns",
            "parquet": "expected 'title' and 'abstract' columns",
        }[kind]
        raise DumpError(f"no papers found ({hint})", path)
