"""Papers a batch at a time, as columns: what the tagger reads, with no object per paper.

JSON Lines blocks and Parquet row groups arrive as Arrow tables; :func:`from_table` turns one
into a :class:`PaperBatch` with the meaning :func:`~taxonomy.io.fields.from_fields` gives each
row, vectorized where the columns allow: text that is already clean (printable ASCII, single
inner spaces) is recognised from the column's bytes at once, counts and the
arXiv snapshot's first version date are read from the columns at once, and dates are parsed
once per distinct value. A table whose columns do not have the plain types this assumes (a
title that is a number, two columns that differ only in case, ...) gives None, and the caller
reads its rows one by one instead, so both ways always agree.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .dates import parse_date
from .readlog import ReadLog
from .records import Paper, clean_text, paper_id

# Fields of one paper, in Paper's order (without its source).
FIELDS = ("id", "title", "abstract", "date", "n_authors", "organization", "upvotes", "url")

# The fields read as text (a null is the same as a field that is not there).
TEXT_KEYS = ("title", "abstract", "summary", "url", "link", "id", "arxiv_id", "organization",
              "date", "published", "published_date", "update_date")
_COUNT_KEYS = ("upvotes", "n_authors", "num_authors")
_USED = (*TEXT_KEYS, *_COUNT_KEYS, "authors", "authors_parsed", "versions")
_AUTHOR_SPLIT = re.compile(r",|;|\band\b")
# Deeper nesting than this may be too deep for Python's json module (which then skips the
# line): the row-by-row reader decides.
MAX_DEPTH = 64
# Rows from which Arrow reads, writes and splits text (JSON blocks, CSV chunks, scoring
# chunks): below it, loading Arrow costs more than it saves (a daily listing).
COLUMNAR_FROM = 256


@dataclass
class PaperBatch:
    """Papers of one file as columns (see ``FIELDS``), and the line (or row) each came from;
    a batch made from a streaming reader's records keeps the records, whose sources say it."""

    path: str
    lines: list[int]
    columns: dict[str, list] = field(default_factory=dict)
    known: list[Paper] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.columns["id"])

    @classmethod
    def from_papers(cls, papers: Sequence[Paper], path: str) -> PaperBatch:
        return cls(path, [], {name: [getattr(p, name) for p in papers] for name in FIELDS},
                   list(papers))

    def papers(self) -> list[Paper]:
        if self.known is not None:
            return self.known
        return [self.paper(i) for i in range(len(self))]

    def paper(self, i: int) -> Paper:
        if self.known is not None:
            return self.known[i]
        return Paper(**{name: self.columns[name][i] for name in FIELDS},
                     source=f"{self.path}:{self.lines[i]}")

    def take(self, rows: Iterable[int]) -> PaperBatch:
        rows = list(rows)
        return PaperBatch(self.path, [self.lines[i] for i in rows] if self.lines else [],
                          {name: [values[i] for i in rows]
                           for name, values in self.columns.items()},
                          None if self.known is None else [self.known[i] for i in rows])


def batches_of(papers: Iterable[Paper], path: str, size: int = 2_000
               ) -> Iterator[PaperBatch]:
    """Papers of a streaming reader (listing pages, CSV, the line-by-line JSON reader) as
    batches of ``size``."""
    chunk: list[Paper] = []
    for paper in papers:
        chunk.append(paper)
        if len(chunk) == size:
            yield PaperBatch.from_papers(chunk, path)
            chunk = []
    if chunk:
        yield PaperBatch.from_papers(chunk, path)


def rebatched(batches: Iterable[PaperBatch], size: int, names: Sequence[str]
              ) -> Iterator[dict[str, list]]:
    """The columns ``names`` of consecutive papers, ``size`` papers at a time (the last
    maybe fewer), whatever the sizes of the batches they come in."""
    held: dict[str, list] = {name: [] for name in names}
    count = 0
    for batch in batches:
        at = 0
        while at < len(batch):
            take = min(size - count, len(batch) - at)
            for name in names:
                held[name] += batch.columns[name][at:at + take]
            at += take
            count += take
            if count == size:
                yield held
                held, count = {name: [] for name in names}, 0
    if count:
        yield held


