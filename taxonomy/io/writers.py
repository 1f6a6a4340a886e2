"""Atomic output: every file is written to a temp file beside it and renamed into place.

An interrupted or failed run therefore leaves the previous file intact. Tables stream in
chunks as CSV, JSON Lines or Parquet, chosen by the output's extension.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import pandas as pd

from ..errors import OutputError
from .atomic import atomic_path

TABLE_FORMATS = (".csv", ".jsonl", ".parquet")


def table_format(path: str | os.PathLike) -> str:
    """'.csv', '.jsonl' or '.parquet' from the output name; an error for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        suffix = ".jsonl"
    if suffix not in TABLE_FORMATS:
        raise OutputError(f"unknown output type {suffix or '(none)'!r}; name the file "
                          f"*.csv, *.jsonl or *.parquet", path)
    return suffix


def write_frame(path: str | os.PathLike, frame: pd.DataFrame) -> None:
    """A whole DataFrame to CSV, JSONL or Parquet, atomically."""
    with TableWriter(path) as writer:
        writer.write(frame)


class TableWriter:
    """Stream DataFrame chunks into one CSV / JSONL / Parquet file, renamed into place on close.

    ``append_to`` starts the output with an existing table's rows (for incremental tagging),
    each chunk shown to ``on_copy`` first (which may refuse it by raising);
    ``patch`` rewrites rows once at the end (for metadata learned after a row was written).
    """

    def __init__(self, path: str | os.PathLike, append_to: str | os.PathLike | None = None,
                 on_copy: Callable[[pd.DataFrame], None] | None = None):
        self.path = Path(path)
        self.format = table_format(self.path)
        self.rows = 0
        self._columns: list[str] | None = None
        self._ctx = atomic_path(self.path)
        self._tmp = Path()  # set on __enter__
        self._handle: TextIO | None = None
        self._parquet: Any = None
        self._append_to = Path(append_to) if append_to is not None else None
        self._on_copy = on_copy

    def __enter__(self) -> TableWriter:
        self._tmp = self._ctx.__enter__()
        try:
            if self._append_to is not None and self._append_to.exists():
                for chunk in read_table(self._append_to):
                    if self._on_copy is not None:
                        self._on_copy(chunk)
                    self.write(chunk)
        except BaseException as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def write(self, frame: pd.DataFrame) -> None:
        if self._columns is None:
            self._columns = list(frame.columns)
        frame = frame.reindex(columns=self._columns)
        try:
            self._write(frame)
        except OSError as exc:
            raise OutputError(f"write failed ({exc.strerror}); free space or choose another "
                              "location", self.path) from None
        self.rows += len(frame)

    def _write(self, frame: pd.DataFrame) -> None:
        if self.format == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self._tmp, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
            return
        if self._handle is None:
            self._handle = open(self._tmp, "w", encoding="utf-8", newline="")
            if self.format == ".csv":
                csv.writer(self._handle).writerow(self._columns or [])
        if self.format == ".csv":
            frame.to_csv(self._handle, header=False, index=False, lineterminator="\n")
        else:
            for row in frame.to_dict(orient="records"):
                self._handle.write(json.dumps(_plain(row), ensure_ascii=False) + "\n")

    def patch(self, fix: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
        """Rewrite every written row through ``fix`` (chunk by chunk) before the rename."""
        self._close_handles()
        patched = TableWriter(self._tmp.with_name(self._tmp.name + self.format))
        with patched:
            for chunk in read_table(self._tmp, fmt=self.format):
                patched.write(fix(chunk))
        os.replace(patched.path, self._tmp)

    def _close_handles(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None and self._columns is None:
            self._tmp.write_text("", encoding="utf-8")
        self._close_handles()
        self._ctx.__exit__(exc_type, exc, tb)


def _plain(row: dict) -> dict:
    """JSON-ready values: NaN and pandas' NA become null, numpy scalars plain numbers."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
            out[key] = None  # NaN, NA and NaT alike (which one appears depends on pandas)
        elif hasattr(value, "item"):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def read_table(path: str | os.PathLike, fmt: str | None = None,
               chunksize: int = 50_000) -> Iterable[pd.DataFrame]:
    """Chunks of a table this module wrote (CSV, JSONL or Parquet); ids stay strings."""
    fmt = fmt or table_format(path)
    if fmt == ".parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=chunksize):
            yield batch.to_pandas()
        return
    if os.path.getsize(path) == 0:
        return
    if fmt == ".csv":
        with pd.read_csv(path, chunksize=chunksize, dtype={"id": str, "labels": str},
                         keep_default_na=False, na_values=[""]) as reader:
            yield from reader
    else:
        with pd.read_json(path, lines=True, chunksize=chunksize, dtype=False,
                          precise_float=True) as reader:
            yield from reader
