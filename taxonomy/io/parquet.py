"""Parquet dumps with 'title' and 'abstract' columns."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import DumpError
from .fields import TEXT_FIELDS, from_fields
from .readlog import ReadLog
from .records import Paper


@contextlib.contextmanager
def _readable(path: Path) -> Iterator[None]:
    """pyarrow's errors on a damaged file (of many types) as one clear error."""
    try:
        yield
    except DumpError:
        raise
    except Exception as exc:
        raise DumpError(f"unreadable Parquet ({type(exc).__name__}); re-export the file",
                        path) from None


def open_parquet(path: Path) -> Any:
    """The Parquet file, checked to have 'title' and 'abstract' columns, and text columns
    that hold text (else every row would be skipped, see ``fields.wrong_type``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with _readable(path):
        parquet = pq.ParquetFile(path)
    names = {n.lower() for n in parquet.schema_arrow.names}
    if not {"title", "abstract"} <= names:
        raise DumpError("Parquet file has no 'title' and 'abstract' columns; add them", path)
    is_string_view = getattr(pa.types, "is_string_view", lambda _: False)  # pyarrow >= 16
    for field in parquet.schema_arrow:
        kind = field.type
        text = (pa.types.is_string(kind) or pa.types.is_large_string(kind)
                or pa.types.is_null(kind) or is_string_view(kind))
        if field.name.strip().lower() in TEXT_FIELDS and not text:
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
    with _readable(path):
        for batch in open_parquet(path).iter_batches(batch_size=10_000):
            yield from batch.to_pylist()
