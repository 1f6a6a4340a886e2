"""Streaming readers for abstract dumps: listing-page text, JSON Lines, CSV, Parquet, each
maybe gzipped.

The format is recognised from the content, never the file name, so a renamed or compressed
dump still reads. Every reader streams :class:`~taxonomy.io.columns.PaperBatch` batches
(columns, as the tagger reads them; ``read_file`` and ``read_papers`` give
:class:`~taxonomy.io.records.Paper` records) and records the bad records it skipped in a
:class:`ReadLog`, so a multi-GB dump streams in constant memory and one broken record never
stops a run. JSON Lines and Parquet are parsed by Arrow a block at a time; listing pages and
CSV by their own streaming parsers.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import DumpError
from .columns import PaperBatch, batches_of
from .delimited import Undecodable, missing_columns, read_csv, read_rows
from .jsonl import read_jsonl_batches
from .listing import read_listing
from .parquet import parquet_columns, read_parquet_batches
from .readlog import ReadLog
from .records import Deduplicator, Paper
from .sniff import decoded_lines, encoding_name, sniff

FORMATS = ("listing", "jsonl", "csv", "parquet")


def check_inputs(paths: Iterable[str | os.PathLike], *, fmt: str | None = None,
                 encoding: str | None = None) -> None:
    """Check every input before any long work starts: it exists, is readable, is not empty or
    binary, and its format is recognised (a CSV's header names 'title' and 'abstract', a
    Parquet file has those columns). Raises the first problem, counting the others."""
    problems: list[DumpError] = []
    for path in paths:
        try:
            _check(Path(path), fmt, encoding)
        except DumpError as exc:
            problems.append(exc)
    if problems:
        first = problems[0]
        more = (f" (and {len(problems) - 1} more input(s) with problems)"
                if len(problems) > 1 else "")
        raise DumpError(first.message + more, first.path, first.line)


def _check(path: Path, fmt: str | None, encoding: str | None) -> None:
    if fmt is not None and fmt not in FORMATS:
        raise DumpError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    sniffed = sniff(path, encoding, fmt)
    if sniffed.format == "csv":
        log = ReadLog()
        names, _ = read_rows(decoded_lines(path, log, sniffed.encoding), str(path), log)
        missing_columns(names, path)
    elif sniffed.format == "parquet":
        parquet_columns(path)


def read_papers(
    paths: Iterable[str | os.PathLike],
    *,
    log: ReadLog | None = None,
    reference_date: dt.date | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
    dedupe: Deduplicator | None = None,
) -> Iterator[Paper]:
    """Every paper in ``paths``, each unique paper once (see :class:`Deduplicator`)."""
    for batch in read_unique_batches(paths, log=log, reference_date=reference_date, fmt=fmt,
                                     encoding=encoding, dedupe=dedupe):
        yield from batch.papers()


def read_unique_batches(
    paths: Iterable[str | os.PathLike],
    *,
    log: ReadLog | None = None,
    reference_date: dt.date | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
    dedupe: Deduplicator | None = None,
) -> Iterator[PaperBatch]:
    """Every paper in ``paths`` a batch at a time, each unique paper once, in first-seen
    order (see :class:`Deduplicator`)."""
    log = log if log is not None else ReadLog()
    dedupe = dedupe if dedupe is not None else Deduplicator()
    for path in paths:
        for batch in read_batches(path, log=log, fmt=fmt, encoding=encoding,
                                  reference_date=reference_date):
            firsts = dedupe.first_seen(batch.columns["id"], batch.columns["title"], batch.paper)
            if len(firsts) < len(batch):
                batch = batch.take(firsts)
            log.papers += len(batch)
            if len(batch):
                yield batch
    log.repeats = dedupe.repeats


def read_file(
    path: str | os.PathLike,
    *,
    log: ReadLog | None = None,
    reference_date: dt.date | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
) -> Iterator[Paper]:
    """Papers of one dump, in file order (repeats included)."""
    for batch in read_batches(path, log=log, reference_date=reference_date, fmt=fmt,
                              encoding=encoding):
        yield from batch.papers()


def read_batches(
    path: str | os.PathLike,
    *,
    log: ReadLog | None = None,
    reference_date: dt.date | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
) -> Iterator[PaperBatch]:
    """Papers of one dump a batch at a time, as columns, in file order (repeats included):
    JSON Lines and Parquet through Arrow (see ``columns``), listing pages and CSV from their
    streaming readers."""
    log = log if log is not None else ReadLog()
    path = Path(path)
    if fmt is not None and fmt not in FORMATS:
        raise DumpError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    sniffed = sniff(path, encoding, fmt)
    kind = sniffed.format
    reference = reference_date or dt.date.today()
    batches: Iterator[PaperBatch]
    if kind == "parquet":
        batches = read_parquet_batches(path, log, reference)
    elif kind == "jsonl":
        batches = read_jsonl_batches(path, sniffed.encoding, log, reference)
    elif kind == "csv":  # records span lines: a line that does not decode spoils its record
        bad = Undecodable(f"not {encoding_name(path, sniffed.encoding)}")
        batches = batches_of(read_csv(decoded_lines(path, log, sniffed.encoding,
                                                       undecodable=bad),
                                         str(path), log, reference, bad), str(path))
    else:
        batches = batches_of(read_listing(decoded_lines(path, log, sniffed.encoding),
                                             str(path), log, reference), str(path))
    found = 0
    for batch in batches:
        found += len(batch)
        yield batch
    if not found:
        own = [entry for entry in log.skipped if entry[0] == str(path)]
        if own:
            _, line, reason = own[0]
            advice = ("re-save it as UTF-8, or give its encoding with --encoding (for example "
                      "--encoding latin-1)" if reason.startswith("not ")
                      else "fix the records or the file's format")
            raise DumpError(f"no usable papers: {len(own)} record(s) skipped, the first at line "
                            f"{line} ({reason}); {advice}", path)
        hint = {
            "listing": "expected a copied paper-listing page (a title line, then its abstract)",
            "jsonl": "expected one JSON object per line with 'title' and 'abstract'",
            "csv": "expected a CSV header with 'title' and 'abstract' columns",
            "parquet": "expected 'title' and 'abstract' columns",
        }[kind]
        raise DumpError(f"no papers found ({hint})", path)
