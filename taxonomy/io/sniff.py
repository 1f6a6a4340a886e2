"""Opening a dump once: gzip, encoding and format judged from its first bytes, then its text
decoded line by line, so one bad byte costs one line."""

from __future__ import annotations

import codecs
import contextlib
import errno
import gzip
import io
import itertools
import json
import os
import re
import select
import sys
import tempfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import AnyStr, BinaryIO, Generic, TypeVar, cast

from ..errors import DumpError
from .readlog import ReadLog

_T = TypeVar("_T")
_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 64 * 1024
_BLOCK = 1 << 20
# A line longer than this is skipped (read past in blocks, never held whole).
MAX_LINE_BYTES = 8 << 20
# How long the check waits for the first bytes of a FIFO before calling it writer-less.
FIFO_WAIT_SECONDS = 10.0
STDIN_NAMES = ("-", "/dev/stdin")
# Byte-order marks, longest first (UTF-32's LE mark starts with UTF-16's).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# The delimiters a CSV header may use, by preference.
DELIMITERS = (",", "\t", ";")
# What to do about a dump whose text does not decode.
ENCODING_ADVICE = ("re-save it as UTF-8, or give its encoding with --encoding (for example "
                   "--encoding latin-1)")


class _Stream(io.RawIOBase):
    """A pipe, FIFO or standard input: the peeked bytes, then the rest. The first read takes
    them as they come, each byte also spooled to a temporary file, so that a command reading
    its inputs twice (``parse -o``) reads it again from there."""

    def __init__(self, handle: BinaryIO, head: bytes):
        self.handle, self.head = handle, head
        self._unread = io.BytesIO(head)
        self.spool: BinaryIO | None = None

    @property
    def ended(self) -> bool:
        """Whether all of it was peeked (so it is read from ``head``, as often as asked)."""
        return len(self.head) < _SNIFF_BYTES

    def take(self) -> BinaryIO:
        if self.ended:
            return io.BytesIO(self.head)
        if self.spool is None:
            self.spool = cast(BinaryIO, tempfile.TemporaryFile())
            return cast(BinaryIO, io.BufferedReader(self, _BLOCK))
        while self.readinto(bytearray(_BLOCK)):  # what the first read left is read now
            pass
        self.spool.flush()
        self.spool.seek(0)
        return cast(BinaryIO, open(os.dup(self.spool.fileno()), "rb"))

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self._unread.read(len(buffer)) or self.handle.read(len(buffer))
        buffer[:len(data)] = data
        cast(BinaryIO, self.spool).write(data)
        return len(data)

    def close(self) -> None:
        pass  # the spool outlives a first read that stops early


@dataclass(frozen=True)
class Source:
    """One input as sniffed once, handed to its reader: path, format, text encoding ('binary'
    for Parquet), gzip or not, its first bytes (decompressed), and for a stream the rest."""

    path: Path
    format: str
    encoding: str
    gzip: bool = False
    head: bytes = field(default=b"", repr=False, compare=False)
    stream: _Stream | None = field(default=None, repr=False, compare=False)

    @property
    def whole(self) -> bool:
        """Whether ``head`` holds all of the input (a small file, or a stream that ended)."""
        if self.stream is not None:
            return self.stream.ended
        return len(self.head) < _SNIFF_BYTES

    def open(self) -> BinaryIO:
        """The file's bytes, decompressed when it is gzipped."""
        if self.stream is None:
            return cast(BinaryIO, gzip.open(self.path, "rb")) if self.gzip else \
                open(self.path, "rb")
        raw = self.stream.take()
        return cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb")) if self.gzip else raw


