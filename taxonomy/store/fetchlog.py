"""The ``fetches`` table: a log of every fetch, and where an interrupted one resumes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from .papers import Stored, now


@dataclass
class FetchRow:
    """One fetch of a query over a date range, and how far it got."""

    id: int
    kind: str
    query: str
    since: str
    until: str
    position: int = 0
    token: str = ""
    papers_new: int = 0
    papers_updated: int = 0
    skipped: int = 0
    resumed: bool = False


def last_until(conn: sqlite3.Connection, kind: str, query: str) -> str | None:
    """The end date of the last finished fetch of ``query``: where the next one starts."""
    row = conn.execute("SELECT until FROM fetches WHERE kind = ? AND query = ? AND "
                       "finished_at IS NOT NULL AND until != '' ORDER BY until DESC LIMIT 1",
                       (kind, query)).fetchone()
    return row[0] if row else None


def begin(conn: sqlite3.Connection, kind: str, query: str, since: str, until: str) -> FetchRow:
    """The unfinished fetch of this query and range to resume, else a new one."""
    row = conn.execute(
        "SELECT id, position, token, papers_new, papers_updated, skipped FROM fetches "
        "WHERE kind = ? AND query = ? AND since = ? AND until = ? AND finished_at IS NULL "
        "ORDER BY id DESC LIMIT 1", (kind, query, since, until)).fetchone()
    if row is not None:
        return FetchRow(row[0], kind, query, since, until, position=row[1], token=row[2],
                        papers_new=row[3], papers_updated=row[4], skipped=row[5], resumed=True)
    cursor = conn.execute("INSERT INTO fetches (kind, query, since, until, started_at) "
                          "VALUES (?, ?, ?, ?, ?)", (kind, query, since, until, now()))
    assert cursor.lastrowid is not None
    return FetchRow(cursor.lastrowid, kind, query, since, until)


def advance(conn: sqlite3.Connection, fetch: FetchRow, stored: Stored, entries: int,
            skipped: int, token: str = "") -> None:
    """Record a stored page (call in the page's transaction, so both or neither last)."""
    fetch.position += entries
    fetch.token = token
    fetch.papers_new += stored.new
    fetch.papers_updated += stored.updated
    fetch.skipped += skipped
    conn.execute("UPDATE fetches SET position = ?, token = ?, papers_new = ?, "
                 "papers_updated = ?, skipped = ? WHERE id = ?",
                 (fetch.position, fetch.token, fetch.papers_new, fetch.papers_updated,
                  fetch.skipped, fetch.id))


def finish(conn: sqlite3.Connection, fetch: FetchRow) -> None:
    conn.execute("UPDATE fetches SET finished_at = ? WHERE id = ?", (now(), fetch.id))
