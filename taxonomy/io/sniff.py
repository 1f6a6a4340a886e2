"""Opening a dump: gzip by its magic bytes, the format judged from the content, and the text
decoded line by line (lines that are not UTF-8 are logged and dropped)."""

from __future__ import annotations

import gzip
import itertools
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

from ..errors import DumpError
from .readlog import ReadLog

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_SNIFF_BYTES = 64 * 1024


def sniff_format(path: Path) -> str:
    """'parquet', 'jsonl', 'csv' or 'listing', judged from the content."""
    with open_binary(path) as handle:
        if read_bytes(handle, path, 4) == _PARQUET_MAGIC:
            return "parquet"
        handle.seek(0)
        head = read_head(handle, path)
    head = head.removeprefix(b"\xef\xbb\xbf")  # the BOM Excel and Notepad put before UTF-8
    first = next((ln.strip() for ln in head.splitlines() if ln.strip()), b"")
    if first.startswith(b"{"):
        return "jsonl"
    header = first.decode("utf-8", "replace").lower()
    columns = {c.strip().strip('"') for c in re.split(r"[,\t]", header)}
    if len(columns) > 1 and "title" in columns:
        return "csv"  # the CSV reader says which required column is missing, if any
    return "listing"


def gzip_compressed(path: str | os.PathLike) -> bool:
    """True when the file starts with gzip's magic bytes, whatever its name."""
    with open(path, "rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def open_binary(path: Path) -> BinaryIO:
    if path.is_dir():
        raise DumpError("is a directory; give the dump files inside it", path)
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise DumpError("no such file; check the path", path) from None
    except OSError as exc:
        raise DumpError(f"cannot open ({exc.strerror}); check its permissions", path) from None
    if handle.read(2) == _GZIP_MAGIC:
        handle.close()
        return cast(BinaryIO, gzip.open(path, "rb"))
    handle.seek(0)
    return handle


def read_bytes(handle: BinaryIO, path: Path, size: int) -> bytes:
    try:
        return handle.read(size)
    except (EOFError, OSError, zlib.error):
        raise DumpError("gzip data is truncated or corrupt; re-download the dump", path) from None


def read_head(handle: BinaryIO, path: Path) -> bytes:
    head = read_bytes(handle, path, _SNIFF_BYTES)
    if not head.strip():
        raise DumpError("file is empty; give a dump with at least one paper", path)
    if b"\x00" in head:
        raise DumpError("looks binary, not a text dump; give a listing page, JSONL or CSV", path)
    return head


def decoded_lines(path: Path, log: ReadLog) -> Iterator[tuple[int, str]]:
    """(line number, text) pairs; lines that are not UTF-8 are logged and dropped."""
    handle = open_binary(path)
    with handle:
        head = read_head(handle, path)
        rest = chunks(handle, path)
        number = 0
        carry = b""
        decoded_any = False
        for block in itertools.chain([head], rest):
            data = carry + block
            parts = data.split(b"\n")
            carry = parts.pop()
            for raw in parts:
                number += 1
                text = decode(raw, number == 1)
                if text is None:
                    log.skip(str(path), number, "not UTF-8")
                    continue
                decoded_any = decoded_any or bool(text.strip())
                yield number, text
        if carry:
            number += 1
            text = decode(carry, number == 1)
            if text is None:
                log.skip(str(path), number, "not UTF-8")
            else:
                decoded_any = decoded_any or bool(text.strip())
                yield number, text
        if not decoded_any:
            raise DumpError("is not UTF-8 text; re-save it as UTF-8", path, 1)


def chunks(handle: BinaryIO, path: Path) -> Iterator[bytes]:
    while True:
        try:
            block = handle.read(1 << 20)
        except (EOFError, OSError, zlib.error):
            raise DumpError("gzip data is truncated or corrupt; re-download the dump",
                            path) from None
        if not block:
            return
        yield block


def decode(raw: bytes, first: bool) -> str | None:
    try:
        text = raw.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError:
        return None
    return text.rstrip("\r")
