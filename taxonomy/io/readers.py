"""Streaming readers for abstract dumps of any format (judged from the content, never the
name): each input is sniffed once, read by its format's reader, and bad records are skipped
into a :class:`ReadLog`, so a multi-GB dump streams and one broken record never stops a run."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import DumpError
from .delimited import Undecodable, read_csv
from .fields import open_parquet, read_jsonl, read_parquet
from .listing import read_listing
from .readlog import MAX_ABSTRACT_CHARS, MAX_TITLE_CHARS, ReadLog
from .records import Deduplicator, Paper
from .sniff import ENCODING_ADVICE, Source, decoded_lines, sniff

FORMATS = ("listing", "jsonl", "csv", "parquet")
Input = str | os.PathLike | Source


def check_inputs(paths: Iterable[Input], *, fmt: str | None = None,
                 encoding: str | None = None) -> list[Source]:
    """Check every input before any long work: readable, not empty or binary, of a known format
    with 'title' and 'abstract'. Returns the sources; raises the first problem, counting others."""
    problems: list[DumpError] = []
    sources: list[Source] = []
    for path in paths:
        try:
            sources.append(_check(path, fmt, encoding))
        except DumpError as exc:
            problems.append(exc)
    if problems:
        first = problems[0]
        more = (f" (and {len(problems) - 1} more input(s) with problems)"
                if len(problems) > 1 else "")
        raise DumpError(first.message + more, first.path, first.line)
    return sources


def _check(given: Input, fmt: str | None, encoding: str | None) -> Source:
    """The input as sniffed, its header checked; a small input is read whole now, so one
    without a single paper is refused before the long work on the others."""
    source = _source(given, fmt, encoding)
    if source.format == "csv":  # its header, checked as its head's first paper is read
        log = ReadLog()
        next(read_csv(decoded_lines(source, log, head_only=True), str(source.path), log, {}),
             None)
    elif source.format == "parquet":
        open_parquet(source.path)  # checks its columns
    if source.whole and source.format != "parquet":
        next(read_file(source, log=ReadLog()), None)
    return source


def _source(given: Input, fmt: str | None, encoding: str | None) -> Source:
    """The input as sniffed: a :class:`Source` as it is, a path sniffed now."""
    if isinstance(given, Source):
        return given
    if fmt is not None and fmt not in FORMATS:
        raise DumpError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return sniff(Path(given), encoding, fmt)


def read_papers(
    inputs: Iterable[Input],
    *,
    log: ReadLog | None = None,
    reference_date: dt.date | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
    dedupe: Deduplicator | None = None,
) -> Iterator[Paper]:
    """Every paper in ``inputs`` (paths, or sources from :func:`check_inputs`), each unique
    paper once, in first-seen order (see :class:`Deduplicator`, whose new notes go to ``log``)."""
    log = log if log is not None else ReadLog()
    dedupe = dedupe if dedupe is not None else Deduplicator()
    noted = len(dedupe.notes)  # a learned deduplicator holds the notes of its first read
    for given in inputs:
        for paper in dedupe(read_file(given, log=log, reference_date=reference_date, fmt=fmt,
                                      encoding=encoding)):
            log.papers += 1
            yield paper
    log.repeats = dedupe.repeats
    log.notes += dedupe.notes[noted:]


def read_file(
    path: Input,
    *,
    log: ReadLog | None = None,
    reference_date: dt.date | None = None,
    fmt: str | None = None,
    encoding: str | None = None,
) -> Iterator[Paper]:
    """Papers of one dump (a path, or a source from :func:`check_inputs`), in file order
    (repeats included)."""
    log = log if log is not None else ReadLog()
    source = _source(path, fmt, encoding)
    name = str(source.path)
    reference = reference_date or dt.date.today()
    papers: Iterator[Paper]
    if source.format == "parquet":
        papers = read_parquet(source.path, log, reference)
    elif source.format == "jsonl":
        papers = read_jsonl(decoded_lines(source, log), name, log, reference)
    elif source.format == "csv":  # records span lines: a line that does not decode spoils it
        bad: Undecodable = {}
        papers = read_csv(decoded_lines(source, log, undecodable=bad), name, log, bad,
                          reference)
    else:
        papers = read_listing(decoded_lines(source, log), name, log, reference)
    found = False
    for paper in papers:
        found = True
        if len(paper.title) > MAX_TITLE_CHARS or len(paper.abstract) > MAX_ABSTRACT_CHARS:
            paper.title = paper.title[:MAX_TITLE_CHARS]  # cut to the caps; the cut is logged
            paper.abstract = paper.abstract[:MAX_ABSTRACT_CHARS]
            log.truncated.append(paper.source or paper.id)
        yield paper
    if found:
        return
    own = [entry for entry in log.skipped if entry[0] == name]
    if own:  # no paper: why its records were skipped, else what its format expects
        _, line, reason = own[0]
        advice = (ENCODING_ADVICE if reason.startswith("not ")
                  else "fix the records or the file's format")
        raise DumpError(f"no usable papers: {len(own)} record(s) skipped, the first at line "
                        f"{line} ({reason}); {advice}", source.path)
    hint = {
        "listing": "expected a copied paper-listing page (a title line, then its abstract)",
        "jsonl": "expected one JSON object per line with 'title' and 'abstract'",
        "csv": "expected a CSV header with 'title' and 'abstract' columns",
        "parquet": "expected 'title' and 'abstract' columns",
    }[source.format]
    raise DumpError(f"no papers found ({hint})", source.path)
