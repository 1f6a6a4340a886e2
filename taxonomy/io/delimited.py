"""CSV and TSV dumps with a header holding at least 'title' and 'abstract'."""

from __future__ import annotations

import csv
import datetime as dt
import sys
from collections.abc import Iterable, Iterator

from ..errors import DumpError
from .fields import from_fields
from .readlog import ReadLog
from .records import Paper


def read_csv(lines: Iterable[tuple[int, str]], path: str, log: ReadLog,
             reference: dt.date | None = None) -> Iterator[Paper]:
    """Papers from the numbered lines of a CSV or TSV file (the delimiter is judged from the
    header); bad rows are logged and skipped."""
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    numbered = iter(lines)
    position = {"line": 0}

    def texts() -> Iterator[str]:
        for number, text in numbered:
            position["line"] = number
            yield text + "\n"  # keeps line breaks inside quoted fields as white space

    source = texts()
    first = next(source, "")
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        header = next(csv.reader([first], delimiter=delimiter), [])
    except csv.Error as exc:
        raise DumpError(f"malformed CSV header ({exc}); fix the first line", path, 1) from None
    names = [h.strip().lower() for h in header]
    missing = [c for c in ("title", "abstract") if c not in names
               and not (c == "abstract" and "summary" in names)]
    if missing:
        raise DumpError(f"CSV header has no {' or '.join(repr(m) for m in missing)} column; "
                        "add a header row with title and abstract", path, 1)
    reader = csv.reader(source, delimiter=delimiter)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            log.skip(path, position["line"], f"malformed CSV ({exc})")
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(names):
            log.skip(path, position["line"],
                     f"{len(values)} fields where the header has {len(names)}")
            continue
        paper = from_fields(dict(zip(names, values, strict=True)), path, position["line"],
                             log, reference)
        if paper is not None:
            yield paper