def sniff(path: str | os.PathLike, encoding: str | None = None,
          fmt: str | None = None) -> Source:
    """Check that ``path`` is a readable, non-empty dump and judge its format and encoding from
    its first 64 KiB (``encoding`` and ``fmt``, when given, win); raises DumpError."""
    path = Path(path)
    if str(path) in STDIN_NAMES or path.is_fifo():
        return _sniff_stream(path, encoding, fmt)
    if path.is_dir():
        raise DumpError("is a directory; give the dump files inside it", path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise DumpError("no such file; check the path", path) from None
    except OSError as exc:
        raise _open_error(exc, path) from None
    with handle:
        compressed = handle.read(2) == _GZIP_MAGIC
        handle.seek(0)
        if compressed:
            with gzip.open(handle, "rb") as unzipped, _gzip_checked(path):
                head = unzipped.read(_SNIFF_BYTES)
        else:
            head = handle.read(_SNIFF_BYTES)
    return _judged(path, head, compressed, encoding, fmt)


def _judged(path: Path, head: bytes, compressed: bool, encoding: str | None,
            fmt: str | None, stream: _Stream | None = None) -> Source:
    """The source whose first bytes (decompressed) are ``head``; raises for an input that no
    reader can read."""
    if head.startswith(_PARQUET_MAGIC) and fmt in (None, "parquet"):
        if stream is not None:
            raise DumpError("is Parquet, which cannot be read from a stream; save it to a "
                            "file first", path)
        return Source(path, "parquet", "binary", compressed, head)
    if fmt == "parquet":
        raise DumpError("is not a Parquet file; check --format", path)
    if not head.strip(b" \t\r\n\x00"):
        raise DumpError("file is empty; give a dump with at least one paper", path)
    encoding = detect_encoding(head, encoding, path)
    text = head.decode(encoding, "replace")
    if _binary(text):
        raise DumpError("looks binary, not a text dump; give a listing page, JSONL or CSV",
                        path)
    found = _format_of(text)
    if fmt == "jsonl" and found != "jsonl" and not any(
            line.lstrip().startswith("{") for line in text.splitlines()[:50]):
        raise DumpError("does not look like JSON Lines (no JSON object in its first lines); "
                        "check --format", path, 1)
    return Source(path, fmt or found, encoding, compressed, head, stream)


def _open_error(exc: OSError, path: Path) -> DumpError:
    if exc.errno == errno.ELOOP:
        return DumpError("is a symlink loop; point the link at a real file", path)
    return DumpError(f"cannot open ({exc.strerror}); check its permissions", path)


def _sniff_stream(path: Path, encoding: str | None, fmt: str | None) -> Source:
    """Standard input, a pipe or a FIFO: its first bytes peeked and judged as a file's. A FIFO
    nobody writes to is refused after ``FIFO_WAIT_SECONDS`` rather than waited on for ever."""
    if str(path) == "-":
        handle = sys.stdin.buffer
    else:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise _open_error(exc, path) from None
        ready, _, _ = select.select([fd], [], [], FIFO_WAIT_SECONDS)
        if not ready:
            os.close(fd)
            raise DumpError(f"nothing was written to it within {FIFO_WAIT_SECONDS:g} s; "
                            "start the program that writes to it first", path)
        os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    try:  # a buffered read waits for all it asks for, or the end of the stream
        head = handle.read(_SNIFF_BYTES) or b""  # None: a non-blocking stream, nothing yet
    except OSError as exc:
        raise DumpError(f"cannot read ({exc.strerror})", path) from None
    stream = _Stream(handle, head)
    compressed = head.startswith(_GZIP_MAGIC)
    if compressed:  # a stream that ended is decompressed whole, else as far as it was peeked
        with _gzip_checked(path):
            head = gzip.decompress(head) if stream.ended else _gunzip_head(head)
    return _judged(path, head, compressed, encoding, fmt, stream)


def _gunzip_head(data: bytes) -> bytes:
    """Up to 64 KiB decompressed from the start of gzip data, across its members (``cat
    a.gz b.gz``), as ``gzip`` reads them."""
    out = b""
    while data and len(out) < _SNIFF_BYTES:
        member = zlib.decompressobj(31)
        out += member.decompress(data, _SNIFF_BYTES - len(out))
        data = member.unused_data if member.eof else b""
    return out


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\ufffd]")


def _binary(text: str) -> bool:
    """Whether a text head is binary as a whole: most of its lines hold NUL bytes, or a tenth of
    it is control bytes (a few damaged lines are bad records, for the readers to skip)."""
    if "\x00" not in text:
        return False
    lines = [ln for ln in text.splitlines() if ln.strip(" \t\x00")] or [text]
    return (sum("\x00" in ln for ln in lines) > len(lines) / 2
            or len(_CONTROL.findall(text)) > len(text) * 0.1)


