"""The paper store's file: opening it safely, its tables, and its schema version.

A store is a plain SQLite file (it opens in the ``sqlite3`` shell and in Datasette) in WAL
mode, so readers never block the one writer, with a busy timeout, so that two runs at once
wait for each other instead of failing. ``PRAGMA user_version`` holds the schema version and
``PRAGMA application_id`` marks the file as a store, so a foreign or newer file is refused
with a clear message before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..errors import TaxonomyError

SCHEMA_VERSION = 1
APPLICATION_ID = 0x54584E4D  # "TXNM"
# How long a run waits for another run's write transaction before giving up.
BUSY_SECONDS = 120.0
_MAGIC = b"SQLite format 3\x00"

TABLES = ("papers", "tags", "fetches")

_SCHEMA = """
CREATE TABLE papers (
    id TEXT PRIMARY KEY,        -- arXiv id without version, else the tool's id
    version INTEGER,            -- arXiv version number (NULL when unknown)
    title TEXT NOT NULL,
    abstract TEXT NOT NULL,
    authors TEXT NOT NULL DEFAULT '',     -- names separated by ', '
    categories TEXT NOT NULL DEFAULT '',  -- arXiv categories separated by spaces
    submitted TEXT NOT NULL DEFAULT '',   -- YYYY-MM-DD of the first version
    updated TEXT NOT NULL DEFAULT '',     -- ISO time of the latest version
    url TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',      -- arxiv-api, arxiv-oai or the dump's file:line
    added_at TEXT NOT NULL                -- when the store first held the paper (UTC)
);
CREATE INDEX papers_submitted ON papers(submitted);
CREATE TABLE tags (
    paper_id TEXT NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    model_version TEXT NOT NULL,
    labels TEXT NOT NULL,                 -- category ids separated by ';'
    top_terms TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,                 -- hand or model
    tagged_at TEXT NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0,     -- 1 once a newer version of the paper arrived
    PRIMARY KEY (paper_id, model_version)
);
CREATE TABLE fetches (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                   -- arxiv or oai
    query TEXT NOT NULL,
    since TEXT NOT NULL DEFAULT '',
    until TEXT NOT NULL DEFAULT '',
    started_at TEXT NOT NULL,
    finished_at TEXT,                     -- NULL while running or after an interruption
    papers_new INTEGER NOT NULL DEFAULT 0,
    papers_updated INTEGER NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0,   -- malformed entries left out
    position INTEGER NOT NULL DEFAULT 0,  -- API: results stored so far
    token TEXT NOT NULL DEFAULT ''        -- OAI-PMH: the resumption token to continue from
);
CREATE INDEX fetches_query ON fetches(kind, query, finished_at);
"""


class StoreError(TaxonomyError):
    """A paper store cannot be opened, read or written."""


def connect(path: str | os.PathLike, create: bool = True) -> sqlite3.Connection:
    """Open (or create) the store at ``path``: checked, in WAL mode, with a busy timeout.

    Transactions are explicit (``isolation_level=None``; see :func:`transaction`)."""
    path = Path(path)
    if path.is_dir():
        raise StoreError("is a folder; give the store's file name, e.g. papers.db", path)
    exists = path.exists() and path.stat().st_size > 0
    if not exists and not create:
        raise StoreError("no such store; fetch papers into it first (taxonomy fetch arxiv "
                         f"--db {path}) or check the path", path)
    if exists:
        _check_magic(path)
    with guard(path):
        if not exists:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=BUSY_SECONDS, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            _prepare(conn, path)
        except BaseException:
            conn.close()
            raise
    return conn


def is_sqlite(path: str | os.PathLike) -> bool:
    """True for an existing file that starts as every SQLite database does."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(_MAGIC)) == _MAGIC
    except OSError:
        return False


def _check_magic(path: Path) -> None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_MAGIC))
    except OSError as exc:
        raise StoreError(f"cannot read it ({exc.strerror}); check its permissions", path) \
            from None
    if head != _MAGIC:
        raise StoreError("is not a SQLite file, so not a paper store; give the store "
                         "'taxonomy fetch' writes (e.g. papers.db) or a new file name", path)


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Check the file is a store this release can use, creating the tables in a new one."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if version > SCHEMA_VERSION and app == APPLICATION_ID:
        raise StoreError(f"was written by a newer release of taxonomy (store schema "
                         f"{version}, this release reads up to {SCHEMA_VERSION}); upgrade: "
                         "pip install -U efficiency-taxonomy", path)
    conn.execute("PRAGMA synchronous = FULL")
    if not names:
        conn.execute("PRAGMA journal_mode = WAL")
        # One transaction: a run killed here leaves an empty file, never half a schema.
        conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}PRAGMA application_id = {APPLICATION_ID};"
                           f"PRAGMA user_version = {SCHEMA_VERSION};COMMIT;")
        return
    missing = [t for t in TABLES if t not in names]
    if app != APPLICATION_ID or missing:
        raise StoreError("is a SQLite database but not a paper store (it lacks the "
                         f"{', '.join(missing or TABLES)} table(s)); give the store "
                         "'taxonomy fetch' writes, or a new file name", path)
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        conn.execute("PRAGMA journal_mode = WAL")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (BEGIN IMMEDIATE, so two writers queue on the
    busy timeout rather than deadlock), committed when the block ends, else rolled back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise
    conn.execute("COMMIT")


@contextlib.contextmanager
def guard(path: str | os.PathLike) -> Iterator[None]:
    """Turn SQLite's errors on the store at ``path`` into one-line :class:`StoreError`s."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise StoreError(f"another run held it for more than {BUSY_SECONDS:g} s; try "
                             "again when it is done", path) from None
        code = getattr(exc, "sqlite_errorname", "")
        if "full" in text or code.startswith(("SQLITE_FULL", "SQLITE_IOERR_WRITE",
                                               "SQLITE_IOERR_FSYNC", "SQLITE_IOERR_TRUNCATE")):
            raise StoreError(f"cannot write to it: the disk is full or a file-size limit was "
                             f"reached ({code or text}); free space and run again: the store "
                             "kept every finished step", path) from None
        if "unable to open" in text or "readonly" in text:
            raise StoreError(f"cannot open or write it ({text}); check the path and its "
                             "permissions", path) from None
        raise StoreError(f"SQLite failed ({text}); the store kept every finished step, run "
                         "again", path) from None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"is damaged or not a SQLite file ({exc}); give another file, or "
                         "restore it from a backup", path) from None


def score_columns(conn: sqlite3.Connection, category_ids: Sequence[str]) -> list[str]:
    """The tags table's ``score_<category>`` columns for ``category_ids``, added if missing
    (a taxonomy with a new category adds a column; older rows hold NULL there)."""
    have = {r[1] for r in conn.execute("PRAGMA table_info(tags)")}
    columns = [f"score_{c}" for c in category_ids]
    for column in columns:
        if column not in have:
            if not column.replace("_", "").isalnum():
                raise StoreError(f"category id {column[6:]!r} cannot name a column")
            conn.execute(f'ALTER TABLE tags ADD COLUMN "{column}" REAL')
    return columns
