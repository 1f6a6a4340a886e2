"""Tables in CSV, JSON Lines or Parquet (chosen by the output's extension), streamed in chunks
and written atomically (see ``atomic``): an interrupted or failed run leaves the previous file
intact."""

from __future__ import annotations

import csv
import functools
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO, Union

from ..errors import OutputError
from .atomic import atomic_path
from .columns import COLUMNAR_FROM, rows_with_bytes, string_bytes

if TYPE_CHECKING:
    import pandas as pd

# Rows to write: a DataFrame, or columns by name (lists or numpy arrays of equal length, in
# order), which tagging writes without building a DataFrame (and without importing pandas).
Rows = Union["pd.DataFrame", dict[str, Any]]

TABLE_FORMATS = (".csv", ".jsonl", ".parquet")
# Rows from which CSV is built by Arrow (below, Arrow would cost more than it saves).
_ARROW_FROM = COLUMNAR_FROM


def table_format(path: str | os.PathLike) -> str:
    """'.csv', '.jsonl' or '.parquet' from the output name; an error for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix == ".json":
        suffix = ".jsonl"
    if suffix not in TABLE_FORMATS:
        raise OutputError(f"unknown output type {suffix or '(none)'!r}; name the file "
                          f"*.csv, *.jsonl or *.parquet", path)
    return suffix


def refuse_inputs(out: str | os.PathLike, inputs: Iterable[str | os.PathLike]) -> None:
    """An error when ``out`` (a file or a folder) is, or holds, one of the inputs: writing it
    would replace what is being read."""
    out = Path(out).resolve()
    for given in inputs:
        path = Path(given).resolve()
        same = out.is_file() and path.is_file() and os.path.samefile(out, path)
        if same or path == out or out in path.parents:
            raise OutputError(f"is also an input ({given}); write to another "
                              f"{'folder' if out.is_dir() else 'file'}", out)


def csv_lines(columns: list[Any]) -> str | None:
    """The CSV lines ``csv.writer(lineterminator="\\n")`` writes for these columns (lists of
    strings or None, numpy float arrays), built a column at a time by Arrow instead of a row
    at a time: about 2.5x faster. None for columns of other types (then use the csv module)."""
    if len(columns) < 2 or len(columns[0]) < _ARROW_FROM:  # few rows: the csv module is as
        return None  # fast (and a row of one empty field is written '""' by it alone)
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    quoting = _quoted_bytes()
    if quoting is None:
        return None
    texts = []
    for column in columns:
        if isinstance(column, np.ndarray) and column.dtype == np.float64:
            texts.append(pa.array(_float_texts(column), type=pa.string()))
            continue
        if not isinstance(column, list):
            return None
        try:  # refuses numbers and other objects (bytes are never given)
            values = pa.array(column, type=pa.string())
        except (pa.ArrowException, UnicodeEncodeError):
            return None
        values = pc.fill_null(values, "")
        quote = rows_with_bytes(values, quoting)
        if quote.any():
            quoted = pc.binary_join_element_wise(
                '"', pc.replace_substring(values, '"', '""'), '"', "")
            values = pc.if_else(quote, quoted, values)
        texts.append(values)
    # Each row's fields joined by commas, then a newline: the lines are the array's bytes.
    lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*texts, ","), "\n", "")
    found = string_bytes(lines)
    assert found is not None  # every line has its newline
    return bytes(found[0]).decode("utf-8")


@functools.cache
def _quoted_bytes() -> Any:
    """Which bytes make this Python's csv module quote a field (the delimiter, the quote,
    line ends; the set has changed between versions), found by asking it; None if it quotes
    for a character beyond ASCII (then the csv module writes every row)."""
    import numpy as np

    table = np.zeros(256, dtype=bool)
    for c in [chr(c) for c in range(128)] + ["\x85", "\u2028", "\u2029"]:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(["a" + c + "b", "x"])
        if out.getvalue().startswith('"'):
            if not c.isascii():
                return None
            table[ord(c)] = True
    return table


def _float_texts(column: Any) -> list[str]:
    """``repr`` of each float; scores rounded to 4 decimals come from a table."""
    import numpy as np

    steps = np.rint(np.where(np.isfinite(column), column, 0) * 10_000)
    if np.isfinite(column).all() and ((column >= 0) & (column <= 1)).all() \
            and not np.signbit(column).any() and (steps / 10_000 == column).all():
        return [_FOUR_DECIMALS[k] for k in steps.astype(np.int64).tolist()]
    return [repr(v) for v in column.tolist()]


# repr(k / 10000) for k = 0 .. 10000: how csv writes a score rounded to 4 decimals.
_FOUR_DECIMALS = [repr(k / 10_000) for k in range(10_001)]


def write_frame(path: str | os.PathLike, frame: pd.DataFrame) -> None:
    """A whole DataFrame to CSV, JSONL or Parquet, atomically."""
    with TableWriter(path) as writer:
        writer.write(frame)


class _Sink:
    """Rows appended to one file in one format; the first frame fixes the columns."""

    def __init__(self, path: Path, fmt: str, shown: Path):
        self.path, self.format, self.shown = path, fmt, shown
        self.columns: list[str] | None = None
        self._handle: TextIO | None = None
        self._parquet: Any = None

    def write(self, frame: Rows) -> None:
        if isinstance(frame, dict):
            if self.columns is None:
                self.columns = list(frame)
            with _failing_writes(self.shown):
                self._write_columns([frame[c] for c in self.columns])
            return
        if self.columns is None:
            self.columns = list(frame.columns)
        frame = frame.reindex(columns=self.columns)
        with _failing_writes(self.shown):
            self._write(frame)

    def _write(self, frame: pd.DataFrame) -> None:
        if self.format == ".parquet":
            import pyarrow as pa

            self._write_table(pa.Table.from_pandas(frame, preserve_index=False))
            return
        self._open()
        if self.format == ".csv":
            frame.to_csv(self._handle, header=False, index=False, lineterminator="\n")
        else:
            for row in frame.to_dict(orient="records"):
                self._write_json(row)

    def _write_columns(self, columns: list[Any]) -> None:
        """Columns written as pandas writes the same DataFrame (a test checks it) for what
        tagging writes: strings, None (an empty CSV cell, a JSON null) and floats that are
        never NaN (by ``repr``). NaN floats and integer columns holding None are written
        differently from pandas, so such columns should go through a DataFrame."""
        if self.format == ".parquet":
            import pyarrow as pa

            assert self.columns is not None
            self._write_table(pa.table(dict(zip(self.columns, columns, strict=True))))
            return
        handle = self._open()
        if self.format == ".csv" and (text := csv_lines(columns)) is not None:
            handle.write(text)
            return
        cells = [c.tolist() if hasattr(c, "tolist") else c for c in columns]
        if self.format == ".csv":
            csv.writer(handle, lineterminator="\n").writerows(zip(*cells, strict=True))
        else:
            assert self.columns is not None
            for values in zip(*cells, strict=True):
                self._write_json(dict(zip(self.columns, values, strict=True)))

    def _open(self) -> TextIO:
        if self._handle is None:
            self._handle = open(self.path, "w", encoding="utf-8", newline="")
            if self.format == ".csv":
                csv.writer(self._handle).writerow(self.columns or [])
        return self._handle

    def _write_json(self, row: dict) -> None:
        assert self._handle is not None
        self._handle.write(json.dumps(_plain(row), ensure_ascii=False) + "\n")

    def _write_table(self, table: Any) -> None:
        import pyarrow.parquet as pq

        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.path, table.schema)
        self._parquet.write_table(table.cast(self._parquet.schema))

    def close(self) -> None:
        with _failing_writes(self.shown):
            if self.columns is None and self._handle is None and self._parquet is None:
                self.path.write_text("", encoding="utf-8")
            if self._handle is not None:
                self._handle.close()
                self._handle = None
            if self._parquet is not None:
                self._parquet.close()
                self._parquet = None


class _failing_writes:
    """Turns an OS error while writing (a full disk, a quota) into a one-line error."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if isinstance(exc, OSError):
            raise OutputError(f"write failed ({exc.strerror or exc}); free space or choose "
                              "another location", self.path) from None


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
        self._ctx = atomic_path(self.path)
        self._sink: _Sink | None = None
        self._append_to = Path(append_to) if append_to is not None else None
        self._on_copy = on_copy

    def __enter__(self) -> TableWriter:
        self._sink = _Sink(self._ctx.__enter__(), self.format, self.path)
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

    @property
    def sink(self) -> _Sink:
        if self._sink is None:
            raise RuntimeError("use TableWriter as a context manager")
        return self._sink

    def write(self, frame: Rows) -> None:
        self.sink.write(frame)
        self.rows += len(next(iter(frame.values()))) if isinstance(frame, dict) else len(frame)

    def patch(self, fix: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
        """Rewrite every written row through ``fix`` (chunk by chunk) before the rename."""
        sink = self.sink
        sink.close()
        with atomic_path(sink.path, temp_of=self.path) as tmp:  # a temp beside the temp
            patched = _Sink(tmp, self.format, self.path)
            for chunk in read_table(sink.path, fmt=self.format):
                patched.write(fix(chunk))
            patched.close()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self._sink is not None:
                self._sink.close()
        except BaseException as failed:
            self._ctx.__exit__(type(failed), failed, failed.__traceback__)
            raise
        self._ctx.__exit__(exc_type, exc, tb)


def _plain(row: dict) -> dict:
    """JSON-ready values: NaN and pandas' NA become null, numpy scalars plain numbers."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (isinstance(value, float) and value != value):
            out[key] = None
        elif isinstance(value, str | int | float):
            out[key] = value.item() if hasattr(value, "item") else value
        elif _missing(value):
            out[key] = None  # NaN, NA and NaT alike (which one appears depends on pandas)
        elif hasattr(value, "item"):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def _missing(value: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def read_table(path: str | os.PathLike, fmt: str | None = None,
               chunksize: int = 50_000) -> Iterator[pd.DataFrame]:
    """Chunks of a table this module wrote (CSV, JSONL or Parquet); ids stay strings. A file
    that is not such a table is a one-line error naming it."""
    import pandas as pd

    fmt = fmt or table_format(path)
    try:
        yield from _chunks(Path(path), fmt, chunksize)
    except OutputError:
        raise
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise OutputError(f"is not a {fmt.lstrip('.').upper()} table this tool can read "
                          f"({_reason(exc)}); give a table written by 'taxonomy tag' or "
                          "'taxonomy parse'", path) from None
    except Exception as exc:  # pyarrow raises its own types for damaged Parquet
        raise OutputError(f"is not a readable Parquet table ({type(exc).__name__}); give a "
                          "table written by 'taxonomy tag' or 'taxonomy parse'", path) from None


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 80 else text[:79] + "…"


def _chunks(path: Path, fmt: str, chunksize: int) -> Iterable[pd.DataFrame]:
    import pandas as pd

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
                         keep_default_na=False, na_values=[""], encoding="utf-8") as reader:
            yield from reader
    else:
        with pd.read_json(path, lines=True, chunksize=chunksize, dtype=False,
                          precise_float=True, encoding="utf-8") as reader:
            yield from reader
