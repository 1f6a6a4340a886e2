"""Parquet dumps with 'title' and 'abstract' columns."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import DumpError
from .fields import from_fields
from .readlog import ReadLog
from .records import Paper


def _open(path: Path) -> Any:
    """The Parquet file, checked to have 'title' and 'abstract' columns."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises many types for damaged files
        raise DumpError(f"unreadable Parquet ({type(exc).__name__}); re-export the file",
                        path) from None
    names = {n.lower() for n in parquet.schema_arrow.names}
    if not {"title", "abstract"} <= names:
        raise DumpError("Parquet file has no 'title' and 'abstract' columns; add them", path)
    _check_text_columns(parquet.schema_arrow, path)
    return parquet


def _check_text_columns(schema: Any, path: Path) -> None:
    """Refuse up front a text column (title, abstract, ...) of another type, naming it: its
    every row would be skipped (see ``fields.wrong_type``)."""
    import pyarrow as pa

    for field in schema:
        name = field.name.strip().lower()
        kind = field.type
        text = (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_null(kind) or _is_string_view(kind))
        if name in _TEXT_COLUMNS and not text:
            raise DumpError(f"Parquet column '{field.name}' holds {field.type}, not text; "
                            "re-export it as a string column", path)


_TEXT_COLUMNS = frozenset({"title", "abstract", "summary", "url", "link", "organization"})


def _is_string_view(type_: Any) -> bool:
    import pyarrow as pa

    check = getattr(pa.types, "is_string_view", None)
    return bool(check is not None and check(type_))


def parquet_columns(path: Path) -> list[str]:
    """The column names of a Parquet dump (an error when it is unreadable or lacks some)."""
    return list(_open(path).schema_arrow.names)


def read_parquet(path: Path, log: ReadLog, reference: dt.date | None = None) -> Iterator[Paper]:
    """Papers of a Parquet file, in row order, read a row batch at a time and mapped row by
    row as every other format is; a file pyarrow cannot read is one clear error."""
    batches = iter(_guarded(path, lambda: _open(path).iter_batches(batch_size=10_000)))
    row = 0
    while (table := _guarded(path, lambda: next(batches, None))) is not None:
        for record in _guarded(path, table.to_pylist):
            row += 1
            paper = from_fields(record, str(path), row, log, reference)
            if paper is not None:
                yield paper


def _guarded(path: Path, read: Any) -> Any:
    """``read()``, with pyarrow's errors on a damaged file turned into one clear error."""
    try:
        return read()
    except DumpError:
        raise
    except Exception as exc:  # pyarrow raises many types for damaged files
        raise DumpError(f"unreadable Parquet ({type(exc).__name__}); re-export the file",
                        path) from None
