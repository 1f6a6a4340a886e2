"""Opening a dump: gzip by its magic bytes, the text encoding by its byte-order mark (or the
``--encoding`` given), the format judged from the content, and the text decoded line by line
(lines that do not decode are logged and dropped, so one bad byte costs one line)."""

from __future__ import annotations

import codecs
import gzip
import json
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from ..errors import DumpError
from .readlog import ReadLog

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 64 * 1024
_BLOCK = 1 << 20
# Byte-order marks, longest first (UTF-32's LE mark starts with UTF-16's).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
# The delimiters a CSV header may use, by preference.
DELIMITERS = (",", "\t", ";")


@dataclass(frozen=True)
class Source:
    """One input as sniffed once: its path, whether it is gzipped, its format and its text
    encoding ('binary' for Parquet). Every reader takes it, so nothing opens a dump to judge
    it twice."""

    path: Path
    format: str
    encoding: str
    gzip: bool = False

    @property
    def encoding_name(self) -> str:
        """How messages name the encoding ('UTF-8', 'utf-16', ...)."""
        return "UTF-8" if self.encoding in ("utf-8", "utf-8-sig") else self.encoding

    def open(self) -> BinaryIO:
        """The file's bytes, decompressed when it is gzipped."""
        return cast(BinaryIO, gzip.open(self.path, "rb")) if self.gzip else \
            open(self.path, "rb")