def from_table(table: Any, path: str, lines: Sequence[int], log: ReadLog,
               reference: dt.date) -> PaperBatch | None:
    """The papers of an Arrow table (one row per record; ``lines`` numbers them), rows without
    a title or abstract logged and left out; None when a column's type needs the row-by-row
    reader."""
    import pyarrow as pa

    columns: dict[str, Any] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        key = name.strip().lower()
        if key in columns:  # the row-by-row reader keeps the last of such columns
            return None
        if _depth(column.type) > MAX_DEPTH:
            return None
        columns[key] = column
    columns = {key: columns[key] for key in _USED if key in columns}
    if not _plain(columns):
        return None
    try:
        columns = {key: column.combine_chunks() if isinstance(column, pa.ChunkedArray)
                   else column for key, column in columns.items()
                   # a text field that is null everywhere reads as one that is not there
                   if not (key in TEXT_KEYS and column.null_count == len(column))}
    except pa.ArrowException:
        return None
    n = table.num_rows
    text = {key: _strings(columns.get(key), n) for key in TEXT_KEYS}

    title = _cleaned(columns.get("title"), text["title"])
    chosen = [a or s for a, s in zip(text["abstract"], text["summary"], strict=True)]
    abstract = _cleaned(_array(chosen) if "summary" in columns else columns.get("abstract"),
                        chosen)
    keep = []
    for i, (t, a) in enumerate(zip(title, abstract, strict=True)):
        if t and a:
            keep.append(i)
        else:
            log.skip(path, lines[i], "no title" if not t else "no abstract")

    url = [(u or k).strip() for u, k in zip(text["url"], text["link"], strict=True)]
    given = [(i or a).strip() for i, a in zip(text["id"], text["arxiv_id"], strict=True)]
    dates = _dates(columns, text, n, reference)
    authors = _authors(columns, n)
    organization = _cleaned(columns.get("organization"), text["organization"])
    upvotes = _counts(columns.get("upvotes"), n)
    columns_out: dict[str, list] = {
        "given": given, "title": title, "abstract": abstract, "date": dates,
        "n_authors": authors, "organization": organization, "upvotes": upvotes, "url": url}
    if len(keep) < n:
        columns_out = {name: [values[i] for i in keep] for name, values in columns_out.items()}
        lines = [lines[i] for i in keep]
    columns_out["id"] = [paper_id(g, t, u) for g, t, u in zip(
        columns_out.pop("given"), columns_out["title"], columns_out["url"], strict=True)]
    return PaperBatch(path, list(lines), {name: columns_out[name] for name in FIELDS})


def _depth(kind: Any) -> int:
    """How deep a type nests (a plain value: 0), without recursion."""
    deepest, level = 0, [(kind, 0)]
    while level:
        kind, depth = level.pop()
        deepest = max(deepest, depth)
        level.extend((kind.field(i).type, depth + 1) for i in range(kind.num_fields))
    return deepest