def _format_of(text: str) -> str:
    lines = [ln.strip() for ln in text.removeprefix("\ufeff").splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    # A JSON object's line can look like a header ('..., title, ...' in its text); no CSV
    # header starts with '{'.
    if not first.startswith("{") and (header_delimiter(first) is not None
                                      or _table_header(lines[:6])):
        return "csv"  # the CSV reader says which required column is missing, if any
    # JSON Lines when one of the first lines holds an object and most hold an object or another
    # JSON value (a broken line may come first; an array line is a bad record, not a listing).
    sample = lines[:50]
    objects = sum(ln.startswith("{") for ln in sample)
    if objects and (objects + sum(_json_array(ln) for ln in sample)) * 2 >= len(sample):
        return "jsonl"
    return "listing"


_COLUMN_NAME = re.compile(r"^[A-Za-z_][\w .-]{0,39}$")


def _table_header(lines: list[str]) -> bool:
    """Whether the first lines look like a table without a 'title' column: a header of short
    names, and as many fields on each line after it."""
    for delimiter in DELIMITERS:
        names = [c.strip().strip('"') for c in lines[0].split(delimiter)] if lines else []
        if (len(names) > 1 and len(lines) > 2 and all(map(_COLUMN_NAME.match, names))
                and all(len(ln.split(delimiter)) == len(names) for ln in lines[1:])):
            return True
    return False


def _json_array(line: str) -> bool:
    """True for a line holding a JSON array ('[1] arXiv:...' in a listing page is not one)."""
    if not line.startswith("["):
        return False
    try:
        return isinstance(json.loads(line), list)
    except ValueError:
        return False


def header_delimiter(line: str) -> str | None:
    """The delimiter that splits a CSV header naming a 'title' column into most columns, or None."""
    widths = {}
    for delimiter in DELIMITERS:
        columns = [c.strip().strip('"').lower() for c in line.split(delimiter)]
        if len(columns) > 1 and "title" in columns:
            widths[delimiter] = len(columns)
    return max(widths, key=widths.__getitem__, default=None)


def detect_encoding(head: bytes, given: str | None, path: Path) -> str:
    """The encoding given, else a byte-order mark's, else UTF-16 when every other byte is NUL,
    else UTF-8."""
    if given:
        try:
            return codecs.lookup(given).name
        except LookupError:
            raise DumpError(f"unknown encoding {given!r}; give one Python knows, such as "
                            "latin-1, cp1252 or utf-16", path) from None
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    sample = head[:4096]
    if len(sample) >= 4 and b"\x00" in sample:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > len(sample) * 0.4 and even == 0:
            return "utf-16-le"
        if even > len(sample) * 0.4 and odd == 0:
            return "utf-16-be"
    return "utf-8"


@contextlib.contextmanager
def _gzip_checked(path: Path) -> Iterator[None]:
    """A read that fails (gzip data cut short or damaged) as one clear error."""
    try:
        yield
    except (EOFError, OSError, zlib.error):
        raise DumpError("gzip data is truncated or corrupt; re-download the dump", path) from None


def decoded_lines(source: Source, log: ReadLog, hint: bool = True,
                  undecodable: dict[int, str] | None = None, head_only: bool = False
                  ) -> Iterator[tuple[int, str]]:
    """(line number, text) pairs of a text dump, without line endings. A line that does not
    decode (or holds NUL bytes) is logged and dropped, or, given ``undecodable`` (records that
    span lines), kept, with why ('not UTF-8') put there under its number; a line over
    ``MAX_LINE_BYTES`` is logged and dropped. ``hint``: suggest ``--encoding`` when nothing
    decodes; ``head_only``: only the peeked bytes."""
    path = source.path
    name = "UTF-8" if source.encoding in ("utf-8", "utf-8-sig") else source.encoding
    decoded_any = False
    with (io.BytesIO(source.head) if head_only else source.open()) as handle, _gzip_checked(path):
        for number, line in enumerate(_lines_of(handle, source.encoding), 1):
            if line is None:
                log.skip(str(path), number, f"a line longer than {MAX_LINE_BYTES >> 20} MB")
                decoded_any = True  # said so; nothing suggests another encoding
                continue
            text, ok = decode_line(line, number, source.encoding)
            if not ok:
                if undecodable is None:
                    log.skip(str(path), number, f"not {name}")
                    continue
                undecodable[number] = f"not {name}"
            decoded_any = decoded_any or (ok and bool(text.strip()))
            yield number, text
    if not decoded_any:
        advice = ENCODING_ADVICE if hint else "re-save it as UTF-8"
        raise DumpError(f"is not {name} text; {advice}", path, 1)


class Lookahead(Generic[_T]):
    """Items (lines, paragraphs) with push-back, so a reader can look ahead or undo a failed
    multi-line read."""

    def __init__(self, items: Iterable[_T]):
        self._it = iter(items)
        self._back: deque[_T] = deque()

    def next(self) -> _T | None:
        return self._back.popleft() if self._back else next(self._it, None)

    def peek(self) -> _T | None:
        item = self.next()
        if item is not None:
            self._back.appendleft(item)
        return item

    def push_back(self, items: list[_T]) -> None:
        self._back.extendleft(reversed(items))


def _lines_of(handle: BinaryIO, encoding: str) -> Iterator[str | bytes | None]:
    """Each line of the file, as text for UTF-16 or UTF-32 (decoded as it comes, undecodable
    bytes as U+FFFD), else as bytes, so one bad byte spoils one line; None for a line too
    long to read."""
    blocks = iter(lambda: handle.read(_BLOCK), b"")
    if "\n".encode(encoding) != b"\n":
        return _lines(codecs.iterdecode(blocks, encoding, "replace"), _split_text)
    first = next(blocks, b"")
    # lines ending with a lone carriage return (old Mac files) have no newline at all
    separator = b"\r" if b"\n" not in first and b"\r" in first[:-1] else b"\n"
    return _lines(itertools.chain([first], blocks), lambda data: data.split(separator))


def decode_line(raw: str | bytes, number: int, encoding: str) -> tuple[str, bool]:
    """One line as text without its line ending, and whether it decoded (else it holds
    replacement characters or NUL bytes); the first line's bytes may start with a UTF-8
    byte-order mark (Excel, Notepad)."""
    if isinstance(raw, str):  # UTF-16 or UTF-32, decoded already
        text = raw.removesuffix("\r")
        return text, "\ufffd" not in text and "\x00" not in text
    codec = "utf-8-sig" if number == 1 and encoding == "utf-8" else encoding
    try:
        text = raw.removesuffix(b"\r").decode(codec)
        return text, "\x00" not in text
    except UnicodeDecodeError:
        return raw.removesuffix(b"\r").decode(codec, "replace"), False


_NEWLINE = re.compile(r"\r\n|\n|\r")


def _split_text(text: str) -> list[str]:
    held = "\r" if text.endswith("\r") else ""  # maybe the first half of a \r\n
    parts = _NEWLINE.split(text.removesuffix(held))
    parts[-1] += held
    return parts


def _lines(pieces: Iterable[AnyStr], split: Callable[[AnyStr], list[AnyStr]]
           ) -> Iterator[AnyStr | None]:
    """The lines of text or bytes read in pieces, as ``split`` cuts them; a line over
    ``MAX_LINE_BYTES`` is None, dropped piece by piece as it comes."""
    carry: AnyStr | None = None
    too_long = False
    for piece in pieces:
        parts = split(piece if carry is None else carry + piece)
        carry = parts.pop()
        if parts and too_long:
            yield None  # the rest of the over-long line
            parts, too_long = parts[1:], False
        yield from (None if len(p) > MAX_LINE_BYTES else p for p in parts)
        if len(carry) > MAX_LINE_BYTES or (too_long and carry):
            carry, too_long = carry[:0], True
    if too_long:
        yield None
    elif carry:
        yield carry
