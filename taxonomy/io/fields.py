"""A paper from the fields of one record (a JSON object, a CSV row or a Parquet row), and the
readers of JSON Lines and Parquet dumps, whose records are such fields as they are."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import numbers
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from ..errors import DumpError
from .dates import parse_date
from .readlog import ReadLog
from .records import Paper, clean_text, paper_id


def from_fields(row: dict, path: str, line: int, log: ReadLog,
                reference: dt.date | None = None) -> Paper | None:
    """A Paper from a JSON object, CSV row or Parquet row; None (and a logged skip) when the
    row has no title or abstract, or a value of the wrong type (see ``wrong_type``). Dates
    without a year resolve against ``reference`` (default: today)."""
    reference = reference or dt.date.today()
    lowered = row if row.keys() <= _PLAIN_KEYS else _lowered(row)
    wrong = wrong_type(lowered)
    if wrong:
        log.skip(path, line, wrong)
        return None
    title = clean_text(_text(lowered.get("title")))
    abstract = clean_text(_text(lowered.get("abstract") or lowered.get("summary")))
    if not title or not abstract:
        log.skip(path, line, "no title" if not title else "no abstract")
        return None
    url = _text(lowered.get("url") or lowered.get("link")).strip()
    return Paper(
        id=paper_id(_text(lowered.get("id") or lowered.get("arxiv_id")), title, url),
        title=title,
        abstract=abstract,
        date=_record_date(lowered, reference),
        n_authors=_count_authors(lowered),
        organization=clean_text(_text(lowered.get("organization"))),
        upvotes=_int_or_none(lowered.get("upvotes")),
        url=url,
        source=f"{path}:{line}",
    )


# The types each field may hold (a missing value aside): text fields are text, an id may be
# a number (row numbers), counts are numbers or their text. Anything else (a list, an object,
# true/false, bytes) would be turned into some text and tagged as if the dump said it.
_TEXT = (str,)
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "title": _TEXT, "abstract": _TEXT, "summary": _TEXT, "url": _TEXT, "link": _TEXT,
    "organization": _TEXT, "id": (str, numbers.Real), "arxiv_id": (str, numbers.Real),
}
TEXT_FIELDS = frozenset(name for name, types in _FIELD_TYPES.items() if types is _TEXT)


def wrong_type(row: dict) -> str:
    """Why a record's fields (keys lower-case) cannot be read as a paper's, or '' when they
    can: the first field whose value is not of its type, e.g. 'a title of type list (not
    text)'. The one rule for every reader and for papers given to the API."""
    for name, types in _FIELD_TYPES.items():
        value = row.get(name)
        if type(value) is str:  # the usual case, right for every field
            continue
        if value is None or (isinstance(value, float) and value != value) or \
                type(value).__name__ in ("NAType", "NaTType"):  # pandas' missing values
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            want = "text" if types is _TEXT else "text or a number"
            return f"{'an' if name[0] in 'aeiou' else 'a'} {name} of type " \
                   f"{_TYPE_NAMES.get(type(value), type(value).__name__)} (not {want})"
    return ""


_TYPE_NAMES = {dict: "object", list: "list", bool: "true/false", int: "number",
               float: "number", bytes: "bytes"}


def _lowered(row: dict) -> dict:
    """The row with its keys stripped and lower-cased (of two that then agree, the last wins);
    keys that need no such change are remembered, so the next rows skip this."""
    lowered = {}
    for key, value in row.items():
        if key is None:
            continue
        name = str(key).strip().lower()
        lowered[name] = value
        if name == key and len(_PLAIN_KEYS) < _MAX_PLAIN_KEYS:
            _PLAIN_KEYS.add(key)
    return lowered


# Keys that are already stripped and lower-case: a row with only such keys is used as it is
# (a dump repeats the same few keys on every row). Bounded, for dumps with keys per row.
_PLAIN_KEYS: set[Any] = set()
_MAX_PLAIN_KEYS = 10_000


def _text(value: Any) -> str:
    if type(value) is str and value.isascii():  # most fields: nothing to do
        return value
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    text = str(value)
    if not text.isascii():  # JSON can escape half a surrogate pair, which no file can hold
        text = _LONE_SURROGATE.sub("\ufffd", text)
    return text


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


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
    text = _text(authors)
    if not text.strip():  # none given
        return None
    return len([n for n in re.split(r",|;|\band\b", text) if n.strip()])


def _int_or_none(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    if number != number or abs(number) > 1e12:
        return None
    return int(number)


def read_jsonl(lines: Iterable[tuple[int, str]], path: str, log: ReadLog,
               reference: dt.date | None = None) -> Iterator[Paper]:
    """Papers from numbered JSON Lines (the arXiv metadata snapshot among them), parsed by
    orjson; the records read are those Python's json module reads, which gets the lines orjson
    refuses (``NaN``, lone surrogates, deep nesting) or may read wrong (integers beyond 64
    bits). Bad lines are logged and skipped."""
    for number, text in lines:
        if not text or text.isspace():  # before orjson, whose refusal costs an exception
            continue
        try:
            row = _parsed(text)
        except (ValueError, RecursionError):
            log.skip(path, number, "not valid JSON")
            continue
        if not isinstance(row, dict):
            log.skip(path, number, "not a JSON object")
            continue
        paper = from_fields(row, path, number, log, reference)
        if paper is not None:
            yield paper


def _parsed(text: str) -> Any:
    """The line's JSON value as Python's json module reads it."""
    try:
        row = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    if type(row) is dict and float in map(type, row.values()) and any(
            type(value) is float and not -_BEYOND < value < _BEYOND for value in row.values()):
        return json.loads(text)  # maybe an integer beyond 64 bits, which json keeps
    return row


_BEYOND = 2.0**63


@contextlib.contextmanager
def _readable(path: Path) -> Iterator[None]:
    """pyarrow's errors on a damaged file (of many types) as one clear error."""
    try:
        yield
    except Exception as exc:
        raise DumpError(f"unreadable Parquet ({type(exc).__name__}); re-export the file",
                        path) from None


def open_parquet(path: Path) -> Any:
    """The Parquet file, checked to have 'title' and 'abstract' columns, and text columns
    that hold text (else every row would be skipped, see ``wrong_type``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with _readable(path):
        parquet = pq.ParquetFile(path)
    names = {n.lower() for n in parquet.schema_arrow.names}
    if not {"title", "abstract"} <= names:
        raise DumpError("Parquet file has no 'title' and 'abstract' columns; add them", path)
    text_types = (pa.types.is_string, pa.types.is_large_string, pa.types.is_null,
                  getattr(pa.types, "is_string_view", lambda _: False))  # pyarrow >= 16
    for field in parquet.schema_arrow:
        if field.name.strip().lower() in TEXT_FIELDS and not any(
                is_text(field.type) for is_text in text_types):
            raise DumpError(f"Parquet column '{field.name}' holds {field.type}, not text; "
                            "re-export it as a string column", path)
    return parquet


def read_parquet(path: Path, log: ReadLog, reference: dt.date | None = None) -> Iterator[Paper]:
    """Papers of a Parquet file, in row order, read a row batch at a time and mapped row by
    row as every other format is."""
    for row, record in enumerate(_records(path), start=1):
        paper = from_fields(record, str(path), row, log, reference)
        if paper is not None:
            yield paper


def _records(path: Path) -> Iterator[dict]:
    """The file's rows as dicts; only pyarrow's errors say the file is damaged."""
    parquet = open_parquet(path)
    with _readable(path):
        for batch in parquet.iter_batches(batch_size=10_000):
            yield from batch.to_pylist()