def _plain(columns: dict[str, Any]) -> bool:
    """Whether every column the fields come from has a type this module reads as the
    row-by-row reader does."""
    import pyarrow.types as types

    def text(kind: Any) -> bool:
        return types.is_string(kind) or types.is_large_string(kind) or types.is_null(kind)

    for key in TEXT_KEYS:
        if key in columns and not text(columns[key].type):
            return False
    for key in _COUNT_KEYS:
        if key in columns and not (types.is_integer(columns[key].type)
                                   or types.is_floating(columns[key].type)
                                   or types.is_null(columns[key].type)):
            return False

    def listed(kind: Any) -> bool:
        return types.is_list(kind) or types.is_large_list(kind) or types.is_null(kind)

    if "authors_parsed" in columns and not listed(columns["authors_parsed"].type):
        return False
    if "authors" in columns and not (text(columns["authors"].type)
                                     or listed(columns["authors"].type)):
        return False
    if "versions" in columns:
        kind = columns["versions"].type
        if types.is_null(kind):
            return True
        if not (types.is_list(kind) or types.is_large_list(kind)):
            return False
        item = kind.value_type
        if types.is_null(item):
            return True
        if not types.is_struct(item):
            return False
        names = [item.field(i).name for i in range(item.num_fields)]
        if len(set(names)) < len(names):  # Python cannot hold such a record either
            return False
        if item.get_field_index("created") >= 0 and not text(item.field("created").type):
            return False
    return True


def _array(values: list[str]) -> Any:
    import pyarrow as pa

    return pa.array(values, type=pa.string())


def _strings(column: Any, n: int) -> list[str]:
    """A text column's values, '' for null (or for a column that is not there)."""
    import pyarrow.compute as pc
    import pyarrow.types as types

    if column is None or types.is_null(column.type):
        return [""] * n
    return pc.fill_null(column, "").to_pylist()


def _cleaned(column: Any, values: list[str]) -> list[str]:
    """``clean_text`` of each value, called only where the column shows it may change one."""
    import pyarrow.types as types

    if column is None or types.is_null(column.type):
        return values
    out = list(values)
    for i in np.flatnonzero(_maybe_unclean(column)).tolist():
        out[i] = clean_text(out[i])
    return out


def _maybe_unclean(column: Any) -> np.ndarray:
    """Which values of a string column ``clean_text`` might change: those with a byte that
    is not printable ASCII, two spaces in a row, or a space at either end (read from the
    column's buffers at once; a null counts as clean)."""
    found = string_bytes(column)
    if found is None:
        return np.zeros(len(column), dtype=bool)
    data, starts, ends = found
    bad = (data < 0x20) | (data > 0x7E)
    bad[:-1] |= (data[:-1] == 0x20) & (data[1:] == 0x20)  # across two values: the first
    unclean = _owners(bad, ends)                           # then ends with a space anyway
    filled = ends > starts
    unclean[filled] |= (data[starts[filled]] == 0x20) | (data[ends[filled] - 1] == 0x20)
    return unclean


def rows_with_bytes(column: Any, table: np.ndarray) -> np.ndarray:
    """Which values of a string column hold a byte b with ``table[b]`` true."""
    found = string_bytes(column)
    if found is None:
        return np.zeros(len(column), dtype=bool)
    data, _, ends = found
    return _owners(table[data], ends)


def string_bytes(column: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A string array's bytes, and where each value starts and ends in them (None when every
    value is empty)."""
    import pyarrow.types as types

    n = len(column)
    _, offsets_buffer, data_buffer = column.buffers()
    width = np.int64 if types.is_large_string(column.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=width)[column.offset:column.offset + n + 1]
    offsets = offsets.astype(np.int64)
    if data_buffer is None or offsets[-1] == offsets[0]:
        return None
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0]:offsets[-1]]
    return data, offsets[:-1] - offsets[0], offsets[1:] - offsets[0]


def _owners(flags: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per value, whether any of its bytes is flagged."""
    out = np.zeros(len(ends), dtype=bool)
    out[np.searchsorted(ends, np.flatnonzero(flags), side="right")] = True
    return out


