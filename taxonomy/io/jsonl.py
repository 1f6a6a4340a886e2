"""JSON Lines dumps, the arXiv metadata snapshot among them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator

from .fields import from_fields
from .readlog import ReadLog
from .records import Paper


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
