"""The store as input and output of tagging: dumps in, tags per model version out."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
from conftest import DUMPS

from taxonomy.store.frame import tagged_frame
from taxonomy.store.papers import StoredPaper, store_papers
from taxonomy.store.schema import connect, transaction
from taxonomy.tagging.executors import InProcess
from taxonomy.tagging.tagger import Tagger, tag_columns


@pytest.fixture(scope="module")
def tagger():
    return Tagger.load()


def query(db, sql):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_dump_tagged_into_the_store_matches_the_file_output(cli, tmp_path, tagger):
    db = tmp_path / "papers.db"
    result = cli("tag", DUMPS[1], "--db", db, "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        f"stored 48 new papers and 0 new versions in {db}",
        f"tagged 48 papers in {db} (48 by hand label, 0 by model "
        f"{tagger.model.name} {tagger.model.version})"]
    assert cli("tag", DUMPS[1], "-o", tmp_path / "t.csv").returncode == 0
    by_file = pd.read_csv(tmp_path / "t.csv", dtype={"id": str}, keep_default_na=False)
    by_store = tagged_frame(db, tagger.model.state.category_ids)
    assert list(by_store.columns) == tag_columns(tagger.model.state.category_ids)
    merged = by_file.merge(by_store, on="id", suffixes=("", "_db"))
    assert len(merged) == 48
    for column in ["labels", "top_terms", "source", "model_version", "title",
                   *[c for c in by_file.columns if c.startswith("score_")]]:
        assert (merged[column] == merged[f"{column}_db"]).all(), column
    again = cli("tag", DUMPS[1], "--db", db)
    assert again.stdout.splitlines()[:2] == [
        f"stored 0 new papers and 0 new versions in {db}",
        f"tagged 0 papers in {db} (0 by hand label, 0 by model "
        f"{tagger.model.name} {tagger.model.version})"]


def _papers(n, start=0, prefix="2611"):
    return [StoredPaper(id=f"{prefix}.{i:05d}", title=f"Gradient compression {i}",
                        abstract="We compress gradients to cut communication between workers "
                                 f"in data-parallel training, variant {i}.",
                        version=1, updated="2026-11-20T00:00:00Z", submitted="2026-11-20")
            for i in range(start, start + n)]


def test_tags_what_lacks_a_fresh_tag_in_batches(tmp_path, tagger):
    from taxonomy.store.tagging import tag_store

    db = tmp_path / "papers.db"
    conn = connect(db)
    with transaction(conn):
        store_papers(conn, _papers(25))
    seen = []
    result = tag_store(db, tagger, InProcess(), batch=10, on_batch=lambda r: seen.append(
        r.papers))
    assert seen == [10, 20, 25] and result.counts["communication"] == 25
    assert tag_store(db, tagger, InProcess()).papers == 0
    with transaction(conn):  # a new version: its tag goes stale, and is redone
        fresh = _papers(1, 3)[0]
        fresh.version, fresh.title = 2, "Influence-based selection of training data"
        fresh.abstract = "We select training data by influence scores."
        store_papers(conn, [fresh])
    assert query(db, "SELECT paper_id FROM tags WHERE stale = 1") == [("2611.00003",)]
    assert tag_store(db, tagger, InProcess()).papers == 1
    assert query(db, "SELECT stale, labels FROM tags WHERE paper_id = '2611.00003'") == [
        (0, "data_selection")]
    assert tag_store(db, tagger, InProcess(), retag=True).papers == 25
    assert query(db, "SELECT count(*) FROM tags") == [(25,)]
    conn.close()


def test_tags_of_an_older_model_stay_and_the_current_ones_are_read(tmp_path, tagger):
    from taxonomy.store.tagging import tag_store

    db = tmp_path / "papers.db"
    conn = connect(db)
    with transaction(conn):
        store_papers(conn, _papers(3))
        conn.execute("INSERT INTO tags (paper_id, model, model_version, labels, source, "
                     "tagged_at) VALUES ('2611.00000', 'old', 'aaaaaaaaaaaa', 'memory', "
                     "'model', '2099-01-01T00:00:00Z')")
    conn.close()
    assert tag_store(db, tagger, InProcess()).papers == 3
    frame = tagged_frame(db, tagger.model.state.category_ids, tagger.model.version)
    assert set(frame["model_version"]) == {tagger.model.version}
    assert query(db, "SELECT count(*) FROM tags") == [(4,)]


def test_tag_needs_inputs_or_a_store(cli):
    result = cli("tag")
    assert result.returncode == 2
    assert result.stderr == ("taxonomy: error: give the INPUT files to tag, or a store with "
                             "--db FILE\n")


@pytest.mark.slow
def test_report_of_a_store_is_the_report_of_its_tags_file(cli, tmp_path):
    db = tmp_path / "papers.db"
    assert cli("tag", *DUMPS[:2], "--db", db).returncode == 0
    assert cli("tag", *DUMPS[:2], "-o", tmp_path / "t.csv").returncode == 0
    by_store = cli("report", db, "-o", tmp_path / "from-store")
    by_file = cli("report", tmp_path / "t.csv", "-o", tmp_path / "from-file")
    assert by_store.returncode == 0, by_store.stderr
    assert by_store.stdout.split("\nwrote")[0] == by_file.stdout.split("\nwrote")[0]
    for name in ("categories.csv", "over_time.csv", "cooccurrence.csv"):
        assert (tmp_path / "from-store" / name).read_bytes() == \
            (tmp_path / "from-file" / name).read_bytes(), name


def test_review_queues_from_a_store(cli, tmp_path):
    db = tmp_path / "papers.db"
    conn = connect(db)
    with transaction(conn):
        store_papers(conn, _papers(30))
    conn.close()
    result = cli("review", "--db", db, "--top", "3", "-o", tmp_path / "q.csv")
    assert result.returncode == 0, result.stderr
    queue = pd.read_csv(tmp_path / "q.csv", dtype=str)
    assert len(queue) == 3 and queue["id"].str.startswith("2611.").all()
    assert cli("review", "--db", db, "-o", tmp_path / "q.txt").stderr == (
        f"taxonomy: error: {tmp_path / 'q.txt'}: the queue is a labels file; name it .csv\n")


def test_a_store_report_checks_its_compare_table_as_a_file_report_does(cli, tmp_path, tagger):
    from taxonomy.errors import DumpError
    from taxonomy.labels.categories import load_taxonomy
    from taxonomy.report.run import run_store_report

    db, older = tmp_path / "papers.db", tmp_path / "older.csv"
    assert cli("tag", DUMPS[1], "--db", db, "--jobs", "1").returncode == 0
    assert cli("tag", DUMPS[1], "-o", older, "--jobs", "1").returncode == 0
    table = pd.read_csv(older, dtype=str, keep_default_na=False)
    table.loc[0, "score_memory"] = "7"
    table.to_csv(older, index=False)
    run, _ = run_store_report(db, tmp_path / "r", tagger, load_taxonomy(), compare=older)
    assert run.log.skipped == [(str(older), 2, "score_memory is '7.0', not a number from 0 to 1")]
    assert len(run.report.compare) and (tmp_path / "r" / "compare.csv").exists()
    with pytest.raises(DumpError, match="is not a table written by 'taxonomy tag'"):
        run_store_report(db, tmp_path / "r2", tagger, load_taxonomy(), compare=DUMPS[1])
    with pytest.raises(DumpError, match="no such file"):
        run_store_report(db, tmp_path / "r2", tagger, load_taxonomy(),
                         compare=tmp_path / "absent.csv")
