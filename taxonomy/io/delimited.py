"""CSV and TSV files (comma, tab or semicolon separated) with a header row, read record by
record. A record with broken quoting is re-read as its one line with quotes as text, else
skipped; reading resumes at the next line, so one bad record never takes others along."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator

from ..errors import DumpError
from .fields import from_fields
from .readlog import ReadLog
from .records import Paper
from .sniff import MAX_LINE_BYTES, Lookahead, header_delimiter

# A multi-line quoted record longer than this is taken for broken quoting.
_MAX_RECORD_LINES = 5_000

Line = tuple[int, str]
# The lines that did not decode, by number, with why ('not UTF-8'): see ``decoded_lines``.
Undecodable = dict[int, str]


class _TooLong(Exception):
    pass


def read_rows(lines: Iterable[Line], path: str, log: ReadLog, undecodable: Undecodable
              ) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header (lower-cased names) and the records as (first line, values); bad records,
    and those with a line in ``undecodable`` (see ``decoded_lines``), are logged and skipped."""
    csv.field_size_limit(2**31 - 1)  # the largest every platform's C long holds
    source = Lookahead(lines)
    first = source.next()
    while first is not None and not first[1].strip():
        first = source.next()
    if first is None:
        raise DumpError("file is empty; give a header row and records", path)
    delimiter = header_delimiter(first[1]) or ","
    try:
        header = next(csv.reader([first[1]], delimiter=delimiter, strict=True), [])
    except csv.Error as exc:
        raise DumpError(f"malformed CSV header ({exc}); fix the first line", path,
                        first[0]) from None
    names = [h.strip().lower().removeprefix("\ufeff") for h in header]
    twice = next((n for i, n in enumerate(names) if n and n in names[:i]), None)
    if twice is not None:
        raise DumpError(f"the header names column {twice!r} twice; rename or drop one of "
                        "them", path, first[0])
    return names, _records(source, len(names), delimiter, path, log, undecodable)


def _records(source: Lookahead[Line], width: int, delimiter: str, path: str, log: ReadLog,
             undecodable: Undecodable) -> Iterator[tuple[int, list[str]]]:
    while (item := source.next()) is not None:
        number, text = item
        if not text.strip():
            continue
        if '"' not in text:
            values, last = text.split(delimiter), number
            problem = _width_problem(values, width)
        else:
            values, problem, last = _quoted(item, source, delimiter, width)
        if problem is None:  # the whole record: its lines stay together
            problem = next((undecodable[n] for n in range(number, last + 1)
                            if n in undecodable), None)
        if problem is None:
            yield number, values
        else:
            log.skip(path, number, problem)


def _quoted(first: Line, source: Lookahead[Line], delimiter: str, width: int
            ) -> tuple[list[str], str | None, int]:
    """A record whose first line holds a quote: its values or a problem to report, and the
    number of its last line (see the module's docstring)."""
    pulled: list[Line] = []

    def more() -> Iterator[str]:
        yield first[1] + "\n"  # keeps line breaks inside quoted fields as white space
        size = len(first[1])
        while (item := source.next()) is not None:
            pulled.append(item)
            size += len(item[1])
            if len(pulled) > _MAX_RECORD_LINES or size > MAX_LINE_BYTES:  # a line's cap
                raise _TooLong
            yield item[1] + "\n"

    try:
        values = next(csv.reader(more(), delimiter=delimiter, strict=True))
        problem = _width_problem(values, width)
    except csv.Error as exc:
        values, problem = [], f"malformed CSV ({exc})"
    except _TooLong:
        values, problem = [], ("a quoted field that never ends" if len(pulled) > _MAX_RECORD_LINES
                               else f"a record longer than {MAX_LINE_BYTES >> 20} MB")
    if problem is None:
        return values, None, pulled[-1][0] if pulled else first[0]
    source.push_back(pulled)  # resynchronize: the next record starts on the next line
    literal = first[1].split(delimiter)
    if _width_problem(literal, width) is None:
        return literal, None, first[0]
    return [], problem, first[0]


def _width_problem(values: list[str], width: int) -> str | None:
    return None if len(values) == width else f"{len(values)} fields where the header has {width}"


def read_csv(lines: Iterable[Line], path: str, log: ReadLog, undecodable: Undecodable,
             reference: dt.date | None = None) -> Iterator[Paper]:
    """Papers from the numbered lines of a CSV, TSV or semicolon-separated file with a header
    naming at least 'title' and 'abstract'; bad records are logged and skipped."""
    names, rows = read_rows(lines, path, log, undecodable)
    missing = [c for c in ("title", "abstract") if c not in names
               and not (c == "abstract" and "summary" in names)]
    if missing:
        raise DumpError(f"CSV header has no {' or '.join(repr(m) for m in missing)} column; "
                        "add a header row with title and abstract", path, 1)
    for number, values in rows:
        if not any(v.strip() for v in values):
            continue
        paper = from_fields(dict(zip(names, values, strict=True)), path, number, log, reference)
        if paper is not None:
            yield paper
