"""Tables in CSV, JSON Lines or Parquet (by the output's extension), streamed in chunks and
written atomically (see ``atomic``), and read back."""

from __future__ import annotations

import contextlib
import csv
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, Union

from ..errors import OutputError
from .atomic import atomic_path
from .cells import neutralize, restore

if TYPE_CHECKING:
    import pandas as pd

# Rows to write: a DataFrame, or columns by name (lists or numpy arrays of equal length, in
# order), which tagging writes without building a DataFrame (and without importing pandas).
Rows = Union["pd.DataFrame", dict[str, Any]]

TABLE_FORMATS = (".csv", ".jsonl", ".parquet")


def table_format(path: str | os.PathLike) -> str:
    """'.csv', '.jsonl' or '.parquet' from the output name; an error for anything else."""
    if Path(path).is_dir():
        raise OutputError("is a directory; give a file name", path)
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        suffix = ".jsonl"
    if suffix not in TABLE_FORMATS:
        raise OutputError(f"unknown output type {suffix or '(none)'!r}; name the file "
                          f"*.csv, *.jsonl or *.parquet", path)
    return suffix


def refuse_inputs(out: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> None:
    """Raise OutputError when ``out`` (a file or a folder) is, or holds, one of the inputs."""
    out = Path(out).resolve()
    for given in inputs:
        path = Path(given).resolve()
        same = out.is_file() and path.is_file() and os.path.samefile(out, path)
        if same or path == out or out in path.parents:
            raise OutputError(f"is also an input ({given}); write to another "
                              f"{'folder' if out.is_dir() else 'file'}", out)


def write_frame(path: str | os.PathLike, frame: pd.DataFrame) -> None:
    """A whole DataFrame to CSV, JSONL or Parquet, atomically."""
    with TableWriter(path) as writer:
        writer.write(frame)


def _cells(column: pd.Series) -> list:
    """A DataFrame column's values, with every kind of missing value (NaN, NA, NaT) as None."""
    return column.astype(object).where(column.notna(), None).tolist()


# Shown each chunk of an existing table's rows (its columns, the rows as dicts by column) when
# ``TableWriter`` appends to it; returns the rows to write changed, by their index in the chunk
# (the others are copied as they are), or raises to refuse the table.
OnCopy = Callable[[list[str], list[dict]], dict[int, dict]]


class TableWriter:
    """Stream chunks of rows into one CSV / JSONL / Parquet file (the first rows fix the
    columns), renamed into place on close; an OS error is an OutputError naming it.
    ``append_to`` starts the output with an existing table's rows, copied as they are except
    those ``on_copy`` changes (``--only-new``)."""

    def __init__(self, path: str | os.PathLike, append_to: str | os.PathLike | None = None,
                 on_copy: OnCopy | None = None):
        self.path = Path(path)
        self.format = table_format(self.path)
        self.columns: list[str] | None = None
        self._stack = contextlib.ExitStack()  # the temp file, then the open handle or writer
        self._tmp: Path | None = None
        self._handle: TextIO | None = None
        self._parquet: Any = None
        self._append_to = Path(append_to) if append_to is not None else None
        self._on_copy = on_copy

    def __enter__(self) -> TableWriter:
        with self._stack as stack:  # all undone if copying the existing table fails
            self._tmp = stack.enter_context(atomic_path(self.path))
            if self._append_to is not None and self._append_to.exists():
                self._copy(self._append_to)
            self._stack = stack.pop_all()
        return self

    def _copy(self, path: Path) -> None:
        for columns, rows, text, table in _table_rows(path, self.format):
            changed = self._on_copy(columns, rows) if self._on_copy is not None else {}
            if self.columns is None:
                self.columns = columns
            if table is not None:  # Parquet
                if changed:
                    import pyarrow as pa

                    table = pa.Table.from_pylist([changed.get(i, row) for i, row in
                                                  enumerate(rows)], schema=table.schema)
                self._write_table(table)
            else:
                handle = self._open()  # a CSV's header even when it has no rows
                if not changed:  # the old lines as they are, in one write
                    handle.write("".join(text))
                    continue
                for i, line in enumerate(text):
                    if i in changed:
                        self._write_values([[changed[i].get(c) for c in columns]])
                    else:
                        handle.write(line)

    def write(self, frame: Rows) -> None:
        """Rows as a DataFrame, or as columns by name (see ``Rows``); None is an empty CSV
        cell and a JSON null, a float is written by ``repr``."""
        if self.columns is None:
            self.columns = list(frame)
        if self.format == ".parquet":
            import pyarrow as pa

            self._write_table(
                pa.table({c: frame[c] for c in self.columns}) if isinstance(frame, dict)
                else pa.Table.from_pandas(frame.reindex(columns=self.columns),
                                          preserve_index=False))
        elif isinstance(frame, dict):
            self._write_values(zip(*(frame[c].tolist() if hasattr(frame[c], "tolist")
                                     else frame[c] for c in self.columns), strict=True))
        else:
            self._write_values(zip(*(_cells(frame[c]) if c in frame else [None] * len(frame)
                                     for c in self.columns), strict=True))

    def _write_values(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows given as values in column order, in a text format."""
        handle = self._open()
        if self.format == ".csv":
            csv.writer(handle, lineterminator="\n").writerows(
                [neutralize(value) for value in values] for values in rows)
        else:
            columns = self.columns or []
            handle.writelines(json.dumps(_plain(dict(zip(columns, values, strict=True))),
                                         ensure_ascii=False) + "\n" for values in rows)

    def _open(self) -> TextIO:
        if self._handle is None:
            assert self._tmp is not None, "use TableWriter as a context manager"
            self._handle = self._stack.enter_context(
                open(self._tmp, "w", encoding="utf-8", newline=""))
            if self.format == ".csv":
                csv.writer(self._handle).writerow(self.columns or [])
        return self._handle

    def _write_table(self, table: Any) -> None:
        import pyarrow.parquet as pq

        if self._parquet is None:
            self._parquet = self._stack.enter_context(pq.ParquetWriter(self._tmp, table.schema))
        self._parquet.write_table(table.cast(self._parquet.schema))

    def __exit__(self, *exc: Any) -> None:
        self._stack.__exit__(*exc)


_COPY_CHUNK = 10_000


def _table_rows(path: Path, fmt: str) -> Iterator[tuple[list[str], list[dict], list[str], Any]]:
    """Chunks of a table this module wrote, to copy: its columns, the rows as dicts, and the
    rows' text in the file (CSV and JSON Lines) or the row batch (Parquet)."""
    with _unreadable_table(path, fmt):
        if fmt == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=_COPY_CHUNK):
                yield batch.schema.names, batch.to_pylist(), [], pa.Table.from_batches([batch])
            return
        with open(path, encoding="utf-8", newline="") as handle:
            yield from (_csv_rows if fmt == ".csv" else _jsonl_rows)(handle)


def _csv_rows(handle: TextIO) -> Iterator[tuple[list[str], list[dict], list[str], Any]]:
    held: list[str] = []

    def lines() -> Iterator[str]:  # the csv module asks for a record's lines, no more
        for line in handle:
            held.append(line)
            yield line

    reader = csv.reader(lines())
    header = next(reader, None)
    if header is None:
        return
    held.clear()
    rows: list[dict] = []
    text: list[str] = []
    for values in reader:
        if len(values) != len(header):
            raise ValueError(f"line {reader.line_num} has {len(values)} fields, the header "
                             f"{len(header)}")
        rows.append({name: restore(value) for name, value in zip(header, values, strict=True)})
        text.append(_ended("".join(held)))
        held.clear()
        if len(rows) == _COPY_CHUNK:
            yield header, rows, text, None
            rows, text = [], []
    yield header, rows, text, None  # even no rows: a table of no rows still shows its columns


def _jsonl_rows(handle: TextIO) -> Iterator[tuple[list[str], list[dict], list[str], Any]]:
    import orjson

    rows: list[dict] = []
    text: list[str] = []
    columns: list[str] | None = None
    for line in handle:
        if not line.strip():
            continue
        row = orjson.loads(line)
        if not isinstance(row, dict):
            raise ValueError("a line is not a JSON object")
        columns = columns if columns is not None else list(row)
        rows.append(row)
        text.append(_ended(line))
        if len(rows) == _COPY_CHUNK:
            yield columns, rows, text, None
            rows, text = [], []
    if rows:
        assert columns is not None
        yield columns, rows, text, None


def _ended(text: str) -> str:
    """A row's text with its line end (the last row of a file may lack one)."""
    return text if text.endswith("\n") else text + "\n"


def _plain(row: dict) -> dict:
    """JSON-ready values: NaN and pandas' NA become null, numpy scalars plain numbers."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if (isinstance(value, float) and value != value) or (
                not isinstance(value, str | int | float | None) and _missing(value)):
            value = None  # NaN, NA and NaT alike (which one appears depends on pandas)
        out[key] = value.item() if hasattr(value, "item") else value
    return out


def _missing(value: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def read_table(path: str | os.PathLike, chunksize: int = 50_000) -> Iterator[pd.DataFrame]:
    """Chunks of a table this module wrote (CSV, JSONL or Parquet), ids as strings; raises
    OutputError for a file that is not such a table."""
    import pandas as pd

    fmt = table_format(path)
    with _unreadable_table(Path(path), fmt):
        if fmt == ".parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize):
                yield batch.to_pandas()
        elif os.path.getsize(path) == 0:
            return
        elif fmt == ".csv":
            with pd.read_csv(path, chunksize=chunksize, dtype={"id": str, "labels": str},
                             keep_default_na=False, na_values=[""], encoding="utf-8") as reader:
                yield from map(_restored, reader)
        else:
            with pd.read_json(path, lines=True, chunksize=chunksize, dtype=False,
                              precise_float=True, encoding="utf-8") as reader:
                yield from reader


@contextlib.contextmanager
def _unreadable_table(path: Path, fmt: str) -> Iterator[None]:
    """Errors while reading a table as one line naming it (pandas' parser errors are
    ValueErrors)."""
    try:
        yield
    except (OSError, ValueError, csv.Error) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise OutputError(f"is not a {fmt.lstrip('.').upper()} table this tool can read "
                          f"({reason if len(reason) <= 80 else reason[:79] + '…'}); give a "
                          "table written by 'taxonomy tag' or 'taxonomy parse'", path) from None
    except Exception as exc:  # pyarrow raises its own types for damaged Parquet
        raise OutputError(f"is not a readable Parquet table ({type(exc).__name__}); give a "
                          "table written by 'taxonomy tag' or 'taxonomy parse'", path) from None


def _restored(chunk: pd.DataFrame) -> pd.DataFrame:
    """A CSV chunk's text cells as they were before :func:`neutralize` guarded them."""
    import pandas as pd

    for name in chunk.columns:
        column = chunk[name]
        if pd.api.types.is_string_dtype(column.dtype):  # object columns included
            quoted = column.map(lambda v: isinstance(v, str) and v.startswith("'")).astype(bool)
            if quoted.any():
                chunk.loc[quoted, name] = column[quoted].map(restore)
    return chunk

