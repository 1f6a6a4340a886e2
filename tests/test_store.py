"""The paper store's file: created right, refused with one line when it is not a store."""

from __future__ import annotations

import sqlite3

import pytest

from taxonomy.store.papers import StoredPaper, store_papers
from taxonomy.store.schema import SCHEMA_VERSION, StoreError, connect, transaction


def test_a_new_store_is_plain_sqlite_in_wal_mode(tmp_path):
    db = tmp_path / "papers.db"
    connect(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"papers", "tags", "fetches"}
    columns = [r[1] for r in conn.execute("PRAGMA table_info(papers)")]
    assert columns == ["id", "version", "title", "abstract", "authors", "categories",
                       "submitted", "updated", "url", "source", "added_at"]


@pytest.mark.parametrize("content, message", [
    (b"id,title\n1,a\n", "is not a SQLite file, so not a paper store"),
    (b"SQLite format 3\x00" + b"\x07" * 200, "is damaged or not a SQLite file"),
])
def test_a_corrupt_file_is_one_line(tmp_path, cli, content, message):
    db = tmp_path / "papers.db"
    db.write_bytes(content)
    result = cli("tag", "--db", db)
    assert result.returncode == 2
    assert result.stderr.startswith(f"taxonomy: error: {db}: {message}")
    assert result.stderr.count("\n") == 1
    assert db.read_bytes() == content


def test_a_foreign_sqlite_database_is_refused_untouched(tmp_path, cli):
    db = tmp_path / "other.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    result = cli("fetch", "arxiv", "--category", "cs.LG", "--db", db)
    assert result.returncode == 2
    assert result.stderr == (f"taxonomy: error: {db}: is a SQLite database but not a paper "
                             "store (it lacks the papers, tags, fetches table(s)); give the "
                             "store 'taxonomy fetch' writes, or a new file name\n")
    assert db.read_bytes() == before


def test_a_store_of_a_newer_release_is_refused(tmp_path):
    db = tmp_path / "papers.db"
    connect(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="written by a newer release of taxonomy"):
        connect(db)


def test_a_missing_store_is_one_line_where_it_must_exist(tmp_path, cli):
    result = cli("tag", "--db", tmp_path / "none.db")
    assert result.returncode == 2
    assert "no such store; fetch papers into it first" in result.stderr


def _paper(version=None, updated="", abstract="text", **kw):
    return StoredPaper(id="2611.00001", title="T", abstract=abstract, version=version,
                       updated=updated, **kw)


def test_papers_are_stored_once_and_newer_versions_win(tmp_path):
    conn = connect(tmp_path / "p.db")
    with transaction(conn):
        assert store_papers(conn, [_paper(1, "2026-11-01T00:00:00Z"),
                                   _paper(1, "2026-11-01T00:00:00Z")]).new == 1
    with transaction(conn):  # a dump's copy (no version, no date) fills what is missing only
        done = store_papers(conn, [_paper(abstract="other", categories="cs.LG")])
    assert (done.new, done.updated) == (0, 0)
    assert conn.execute("SELECT abstract, categories FROM papers").fetchone() == ("text",
                                                                                  "cs.LG")
    with transaction(conn):
        assert store_papers(conn, [_paper(2, "2026-11-05T00:00:00Z", "v2")]).updated == 1
    with transaction(conn):  # OAI's records carry days, not versions
        assert store_papers(conn, [_paper(None, "2026-11-05", "oai")]).updated == 0
        assert store_papers(conn, [_paper(None, "2026-11-09", "oai")]).updated == 1
    assert conn.execute("SELECT version, abstract FROM papers").fetchone() == (None, "oai")
