"""The store's papers and their tags as the table `taxonomy tag` writes, for the report, the
digest and the review queue. Per paper, its tag from the model in use when it has one, else
its latest tag."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ..io.records import Paper
from .schema import connect, guard, score_columns, transaction

if TYPE_CHECKING:
    import pandas as pd

# Columns beside the tag table's: what the digest and the feeds show.
EXTRA = ["abstract", "authors", "categories", "updated", "stale"]


def tagged_frame(db: str | os.PathLike, category_ids: Sequence[str], model_version: str = "",
                 since: dt.date | None = None, until: dt.date | None = None,
                 extra: bool = False) -> pd.DataFrame:
    """Tagged papers submitted from ``since`` to ``until`` (both optional; undated papers
    only without ``since``), in the columns of ``tag_columns`` (plus ``EXTRA``). Imports no
    tagging code, so that a digest starts fast."""
    import pandas as pd

    conn = connect(db, create=False)
    try:
        with guard(db):
            with transaction(conn):
                scores = score_columns(conn, category_ids)
            where, params = [], [model_version]
            if since is not None:
                where.append("p.submitted >= ?")
                params.append(since.isoformat())
            if until is not None:
                where.append("p.submitted <= ?")
                params.append(until.isoformat() + "\uffff")
            query = (
                "SELECT p.id, p.title, p.submitted AS date, t.labels, "
                + "".join(f"t.{c}, " for c in scores)
                + "t.top_terms, t.source, p.url, t.model, t.model_version"
                + (", p.abstract, p.authors, p.categories, p.updated, t.stale" if extra else "")
                + " FROM papers p JOIN tags t ON t.rowid = (SELECT rowid FROM tags "
                "WHERE paper_id = p.id ORDER BY model_version = ? DESC, tagged_at DESC "
                "LIMIT 1)" + (f" WHERE {' AND '.join(where)}" if where else "")
                + " ORDER BY p.submitted, p.id")
            frame = pd.read_sql_query(query, conn, params=params)
    finally:
        conn.close()
    return frame  # in the columns of tagging.tag_columns (checked by the tests), then EXTRA


def labels_by_day(db: str | os.PathLike, model_version: str, since: dt.date,
                  until: dt.date) -> pd.DataFrame:
    """``date`` and ``labels`` of every tagged paper submitted from ``since`` to ``until``
    (the tag chosen as in :func:`tagged_frame`): enough to count papers per category."""
    import pandas as pd

    conn = connect(db, create=False)
    try:
        with guard(db):
            return pd.read_sql_query(
                "SELECT p.submitted AS date, t.labels FROM papers p JOIN tags t ON t.rowid = "
                "(SELECT rowid FROM tags WHERE paper_id = p.id ORDER BY model_version = ? "
                "DESC, tagged_at DESC LIMIT 1) WHERE p.submitted BETWEEN ? AND ?", conn,
                params=[model_version, since.isoformat(), until.isoformat()])
    finally:
        conn.close()


def counts(db: str | os.PathLike) -> dict[str, int]:
    """Papers, tagged papers and stale tags in the store."""
    conn = connect(db, create=False)
    try:
        with guard(db):
            return _counts(conn)
    finally:
        conn.close()


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    one = conn.execute
    return {
        "papers": one("SELECT count(*) FROM papers").fetchone()[0],
        "tagged": one("SELECT count(DISTINCT paper_id) FROM tags").fetchone()[0],
        "stale": one("SELECT count(*) FROM tags WHERE stale = 1").fetchone()[0],
    }


def untagged_between(db: str | os.PathLike, since: dt.date, until: dt.date) -> int:
    """Papers submitted from ``since`` to ``until`` that have no tags at all."""
    conn = connect(db, create=False)
    try:
        with guard(db):
            return conn.execute(
                "SELECT count(*) FROM papers p WHERE p.submitted BETWEEN ? AND ? AND NOT "
                "EXISTS (SELECT 1 FROM tags t WHERE t.paper_id = p.id)",
                (since.isoformat(), until.isoformat())).fetchone()[0]
    finally:
        conn.close()


def stored_papers(db: str | os.PathLike, batch: int = 4_000) -> Iterator[Paper]:
    """Every paper of the store as a :class:`Paper` record, in batches (memory stays flat)."""
    conn = connect(db, create=False)
    try:
        with guard(db):
            last = 0
            while True:
                rows = conn.execute("SELECT rowid, id, title, abstract, submitted, url, source "
                                    "FROM papers WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                    (last, batch)).fetchall()
                if not rows:
                    return
                last = rows[-1][0]
                for _, pid, title, abstract, date, url, source in rows:
                    yield Paper(id=pid, title=title, abstract=abstract, date=date, url=url,
                                source=source)
    finally:
        conn.close()
