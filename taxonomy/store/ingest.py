"""Dumps into the store: every paper any reader reads (arXiv ids where the dump has them,
else the tool's stable id), stored once, a transaction per batch."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
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
            first = conn.execute("SELECT coalesce(max(rowid), 0) FROM papers").fetchone()[0]
            dedupe = Deduplicator()
            papers = read_papers(inputs, log=log, reference_date=reference_date, fmt=fmt,
                                 encoding=encoding, dedupe=dedupe)
            for chunk in chunked(papers, BATCH):
                with transaction(conn):
                    stored = store_papers(conn, (StoredPaper.from_paper(p) for p in chunk))
                total.new += stored.new
                total.updated += stored.updated
            if dedupe.updates:
                _patch_repeats(conn, dedupe, first)
    finally:
        conn.close()
    return total


def _patch_repeats(conn: sqlite3.Connection, dedupe: Deduplicator, after: int) -> None:
    """Fill the new rows' missing date, link or arXiv id from their repeats later in the
    inputs (as the tagged files get them): rows after rowid ``after`` are this run's."""
    last = after
    while True:
        rows = conn.execute("SELECT rowid, id, title, submitted, url FROM papers WHERE rowid > ? "
                            "ORDER BY rowid LIMIT ?", (last, BATCH)).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        with transaction(conn):
            for _, pid, title, date, url in rows:
                row = {"id": pid, "title": title, "date": date, "url": url}
                new = dedupe.updated(row)
                if new == row:
                    continue
                taken = new["id"] != pid and conn.execute(
                    "SELECT 1 FROM papers WHERE id = ?", (new["id"],)).fetchone()
                conn.execute("UPDATE papers SET id = ?, submitted = ?, url = ? WHERE id = ?",
                             (pid if taken else new["id"], new["date"] or "", new["url"] or "",
                              pid))
