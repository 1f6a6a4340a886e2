"""Papers in the store: one row per paper, the newest version's text.

A paper seen again is stored once: a newer version (a higher arXiv version number, else a
later ``updated`` time) replaces its text and marks its tags stale when the text changed; an
older or equal copy only fills fields the stored row lacks.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields

from ..io.records import Paper

_IN_CHUNK = 500  # ids per "IN (...)" lookup, under SQLite's variable limit


@dataclass(slots=True)
class StoredPaper:
    """A paper as the store keeps it (``papers`` table columns but ``added_at``)."""

    id: str
    title: str
    abstract: str
    version: int | None = None
    authors: str = ""
    categories: str = ""
    submitted: str = ""
    updated: str = ""
    url: str = ""
    source: str = ""

    @classmethod
    def from_paper(cls, paper: Paper) -> StoredPaper:
        """A paper read from a dump (no version, no authors' names, no categories)."""
        return cls(id=paper.id, title=paper.title, abstract=paper.abstract,
                   submitted=paper.date or "", url=paper.url or "", source=paper.source or "")


_COLUMNS = [f.name for f in fields(StoredPaper)]
_FILLED = ("authors", "categories", "submitted", "updated", "url")


@dataclass
class Stored:
    """What one :func:`store_papers` call changed."""

    new: int = 0
    updated: int = 0


def now() -> str:
    """The current UTC time as the store writes it."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def newer(new: StoredPaper, old: dict) -> bool:
    """True when ``new`` is a later version than the stored row ``old``."""
    if new.version is not None and old["version"] is not None:
        return new.version > old["version"]
    if new.updated and old["updated"]:
        if len(new.updated) != len(old["updated"]):  # a date against a time: compare days
            return new.updated[:10] > old["updated"][:10]
        return new.updated > old["updated"]
    return False


def store_papers(conn: sqlite3.Connection, papers: Iterable[StoredPaper]) -> Stored:
    """Insert new papers, update those ``papers`` holds a newer version of; call inside a
    transaction. Repeats within ``papers`` count once (the newest wins)."""
    latest: dict[str, StoredPaper] = {}
    for paper in papers:
        seen = latest.get(paper.id)
        if seen is None or newer(paper, _as_row(seen)):
            latest[paper.id] = paper
    result = Stored()
    if not latest:
        return result
    stored = dict(_rows(conn, list(latest)))
    inserts, updates, fills, stale = [], [], [], []
    for paper in latest.values():
        old = stored.get(paper.id)
        if old is None:
            inserts.append(paper)
        elif newer(paper, old):
            updates.append(paper)
            if (paper.title, paper.abstract) != (old["title"], old["abstract"]):
                stale.append(paper.id)
        elif any(not old[c] and getattr(paper, c) for c in _FILLED):
            fills.append(paper)
    added = now()
    conn.executemany(
        f"INSERT INTO papers ({', '.join(_COLUMNS)}, added_at) "
        f"VALUES ({', '.join('?' * len(_COLUMNS))}, ?)",
        ([*_values(p), added] for p in inserts))
    conn.executemany(
        "UPDATE papers SET title = ?, abstract = ?, version = ?, "
        "authors = coalesce(nullif(?, ''), authors), "
        "categories = coalesce(nullif(?, ''), categories), "
        "submitted = coalesce(nullif(submitted, ''), ?), updated = ?, "
        "url = coalesce(nullif(?, ''), url), source = ? WHERE id = ?",
        ([p.title, p.abstract, p.version, p.authors, p.categories, p.submitted, p.updated,
          p.url, p.source, p.id] for p in updates))
    conn.executemany(
        "UPDATE papers SET " + ", ".join(f"{c} = coalesce(nullif({c}, ''), ?)" for c in _FILLED)
        + " WHERE id = ?", ([*(getattr(p, c) for c in _FILLED), p.id] for p in fills))
    for start in range(0, len(stale), _IN_CHUNK):
        part = stale[start:start + _IN_CHUNK]
        conn.execute(f"UPDATE tags SET stale = 1 WHERE paper_id IN ({', '.join('?' * len(part))})",
                     part)
    result.new, result.updated = len(inserts), len(updates)
    return result


def _values(paper: StoredPaper) -> list:
    return [getattr(paper, c) for c in _COLUMNS]


def _as_row(paper: StoredPaper) -> dict:
    return {c: getattr(paper, c) for c in _COLUMNS}


def _rows(conn: sqlite3.Connection, ids: list[str]) -> Iterator[tuple[str, dict]]:
    names = ["id", "version", "title", "abstract", *_FILLED]
    for start in range(0, len(ids), _IN_CHUNK):
        part = ids[start:start + _IN_CHUNK]
        query = (f"SELECT {', '.join(names)} FROM papers "
                 f"WHERE id IN ({', '.join('?' * len(part))})")
        for row in conn.execute(query, part):
            yield row[0], dict(zip(names, row, strict=True))
