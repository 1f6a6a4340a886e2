"""The store under faults, through the real command in subprocesses: a fetch killed part-way
resumes and stores nothing twice; two updates at once lose nothing; a full disk is one line
and leaves the store consistent."""

from __future__ import annotations

import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from conftest import count_cases
from fakearxiv import FakeArxiv, make_entries, serve

# Every test here runs fetches or tagging as subprocesses.
pytestmark = pytest.mark.slow

DAYS = [f"2026-11-{d:02d}" for d in range(1, 31)]


@pytest.fixture()
def fake():
    # 30 days of 30 papers with long abstracts: 900 papers, 5 pages of 200
    fake = FakeArxiv(entries=make_entries(DAYS, per_day=30))
    for entry in fake.entries:
        entry.abstract += " More words about the method and its results." * 20
    server = serve(fake)
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()


def _env(fake):
    return {**os.environ, "TAXONOMY_FETCH_DELAY": "0", "TAXONOMY_FETCH_RETRIES": "2",
            "TAXONOMY_ARXIV_API": fake.api_url}


def _command(*args):
    return [sys.executable, "-m", "taxonomy", *map(str, args)]


FETCH = ("fetch", "arxiv", "--category", "cs.LG", "--since", "2026-11-01", "--until",
         "2026-11-30", "--db")


def _check(db, papers):
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = [r[0] for r in conn.execute("SELECT id FROM papers")]
        assert len(ids) == len(set(ids)) == papers
        return conn.execute("SELECT position, finished_at IS NOT NULL FROM fetches "
                            "ORDER BY id").fetchall()
    finally:
        conn.close()


def test_a_fetch_killed_between_pages_resumes_where_it_stopped(fake, tmp_path):
    count_cases("fetches killed (SIGKILL)")
    db = tmp_path / "papers.db"
    fake.block_at = 3  # the third page's request: two pages are stored
    process = subprocess.Popen(_command(*FETCH, db, "-q"), env=_env(fake), cwd=tmp_path)
    assert fake.blocked.wait(60)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    fake.release.set()
    assert _check(db, 400) == [(400, 0)]
    fake.requests.clear()
    done = subprocess.run(_command(*FETCH, db), env=_env(fake), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "500 new papers" in done.stdout and "resumed an interrupted fetch" in done.stdout
    assert [r.split("start=")[1].split("&")[0] for r in fake.requests] == ["400", "600", "800"]
    assert _check(db, 900) == [(900, 1)]


def test_fetches_killed_at_random_moments_lose_and_duplicate_nothing(fake, tmp_path):
    db = tmp_path / "papers.db"
    rng = random.Random(7)
    env = {**_env(fake), "TAXONOMY_FETCH_DELAY": "0.2"}
    for _ in range(3):
        count_cases("fetches killed (SIGKILL)")
        process = subprocess.Popen(_command(*FETCH, db, "-q"), env=env, cwd=tmp_path)
        time.sleep(rng.uniform(0.8, 2.0))
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
    done = subprocess.run(_command(*FETCH, db, "-q"), env=_env(fake), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    log = _check(db, 900)
    assert log[-1] == (900, 1)


@pytest.mark.slow
def test_two_updates_at_once_lose_nothing(fake, tmp_path):
    count_cases("concurrent updates")
    db, out = tmp_path / "papers.db", tmp_path / "digest"
    runs = [subprocess.Popen(_command("update", "--db", db, "--category", "cs.LG", "-o", out,
                                      "--days", "30", "-q", "--jobs", "1"),
                             env=_env(fake), cwd=tmp_path,
                             stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    errors = [run.communicate(timeout=300)[1] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], errors
    conn = sqlite3.connect(db)
    papers = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    tagged = conn.execute("SELECT count(DISTINCT paper_id), count(*) FROM tags").fetchone()
    conn.close()
    assert papers > 0 and tagged == (papers, papers)
    assert (out / "digest.html").is_file() and len(list((out / "feeds").iterdir())) == 6
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _limited(size: int):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
    return limit


def test_a_full_disk_is_one_line_and_leaves_the_store_consistent(fake, tmp_path):
    count_cases("fetches on a full disk")
    db = tmp_path / "papers.db"
    result = subprocess.run(_command(*FETCH, db), env=_env(fake), cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            preexec_fn=_limited(600_000))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"taxonomy: error: {db}: cannot write to it: the disk is "
                                    "full or a file-size limit was reached (SQLITE_")
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    (position, finished), = conn.execute("SELECT position, finished_at FROM fetches")
    stored = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
    conn.close()
    assert finished is None and stored == position and 0 < stored < 900
    done = subprocess.run(_command(*FETCH, db), env=_env(fake), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _check(db, 900)[-1] == (900, 1)


def test_tagging_on_a_full_disk_is_one_line_and_keeps_the_store(fake, tmp_path):
    count_cases("tagging a store on a full disk")
    db = tmp_path / "papers.db"
    assert subprocess.run(_command(*FETCH, db, "-q"), env=_env(fake), cwd=tmp_path,
                          timeout=120).returncode == 0
    # Writes go to the write-ahead log first: a limit below its size cuts the batch's commit.
    result = subprocess.run(_command("tag", "--db", db, "--jobs", "1"), env=_env(fake),
                            cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            preexec_fn=_limited(50_000))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "cannot write to it: the disk is full or a file-size limit was reached" in \
        result.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("SELECT count(*) FROM tags").fetchone()[0] in (0, 900)
    conn.close()