def sniff(path: str | os.PathLike, encoding: str | None = None,
          fmt: str | None = None) -> Source:
    """Check that ``path`` is a readable, non-empty dump and judge its format and encoding
    (``encoding`` and ``fmt``, when given, win over what the content says).

    Cheap (it reads the first 64 KiB), so every input can be checked before any long work.
    """
    path = Path(path)
    if path.is_dir():
        raise DumpError("is a directory; give the dump files inside it", path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise DumpError("no such file; check the path", path) from None
    except OSError as exc:
        raise DumpError(f"cannot open ({exc.strerror}); check its permissions", path) from None
    with handle:
        compressed = handle.read(2) == _GZIP_MAGIC
        handle.seek(0)
        if compressed:
            with gzip.open(handle, "rb") as unzipped:
                head = read_bytes(cast(BinaryIO, unzipped), path, _SNIFF_BYTES)
        else:
            head = handle.read(_SNIFF_BYTES)
    if head.startswith(_PARQUET_MAGIC) and fmt in (None, "parquet"):
        return Source(path, "parquet", "binary", compressed)
    encoding, text = _text_head(head, encoding, path)
    return Source(path, fmt or _format_of(text), encoding, compressed)


def _text_head(head: bytes, encoding: str | None, path: Path) -> tuple[str, str]:
    """The encoding of a text dump and its first bytes decoded; an error for an empty or
    binary file."""
    if not head.strip(b" \t\r\n\x00"):
        raise DumpError("file is empty; give a dump with at least one paper", path)
    encoding = detect_encoding(head, encoding, path)
    text = head.decode(encoding, "replace")
    if "\x00" in text:
        raise DumpError("looks binary, not a text dump; give a listing page, JSONL or CSV",
                        path)
    return encoding, text


def sniff_format(path: str | os.PathLike) -> str:
    """'parquet', 'jsonl', 'csv' or 'listing', judged from the content."""
    return sniff(path).format


def _format_of(text: str) -> str:
    lines = [ln.strip() for ln in text.removeprefix("\ufeff").splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    # A JSON object's line can look like a header ('..., title, ...' in its text); no CSV
    # header starts with '{'.
    if not first.startswith("{") and header_delimiter(first) is not None:
        return "csv"  # the CSV reader says which required column is missing, if any
    # JSON Lines when one of the first lines holds an object and most hold an object or another
    # JSON value (a broken line may come first; an array line is a bad record, not a listing).
    sample = lines[:50]
    objects = sum(ln.startswith("{") for ln in sample)
    if objects and (objects + sum(_json_array(ln) for ln in sample)) * 2 >= len(sample):
        return "jsonl"
    return "listing"


def _json_array(line: str) -> bool:
    """True for a line holding a JSON array ('[1] arXiv:...' in a listing page is not one)."""
    if not line.startswith("["):
        return False
    try:
        return isinstance(json.loads(line), list)
    except ValueError:
        return False


def header_delimiter(line: str) -> str | None:
    """The delimiter of a CSV header that names a 'title' column, or None."""
    best: tuple[int, str] | None = None
    for delimiter in DELIMITERS:
        columns = [c.strip().strip('"').lower() for c in line.split(delimiter)]
        if len(columns) > 1 and "title" in columns and (best is None or len(columns) > best[0]):
            best = (len(columns), delimiter)
    return best[1] if best else None


def detect_encoding(head: bytes, given: str | None, path: Path) -> str:
    """The encoding given, else the one a byte-order mark names, else UTF-16 when every other
    byte is NUL, else UTF-8."""
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


def read_bytes(handle: BinaryIO, path: Path, size: int) -> bytes:
    try:
        return handle.read(size)
    except (EOFError, OSError, zlib.error):
        raise DumpError("gzip data is truncated or corrupt; re-download the dump", path) from None


def chunks(handle: BinaryIO, path: Path) -> Iterator[bytes]:
    while block := read_bytes(handle, path, _BLOCK):
        yield block


def decoded_lines(source: Source, log: ReadLog, hint: bool = True,
                  undecodable: set[int] | None = None) -> Iterator[tuple[int, str]]:
    """(line number, text) pairs of a text dump, without line endings (``\\n``, ``\\r\\n`` or
    a lone ``\\r``). A line that does not decode is logged and dropped; or, when the caller
    passes an ``undecodable`` set (a reader whose records span lines), it is kept with
    replacement characters and its number added to the set, so the caller can drop the whole
    record it belongs to. ``hint``: whether the error for a file where nothing decodes
    suggests ``--encoding``."""
    path, name = source.path, source.encoding_name
    decoded_any = False
    with source.open() as handle:
        for number, (text, ok) in enumerate(_texts(handle, path, source.encoding), 1):
            if not ok:
                if undecodable is None:
                    log.skip(str(path), number, f"not {name}")
                    continue
                undecodable.add(number)
            decoded_any = decoded_any or (ok and bool(text.strip()))
            yield number, text
    if not decoded_any:
        raise undecodable_file(path, name, hint)


def undecodable_file(path: Path, name: str, hint: bool = True) -> DumpError:
    """The error for a dump where no line decodes."""
    advice = (", or give its encoding with --encoding (for example --encoding latin-1)"
              if hint else "")
    return DumpError(f"is not {name} text; re-save it as UTF-8{advice}", path, 1)


def _texts(handle: BinaryIO, path: Path, encoding: str) -> Iterator[tuple[str, bool]]:
    """Each line's text, and whether it decoded (else it holds replacement characters)."""
    if "\n".encode(encoding) != b"\n":
        for line in _wide_lines(handle, path, encoding):
            yield line, "\ufffd" not in line
        return
    for number, raw in enumerate(_byte_lines(handle, path), 1):
        yield decode_line(raw, number, encoding)


def decode_line(raw: bytes, number: int, encoding: str) -> tuple[str, bool]:
    """One line's bytes (without its newline) as text, and whether it decoded (else it holds
    replacement characters). The first line may start with a UTF-8 byte-order mark (Excel,
    Notepad)."""
    codec = "utf-8-sig" if number == 1 and encoding == "utf-8" else encoding
    try:
        return raw.removesuffix(b"\r").decode(codec), True
    except UnicodeDecodeError:
        return raw.removesuffix(b"\r").decode(codec, "replace"), False


def lone_cr_lines(first_block: bytes) -> bool:
    """Whether a text's lines end with a lone carriage return (old Mac files), judged from
    its first block: it has carriage returns and no newline at all."""
    return b"\n" not in first_block and b"\r" in first_block[:-1]


def _byte_lines(handle: BinaryIO, path: Path) -> Iterator[bytes]:
    """Lines of an ASCII-compatible text, split on bytes (so one bad byte spoils one line);
    a '\\r' before a newline stays, for ``decode_line`` to drop."""
    carry = b""
    separator = b""
    for block in chunks(handle, path):
        data = carry + block
        if not separator:
            separator = b"\r" if lone_cr_lines(data) else b"\n"
        parts = data.split(separator)
        carry = parts.pop()
        yield from parts
    if carry:
        yield carry


def _wide_lines(handle: BinaryIO, path: Path, encoding: str) -> Iterator[str]:
    """Lines of a UTF-16 or UTF-32 text; undecodable bytes become U+FFFD (and drop the line)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    carry = ""
    for block in chunks(handle, path):
        text = carry + decoder.decode(block)
        held = "\r" if text.endswith("\r") else ""  # maybe the first half of a \r\n
        parts = re.split(r"\r\n|\n|\r", text.removesuffix(held))
        carry = parts.pop() + held
        yield from parts
    carry += decoder.decode(b"", final=True)
    if carry:
        yield from re.split(r"\r\n|\n|\r", carry.removesuffix("\r"))
