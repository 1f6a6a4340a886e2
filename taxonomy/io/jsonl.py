"""JSON Lines dumps, the arXiv metadata snapshot among them.

:func:`read_jsonl_batches` reads a UTF-8 file a block of lines at a time with Arrow's JSON
reader (C++) and turns each block into columns (:mod:`.columns`). A block Arrow cannot take
as the line-by-line reader would (a bad line, a field whose type changes between lines, a
line that is not one object, a byte-order mark, deep nesting) is read line by line
instead, with Python's json module: so every good line is kept, and every bad one is
skipped and reported with its number, exactly as :func:`read_jsonl` does.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .columns import COLUMNAR_FROM, MAX_DEPTH, TEXT_KEYS, PaperBatch, batches_of, from_table
from .fields import from_fields
from .readlog import ReadLog
from .records import Paper
from .sniff import (
    chunks,
    decode_line,
    decoded_lines,
    lone_cr_lines,
    open_binary,
    undecodable_file,
)

# Blocks of fewer lines are read line by line: a daily listing is read before Arrow (and the
# pandas it imports on its first conversion, 0.15 s) could even load.
ARROW_FROM = COLUMNAR_FROM
_OPEN, _CLOSE, _CR, _LF = b"{}\r\n"
_OPEN_LIST, _CLOSE_LIST, _QUOTE, _BACKSLASH = b'[]"\\'
# A byte-order mark: Arrow takes it inside a file, Python's json module does not.
_BOM = b"\xef\xbb\xbf"


def read_jsonl(lines: Iterable[tuple[int, str]], path: str, log: ReadLog,
               reference: dt.date | None = None) -> Iterator[Paper]:
    """Papers from numbered JSON Lines; bad lines are logged and skipped."""
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
        paper = from_fields(row, path, number, log, reference)
        if paper is not None:
            yield paper


def read_jsonl_batches(path: Path, encoding: str, log: ReadLog,
                       reference: dt.date) -> Iterator[PaperBatch]:
    """Batches of the papers of a JSON Lines file (``encoding`` as sniffed), in file order."""
    name = str(path)
    if encoding != "utf-8" or _old_mac(path):
        yield from batches_of(read_jsonl(decoded_lines(path, log, encoding), name, log,
                                            reference), name)
        return
    decoded_any = False
    for body, count, first in _line_blocks(path):
        batch, decoded = _read_block(body, count, first, name, log, reference)
        decoded_any = decoded_any or decoded
        if batch is not None and len(batch):
            yield batch
    if not decoded_any:
        raise undecodable_file(path, "UTF-8")


def _line_blocks(path: Path) -> Iterator[tuple[bytes, int, int]]:
    """The file's whole lines a block at a time: bytes that end with a newline, how many
    lines they hold, and the number of the first (a last line without one gets one)."""
    first, carry = 1, b""
    with open_binary(path) as handle:
        for block in chunks(handle, path):
            data = carry + block
            cut = data.rfind(b"\n") + 1
            body, carry = data[:cut], data[cut:]
            if body:
                count = body.count(b"\n")
                yield body, count, first
                first += count
    if carry:
        yield carry + b"\n", 1, first


def _old_mac(path: Path) -> bool:
    """Whether the file's lines end with a lone carriage return: the line reader then splits
    them there, judging from the first block as ``sniff._byte_lines`` does."""
    with open_binary(path) as handle:
        return lone_cr_lines(next(chunks(handle, path), b""))


def _read_block(body: bytes, count: int, first: int, path: str, log: ReadLog,
                reference: dt.date) -> tuple[PaperBatch | None, bool]:
    """The papers of ``count`` whole lines (numbered from ``first``), and whether any line
    decoded: by Arrow when it reads them as Python would, else line by line."""
    read = _arrow_block(body, count, first, path, reference)
    if read is not None:
        log.skipped.extend(read[1])
        return read[0], True
    decoded = False

    def numbered() -> Iterator[tuple[int, str]]:  # as sniff.decoded_lines numbers them
        nonlocal decoded
        for number, raw in enumerate(body.split(b"\n")[:count], first):
            text, ok = decode_line(raw, number, "utf-8")
            if not ok:
                log.skip(path, number, "not UTF-8")
                continue
            decoded = decoded or bool(text.strip())
            yield number, text

    found = list(read_jsonl(numbered(), path, log, reference))
    return (PaperBatch.from_papers(found, path) if found else None), decoded


def _arrow_block(body: bytes, count: int, first: int, path: str, reference: dt.date
                 ) -> tuple[PaperBatch, list[tuple[str, int, str]]] | None:
    """The block read by Arrow, with what it skipped; None when the line reader must read it."""
    if count < ARROW_FROM or _BOM in body or not _object_lines(body):
        return None
    try:  # Arrow does not check: a line that does not decode is the line reader's to skip
        body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    import pyarrow as pa
    import pyarrow.json as pj

    try:
        table = pj.read_json(io.BytesIO(body), read_options=pj.ReadOptions(
            use_threads=False, block_size=len(body) + 1), parse_options=_text_fields())
    except (pa.ArrowException, ValueError):
        return None
    if table.num_rows != count:  # two objects on a line, say: the line reader refuses it
        return None
    log = ReadLog()
    batch = from_table(table, path, range(first, first + count), log, reference)
    return None if batch is None else (batch, log.skipped)


@functools.cache
def _text_fields() -> Any:
    """Arrow reads the text fields as strings: left to itself it makes '2024-03-05' a
    timestamp. A field of another JSON type then fails the block (the line reader reads it)."""
    import pyarrow as pa
    import pyarrow.json as pj

    return pj.ParseOptions(explicit_schema=pa.schema([(key, pa.string()) for key in TEXT_KEYS]),
                           unexpected_field_behavior="infer")


def _found(body: bytes, literal: bytes) -> Iterator[int]:
    """Where ``literal`` occurs in ``body``."""
    at = body.find(literal)
    while at >= 0:
        yield at
        at = body.find(literal, at + 1)


def _object_lines(body: bytes) -> bool:
    """Whether every line of ``body`` (which ends with a newline) starts with '{' and ends with
    '}' (before an optional carriage return). Arrow reads a stream of JSON values, not lines:
    only then does each row it finds stand for one line (an object cannot span lines, since
    its next line would have to start with ',', '}' or ':'), provided it finds one row per
    line. It also keeps Arrow from values that are not objects ('null' crashes it)."""
    data = np.frombuffer(body, dtype=np.uint8)
    ends = np.flatnonzero(data == _LF)
    if data[0] != _OPEN or ends[0] < 1 or not (data[ends[:-1] + 1] == _OPEN).all():
        return False
    last = data[ends - 1]
    return bool(((last == _CLOSE) | ((last == _CR) & (data[np.maximum(ends - 2, 0)] == _CLOSE)))
                .all()) and _plain_values(body, data, ends)


def _plain_values(body: bytes, data: np.ndarray, ends: np.ndarray) -> bool:
    """Whether, outside strings, the lines hold no 'Inf' or 'NaN' and nest no deeper than
    ``MAX_DEPTH``. Arrow takes 'Inf', '-Inf' and '-NaN', which Python's json module refuses
    (so NaN and Infinity, which both take, go to the line reader as well); and deep nesting
    makes Arrow crash (and Python's json module refuse the line) long before it could
    matter to a paper. Only the few quotes, brackets and such words are looked at."""
    quotes = np.flatnonzero(data == _QUOTE)
    marked = (data == _OPEN) | (data == _CLOSE) | (data == _OPEN_LIST) | (data == _CLOSE_LIST)
    words = [at for literal in (b"Inf", b"NaN") for at in _found(body, literal)]
    escaped = np.flatnonzero(data[quotes - 1] == _BACKSLASH)  # a line starts with '{'
    if len(escaped):
        keep = np.ones(len(quotes), dtype=bool)
        for i in escaped.tolist():  # escaped by an odd run of backslashes
            run, q = 0, int(quotes[i]) - 1
            while body[q] == _BACKSLASH:
                run, q = run + 1, q - 1
            keep[i] = run % 2 == 0
        quotes = quotes[keep]
    if (np.bincount(np.searchsorted(ends, quotes), minlength=len(ends)) % 2).any():
        return False  # an unterminated string: not JSON
    # A position is outside strings where an even number of quotes comes before it (they
    # pair up within each line).
    if (np.searchsorted(quotes, np.asarray(words, dtype=np.int64)) % 2 == 0).any():
        return False
    others = np.flatnonzero(marked)
    others = others[np.searchsorted(quotes, others) % 2 == 0]
    if not len(others):
        return True
    shown = data[others]
    step = np.where((shown == _OPEN) | (shown == _OPEN_LIST), 1, -1)
    depth = np.cumsum(step)
    line = np.searchsorted(ends, others)
    first = np.flatnonzero(np.diff(line, prepend=-1))  # each line's first bracket
    base = (depth - step)[first]
    return bool((depth - np.repeat(base, np.diff(np.append(first, len(line))))).max()
                <= MAX_DEPTH)
