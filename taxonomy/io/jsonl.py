"""JSON Lines dumps (the arXiv metadata snapshot among them), parsed by orjson; the records
read are those Python's json module reads, which gets the lines orjson refuses (``NaN``, lone
surrogates, deep nesting) or may read wrong (integers beyond 64 bits)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from .fields import from_fields
from .readlog import ReadLog
from .records import Paper


def read_jsonl(lines: Iterable[tuple[int, str]], path: str, log: ReadLog,
               reference: dt.date | None = None) -> Iterator[Paper]:
    """Papers from numbered JSON Lines; bad lines are logged and skipped."""
    for number, text in lines:
        try:
            row = _parsed(text)
        except (ValueError, RecursionError):
            log.skip(path, number, "not valid JSON")
            continue
        if row is _BLANK:
            continue
        if not isinstance(row, dict):
            log.skip(path, number, "not a JSON object")
            continue
        paper = from_fields(row, path, number, log, reference)
        if paper is not None:
            yield paper


_BLANK = object()


def _parsed(text: str) -> Any:
    """The line's JSON value as Python's json module reads it (``_BLANK`` for a blank line)."""
    if not text or text.isspace():  # before orjson, whose refusal costs an exception
        return _BLANK
    try:
        row = orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
    if type(row) is dict and float in map(type, row.values()) and any(
            type(value) is float and not -_BEYOND < value < _BEYOND for value in row.values()):
        return json.loads(text)  # maybe an integer beyond 64 bits, which json keeps
    return row


_BEYOND = 2.0**63
