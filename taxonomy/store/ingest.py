"""Dumps into the store: every paper any reader reads (arXiv ids where the dump has them,
else the tool's stable id), stored once, a transaction per batch."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence

from ..io.papers import chunked
from ..io.readers import check_inputs, read_papers
from ..io.readlog import ReadLog
from ..io.records import Deduplicator
from .papers import Stored, StoredPaper, store_papers
from .schema import connect, guard, transaction

BATCH = 4_000


def ingest(db: str | os.PathLike, inputs: Sequence[str | os.PathLike], log: ReadLog,
           reference_date: dt.date | None = None, fmt: str | None = None,
           encoding: str | None = None) -> Stored:
    """Store every unique paper of ``inputs``; returns how many were new or newer."""
    check_inputs(inputs, fmt=fmt, encoding=encoding)
    total = Stored()
    conn = connect(db)
    try:
        with guard(db):
            papers = read_papers(inputs, log=log, reference_date=reference_date, fmt=fmt,
                                 encoding=encoding, dedupe=Deduplicator())
            for chunk in chunked(papers, BATCH):
                with transaction(conn):
                    stored = store_papers(conn, (StoredPaper.from_paper(p) for p in chunk))
                total.new += stored.new
                total.updated += stored.updated
    finally:
        conn.close()
    return total
