"""Streaming readers for abstract dumps: listing-page text, JSON Lines, CSV, each maybe gzipped.

The format is recognised from the content, never the file name, so a renamed or compressed
dump still reads. Every reader yields :class:`~taxonomy.records.Paper` records one at a time and
records the bad ones it skipped in a :class:`ReadLog`, so a multi-GB dump streams in constant
memory and one broken record never stops a run.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import itertools
import json
import os
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DumpError
from .records import Deduplicator, Paper, clean_text, paper_id

FORMATS = ("listing", "jsonl", "csv", "parquet")

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 64 * 1024
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
# Counts are capped at 9 digits: a longer run is not metadata, and int() would refuse it.
_AUTHORS_LINE = re.compile(r"^•\s*(\d{1,9})\s+authors?$")
_DATE_LINE = re.compile(r"^([A-Z][a-z]{2})\s+(\d{1,2})(?:,\s*(\d{4}))?(?:\s+(\d{1,9}))?$")
_META_DOT = "·"
# Page chrome of a copied paper-listing page; ignored wherever it appears.
_PAGE_CHROME = frozenset({
    "new", "Subscribe", "Get trending papers in your email inbox!", "Daily Papers",
    "byAK and the research community", "Trending Papers", "Papers",
})
_MAX_TITLE_CHARS = 400
_MIN_ABSTRACT_WORDS = 12


@dataclass
class ReadLog:
    """What a read skipped and merged, for the end-of-run report."""

    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    papers: int = 0
    repeats: int = 0

    def skip(self, path: str, line: int, reason: str) -> None:
        self.skipped.append((path, line, reason))

    def summary(self, limit: int = 5) -> str:
        """One line per problem kind, e.g. 'skipped 2 records: a.jsonl:3 (not JSON), ...'."""
        if not self.skipped:
            return ""
        shown = ", ".join(f"{p}:{n} ({why})" for p, n, why in self.skipped[:limit])
        more = f", and {len(self.skipped) - limit} more" if len(self.skipped) > limit else ""
        return f"skipped {len(self.skipped)} bad record(s): {shown}{more}"


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
        papers = _read_parquet(path, log, reference)
    else:
        reader = {"listing": _read_listing, "jsonl": _read_jsonl, "csv": _read_csv}[kind]
        papers = reader(_decoded_lines(path, log), str(path), log, reference)
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


def sniff_format(path: Path) -> str:
    """'parquet', 'jsonl', 'csv' or 'listing', judged from the content."""
    with _open_binary(path) as handle:
        if _read_bytes(handle, path, 4) == _PARQUET_MAGIC:
            return "parquet"
        handle.seek(0)
        head = _read_head(handle, path)
    head = head.removeprefix(b"\xef\xbb\xbf")  # the BOM Excel and Notepad put before UTF-8
    first = next((ln.strip() for ln in head.splitlines() if ln.strip()), b"")
    if first.startswith(b"{"):
        return "jsonl"
    header = first.decode("utf-8", "replace").lower()
    columns = {c.strip().strip('"') for c in re.split(r"[,\t]", header)}
    if len(columns) > 1 and "title" in columns:
        return "csv"  # the CSV reader says which required column is missing, if any
    return "listing"


def gzip_compressed(path: str | os.PathLike) -> bool:
    """True when the file starts with gzip's magic bytes, whatever its name."""
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def _open_binary(path: Path):
    if path.is_dir():
        raise DumpError("is a directory; give the dump files inside it", path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise DumpError("no such file; check the path", path) from None
    except OSError as exc:
        raise DumpError(f"cannot open ({exc.strerror}); check its permissions", path) from None
    if handle.read(2) == _GZIP_MAGIC:
        handle.close()
        return gzip.open(path, "rb")
    handle.seek(0)
    return handle


def _read_bytes(handle, path: Path, size: int) -> bytes:
    try:
        return handle.read(size)
    except (EOFError, OSError, zlib.error):
        raise DumpError("gzip data is truncated or corrupt; re-download the dump", path) from None


def _read_head(handle, path: Path) -> bytes:
    head = _read_bytes(handle, path, _SNIFF_BYTES)
    if not head.strip():
        raise DumpError("file is empty; give a dump with at least one paper", path)
    if b"\x00" in head:
        raise DumpError("looks binary, not a text dump; give a listing page, JSONL or CSV", path)
    return head


def _decoded_lines(path: Path, log: ReadLog) -> Iterator[tuple[int, str]]:
    """(line number, text) pairs; lines that are not UTF-8 are logged and dropped."""
    handle = _open_binary(path)
    with handle:
        head = _read_head(handle, path)
        rest = _chunks(handle, path)
        number = 0
        carry = b""
        decoded_any = False
        for block in itertools.chain([head], rest):
            data = carry + block
            parts = data.split(b"\n")
            carry = parts.pop()
            for raw in parts:
                number += 1
                text = _decode(raw, number == 1)
                if text is None:
                    log.skip(str(path), number, "not UTF-8")
                    continue
                decoded_any = decoded_any or bool(text.strip())
                yield number, text
        if carry:
            number += 1
            text = _decode(carry, number == 1)
            if text is None:
                log.skip(str(path), number, "not UTF-8")
            else:
                decoded_any = decoded_any or bool(text.strip())
                yield number, text
        if not decoded_any:
            raise DumpError("is not UTF-8 text; re-save it as UTF-8", path, 1)


def _chunks(handle, path: Path) -> Iterator[bytes]:
    while True:
        try:
            block = handle.read(1 << 20)
        except (EOFError, OSError, zlib.error):
            raise DumpError("gzip data is truncated or corrupt; re-download the dump",
                            path) from None
        if not block:
            return
        yield block


def _decode(raw: bytes, first: bool) -> str | None:
    try:
        text = raw.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError:
        return None
    return text.rstrip("\r")


# -- dates -----------------------------------------------------------------------------------

def resolve_day(month: int, day: int, year: int | None, reference: dt.date) -> str:
    """ISO date; a date shown without a year is the latest such day on or before ``reference``.

    Listing pages omit the year for dates in the current year, so 'Mar 19' read on 2026-11-22
    is 2026-03-19, and 'Dec 24' read on 2026-01-05 is 2025-12-24. Returns '' for impossible
    dates such as 'Feb 31'.
    """
    if year is not None:
        try:
            return dt.date(year, month, day).isoformat()
        except ValueError:
            return ""
    for candidate in range(reference.year, reference.year - 8, -1):
        try:
            date = dt.date(candidate, month, day)
        except ValueError:
            continue
        if date <= reference:
            return date.isoformat()
    return ""


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_TEXT_DATE = re.compile(r"^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Z][a-z]{2})[a-z]*\s+(\d{4})")


def parse_date(text: str, reference: dt.date) -> str:
    """ISO date from '2024-03-15[...]', 'Mar 15, 2024', 'Mar 15', 'Mon, 2 Apr 2007 ...'; else ''."""
    text = text.strip()
    if match := _ISO_DATE.match(text):
        return resolve_day(int(match[2]), int(match[3]), int(match[1]), reference)
    if match := _DATE_LINE.match(text):
        month = _MONTHS.get(match[1])
        if month:
            return resolve_day(month, int(match[2]), int(match[3]) if match[3] else None,
                               reference)
    if match := _TEXT_DATE.match(text):
        month = _MONTHS.get(match[2][:3])
        if month:
            return resolve_day(month, int(match[1]), int(match[3]), reference)
    return ""


# -- copied paper-listing pages --------------------------------------------------------------

def _paragraphs(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Blank-line separated paragraphs as (first line number, text joined with spaces).

    A paragraph holding a metadata line ('·', '• 3 authors', a date) is split into its lines,
    since listing pages print the metadata block without blank lines between its parts.
    """
    buf: list[tuple[int, str]] = []
    for number, text in lines:
        text = text.strip()
        if text:
            buf.append((number, text))
        elif buf:
            yield from _split_paragraph(buf)
            buf = []
    if buf:
        yield from _split_paragraph(buf)


def _split_paragraph(buf: list[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    if len(buf) > 1 and any(_kind(text) in ("dot", "authors", "date") for _, text in buf):
        yield from buf
    else:
        yield buf[0][0], " ".join(text for _, text in buf)


def _kind(text: str) -> str:
    if text == _META_DOT:
        return "dot"
    if _AUTHORS_LINE.match(text):
        return "authors"
    match = _DATE_LINE.match(text)
    if match and match[1] in _MONTHS:
        return "date"
    if text in _PAGE_CHROME:
        return "chrome"
    return "text"


def _is_abstract(text: str, title: str) -> bool:
    return (len(title) <= _MAX_TITLE_CHARS and len(text) > len(title)
            and len(text.split()) >= _MIN_ABSTRACT_WORDS)


class _Peekable:
    """An iterator that can look a few items ahead: the listing reader needs two."""

    def __init__(self, iterable):
        self._it = iter(iterable)
        self._buf: list = []

    def peek(self, k: int = 0):
        while len(self._buf) <= k:
            item = next(self._it, None)
            if item is None:
                return None
            self._buf.append(item)
        return self._buf[k]

    def pop(self):
        item = self.peek()
        if self._buf:
            self._buf.pop(0)
        return item


def _read_listing(lines, path: str, log: ReadLog, reference: dt.date) -> Iterator[Paper]:
    """Papers of a copied listing page: title, abstract, then an optional metadata block.

    The metadata block is an authors line ('• 9 authors') or an organization line
    ('nvidia NVIDIA'), a line '·', and a date line 'Mon D[, YYYY] [upvotes]'.
    """
    paras = _Peekable((n, t, k) for n, t in _paragraphs(lines) if (k := _kind(t)) != "chrome")
    title: tuple[int, str] | None = None
    current: Paper | None = None  # the last paper, held back until its metadata is read
    seen_paper = False  # lines before the first paper are the page's header
    while (item := paras.pop()) is not None:
        number, text, kind = item
        following = paras.peek()
        if (kind == "text" and following is not None and following[2] == "dot"
                and not (title is not None and _is_abstract(text, title[1]))):
            kind = "org"  # 'nvidia NVIDIA': an organization handle and its display name
        if kind in ("authors", "org", "dot"):
            block = [item]
            while (nxt := paras.peek()) is not None and nxt[2] in ("dot", "date"):
                block.append(paras.pop())
                if nxt[2] == "date" or len(block) == 3:
                    break
            if current is None or title is not None:
                if seen_paper:
                    log.skip(path, number, "metadata with no paper before it")
                continue
            yield _with_metadata(current, block, reference)
            current = None
            continue
        if kind == "date":
            continue  # a date line on its own is the page's date, not a paper's
        if title is not None and _is_abstract(text, title[1]):
            if current is not None:
                yield current
            current = Paper(
                id=paper_id("", title[1]), title=title[1], abstract=text,
                source=f"{path}:{title[0]}",
            )
            title = None
            seen_paper = True
            continue
        if title is not None and seen_paper:
            log.skip(path, title[0], "a title with no abstract after it")
        title = (number, text)
    if current is not None:
        yield current
    if title is not None and seen_paper:
        log.skip(path, title[0], "a title with no abstract after it (truncated page?)")


def _with_metadata(paper: Paper, block, reference: dt.date) -> Paper:
    for _, text, kind in block:
        if kind == "authors":
            paper.n_authors = int(_AUTHORS_LINE.match(text)[1])
        elif kind in ("org", "text"):
            handle, _, name = text.partition(" ")
            paper.organization = name.strip() or handle
        elif kind == "date":
            match = _DATE_LINE.match(text)
            paper.date = resolve_day(_MONTHS[match[1]], int(match[2]),
                                     int(match[3]) if match[3] else None, reference)
            paper.upvotes = int(match[4]) if match[4] else None
    return paper


# -- JSON Lines and CSV ------------------------------------------------------------------------

def paper_from_fields(row: dict, path: str, line: int, log: ReadLog,
                      reference: dt.date | None = None) -> Paper | None:
    """A Paper from a JSON object, CSV row or Parquet row; None (and a logged skip) when the
    row has no title or abstract."""
    return _from_fields(row, path, line, log, reference or dt.date.today())


def read_json_lines(lines: Iterable[tuple[int, str]], path: str, log: ReadLog,
                    reference: dt.date | None = None) -> Iterator[Paper]:
    """Papers from numbered JSON Lines; bad lines are logged and skipped."""
    return _read_jsonl(lines, path, log, reference or dt.date.today())


def _from_fields(row: dict, path: str, line: int, log: ReadLog, reference: dt.date) -> Paper | None:
    """A Paper from a JSON object or CSV row; logs and returns None when it is unusable."""
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    title = clean_text(_text(lowered.get("title")))
    abstract = clean_text(_text(lowered.get("abstract") or lowered.get("summary")))
    if not title or not abstract:
        log.skip(path, line, "no title" if not title else "no abstract")
        return None
    url = _text(lowered.get("url") or lowered.get("link")).strip()
    given = _text(lowered.get("id") or lowered.get("arxiv_id")).strip()
    date = _record_date(lowered, reference)
    return Paper(
        id=paper_id(given, title, url),
        title=title,
        abstract=abstract,
        date=date,
        n_authors=_count_authors(lowered),
        organization=clean_text(_text(lowered.get("organization"))),
        upvotes=_int_or_none(lowered.get("upvotes")),
        url=url,
        source=f"{path}:{line}",
    )


def _text(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return str(value)


def _record_date(row: dict, reference: dt.date) -> str:
    for key in ("date", "published", "published_date"):
        if row.get(key):
            return parse_date(_text(row[key]), reference)
    versions = row.get("versions")
    if isinstance(versions, list) and versions and isinstance(versions[0], dict):
        date = parse_date(_text(versions[0].get("created")), reference)
        if date:
            return date
    if row.get("update_date"):
        return parse_date(_text(row["update_date"]), reference)
    return ""


def _count_authors(row: dict) -> int | None:
    parsed = row.get("authors_parsed")
    if isinstance(parsed, list):
        return len(parsed)
    for key in ("n_authors", "num_authors"):
        count = _int_or_none(row.get(key))
        if count is not None:
            return count
    authors = row.get("authors")
    if isinstance(authors, list):
        return len(authors)
    text = clean_text(_text(authors))
    if not text:
        return None
    names = [n for n in re.split(r",|;|\band\b", text) if n.strip()]
    return len(names)


def _int_or_none(value) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    if number != number or abs(number) > 1e12:
        return None
    return int(number)


def _read_jsonl(lines, path: str, log: ReadLog, reference: dt.date) -> Iterator[Paper]:
    for number, text in lines:
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except (ValueError, RecursionError):
            log.skip(path, number, "not valid JSON")
            continue
        if not isinstance(row, dict):
            log.skip(path, number, "not a JSON object")
            continue
        paper = _from_fields(row, path, number, log, reference)
        if paper is not None:
            yield paper


def _read_csv(lines, path: str, log: ReadLog, reference: dt.date) -> Iterator[Paper]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    numbered = iter(lines)
    position = {"line": 0}

    def texts():
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
        paper = _from_fields(dict(zip(names, values, strict=True)), path, position["line"],
                             log, reference)
        if paper is not None:
            yield paper


def _read_parquet(path: Path, log: ReadLog, reference: dt.date) -> Iterator[Paper]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        names = {n.lower() for n in parquet.schema_arrow.names}
        if not {"title", "abstract"} <= names:
            raise DumpError("Parquet file has no 'title' and 'abstract' columns; add them", path)
        row = 0
        for batch in parquet.iter_batches(batch_size=10_000):
            for record in batch.to_pylist():
                row += 1
                paper = _from_fields(record, str(path), row, log, reference)
                if paper is not None:
                    yield paper
    except DumpError:
        raise
    except Exception as exc:  # pyarrow raises many types for damaged files
        raise DumpError(f"unreadable Parquet ({type(exc).__name__}); re-export the file",
                        path) from None


# -- the inverse of the listing reader, for tests and synthetic dumps -----------------------------

def to_listing_text(papers: Iterable[Paper]) -> str:
    """A listing page that :func:`read_file` reads back into the same papers."""
    out = ["Daily Papers", ""]
    for paper in papers:
        out += [paper.title, "", paper.abstract, ""]
        if paper.date:
            who = (f"  • {paper.n_authors} authors" if paper.n_authors is not None
                   else f"{paper.organization.split()[0]} {paper.organization}"
                   if paper.organization else "")
            date = dt.date.fromisoformat(paper.date)
            shown = f"{date:%b} {date.day}, {date.year}"
            if paper.upvotes is not None:
                shown += f" {paper.upvotes}"
            out += ([who] if who else []) + [_META_DOT, shown, ""]
    return "\n".join(out) + "\n"