def _dates(columns: dict[str, Any], text: dict[str, list[str]], n: int,
           reference: dt.date) -> list[str]:
    """Each row's date as ``_record_date`` finds it: the first of 'date', 'published' and
    'published_date' given, else the first version's 'created', else 'update_date'."""
    parsed: dict[str, str] = {}

    def parse(value: str) -> str:
        found = parsed.get(value)
        if found is None:
            parsed[value] = found = parse_date(value, reference)
        return found

    out = [""] * n
    pending = list(range(n))
    for key in ("date", "published", "published_date"):
        if key in columns:
            values = text[key]
            rest = []
            for i in pending:
                if values[i]:
                    out[i] = parse(values[i])
                else:
                    rest.append(i)
            pending = rest
    created = _first_created(columns.get("versions"), n)
    if created is not None:
        rest = []
        for i in pending:
            first = created[i]
            if first is not None and (date := parse(first)):
                out[i] = date
            else:
                rest.append(i)
        pending = rest
    if "update_date" in columns:
        values = text["update_date"]
        for i in pending:
            if values[i]:
                out[i] = parse(values[i])
    return out


def _first_created(versions: Any, n: int) -> list[str | None] | None:
    """Per row, the 'created' text of its first version ('' when that has none); None where
    the row has no first version that is an object."""
    import pyarrow.compute as pc
    import pyarrow.types as types

    if versions is None or types.is_null(versions.type) \
            or types.is_null(versions.type.value_type):
        return None
    sizes = pc.fill_null(pc.list_value_length(versions), 0).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(sizes > 0)
    out: list[str | None] = [None] * n
    if not len(rows):
        return out
    starts = versions.offsets.to_numpy()[rows]
    first = versions.values.take(starts)
    valid = first.is_valid().to_numpy(zero_copy_only=False)
    index = first.type.get_field_index("created")
    if index < 0:
        created = [""] * len(rows)
    else:
        created = _strings(pc.struct_field(first, [index]), len(rows))
    for row, ok, value in zip(rows.tolist(), valid.tolist(), created, strict=True):
        if ok:
            out[row] = value
    return out


def _authors(columns: dict[str, Any], n: int) -> list[int | None]:
    """Each row's author count as ``_count_authors`` finds it."""
    import pyarrow.compute as pc
    import pyarrow.types as types

    out: list[int | None] = [None] * n
    pending = np.ones(n, dtype=bool)
    parsed = columns.get("authors_parsed")
    if parsed is not None and not types.is_null(parsed.type):
        sizes = pc.list_value_length(parsed)
        has = sizes.is_valid().to_numpy(zero_copy_only=False)
        values = pc.fill_null(sizes, 0).to_numpy(zero_copy_only=False).tolist()
        for i in np.flatnonzero(has).tolist():
            out[i] = values[i]
        pending &= ~has
    for key in ("n_authors", "num_authors"):
        if key in columns and pending.any():
            counts = _counts(columns[key], n)
            for i in np.flatnonzero(pending).tolist():
                if counts[i] is not None:
                    out[i] = counts[i]
                    pending[i] = False
    authors = columns.get("authors")
    if authors is None or types.is_null(authors.type) or not pending.any():
        return out
    if types.is_list(authors.type) or types.is_large_list(authors.type):
        sizes = pc.list_value_length(authors)
        has = sizes.is_valid().to_numpy(zero_copy_only=False)
        values = pc.fill_null(sizes, 0).to_numpy(zero_copy_only=False).tolist()
        for i in np.flatnonzero(pending).tolist():
            if has[i]:
                out[i] = values[i]
        return out
    names = _strings(authors, n)
    for i in np.flatnonzero(pending).tolist():
        cleaned = clean_text(names[i])
        if cleaned:
            out[i] = len([name for name in _AUTHOR_SPLIT.split(cleaned) if name.strip()])
    return out


def _counts(column: Any, n: int) -> list[int | None]:
    """Whole counts as ``_int_or_none`` reads numbers: truncated, None past 10^12 or NaN."""
    import pyarrow.types as types

    if column is None or types.is_null(column.type):
        return [None] * n
    out: list[int | None] = []
    for value in column.to_pylist():
        if value is None or value != value or abs(value) > 1e12:
            out.append(None)
        else:
            out.append(int(float(value)))
    return out
