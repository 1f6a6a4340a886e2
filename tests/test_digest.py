"""The digest and its feeds, from a store filled by the local arXiv stand-in and tagged by
the shipped model; and `update`, the cron line."""

from __future__ import annotations

import datetime as dt
import sqlite3
import xml.etree.ElementTree as ET

import pytest
from fakearxiv import Entry, FakeArxiv, make_entries, serve
from hypothesis import given, settings
from hypothesis import strategies as st

from taxonomy.digest.feeds import ATOM_NS, feeds
from taxonomy.digest.figures import Window, build_digest
from taxonomy.digest.run import run_digest
from taxonomy.labels.categories import load_taxonomy
from taxonomy.tagging.tagger import Tagger

A = f"{{{ATOM_NS}}}"
WEEKS = [f"2026-11-{d:02d}" for d in range(2, 31)]  # four weeks of submissions
WEEK = Window(dt.date(2026, 11, 24), dt.date(2026, 11, 30))


@pytest.fixture()
def fake(monkeypatch):
    fake = FakeArxiv(entries=make_entries(WEEKS, per_day=2))
    server = serve(fake)
    monkeypatch.setenv("TAXONOMY_FETCH_DELAY", "0")
    monkeypatch.setenv("TAXONOMY_ARXIV_API", fake.api_url)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def tagger():
    return Tagger.load()


def feed_entries(path):
    root = ET.parse(path).getroot()
    assert root.tag == f"{A}feed"
    for required in ("id", "title", "updated", "author"):
        assert root.find(f"{A}{required}") is not None, required
    entries = root.findall(f"{A}entry")
    for entry in entries:
        for required in ("id", "title", "updated", "link", "summary", "author"):
            assert entry.find(f"{A}{required}") is not None, required
        dt.datetime.fromisoformat(entry.findtext(f"{A}updated"))  # RFC 3339
    return entries


def in_week(fake):
    return {e.id: e for e in fake.entries if "2026-11-24" <= e.published[:10] <= "2026-11-30"}


def test_fetch_tag_digest_end_to_end(fake, cli, tmp_path, tagger):
    db, out = tmp_path / "papers.db", tmp_path / "digest"
    assert cli("fetch", "arxiv", "--category", "cs.LG", "--since", "2026-11-01", "--until",
               "2026-11-30", "--db", db).returncode == 0
    assert cli("tag", "--db", db, "--jobs", "1").returncode == 0
    result = cli("digest", "--db", db, "--until", "2026-11-30", "-o", out)
    assert result.returncode == 0, result.stderr
    week = in_week(fake)
    assert result.stdout.startswith(f"digest of {len(week)} papers submitted 2026-11-24 to "
                                    "2026-11-30 (")
    assert sorted(p.name for p in (out / "feeds").iterdir()) == [
        "all.xml", "architecture.xml", "communication.xml", "convergence_speed.xml",
        "data_selection.xml", "memory.xml"]
    tags = dict(sqlite3.connect(db).execute("SELECT paper_id, labels FROM tags").fetchall())
    version = sqlite3.connect(db).execute("SELECT DISTINCT model_version FROM tags").fetchall()
    assert version == [(tagger.model.version,)]
    for cid in ("memory", "communication", "data_selection"):
        entries = feed_entries(out / "feeds" / f"{cid}.xml")
        expected = sorted(i for i in week if cid in tags[i].split(";"))
        ids = [e.findtext(f"{A}id") for e in entries]
        assert sorted(ids) == [f"https://arxiv.org/abs/{i}" for i in expected]
        assert len(set(ids)) == len(ids) and expected
        first = entries[0]
        paper = week[first.findtext(f"{A}id").rsplit("/", 1)[1]]
        assert first.findtext(f"{A}title") == paper.title
        assert first.findtext(f"{A}updated") == paper.published
        assert [c.get("term") for c in first.findall(f"{A}category")] == [cid]
        assert first.find(f"{A}link").get("href") == first.findtext(f"{A}id")
    every = feed_entries(out / "feeds" / "all.xml")
    assert len(every) == sum(1 for i in week if tags[i])
    md = (out / "digest.md").read_text()
    assert "## Memory (" in md and "https://arxiv.org/abs/2611." in md
    html = (out / "digest.html").read_text()
    assert html.count("<svg") == 5 and "<script" not in html and "http://" not in html.replace(
        "http://www.w3.org/2000/svg", "")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert cli("digest", "--db", db, "--until", "2026-11-30", "-o", out).returncode == 0
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_update_fetches_only_what_is_new_and_changes_nothing_when_run_again(
        fake, cli, tmp_path, monkeypatch):
    db, out = tmp_path / "papers.db", tmp_path / "digest"
    monkeypatch.setattr("taxonomy.fetch.run.today", lambda: dt.date(2026, 11, 30))
    monkeypatch.setattr("taxonomy.digest.run.today", lambda: dt.date(2026, 11, 30))
    first = cli("update", "--db", db, "--category", "cs.LG", "-o", out, "--jobs", "1")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("fetched 16 records of cat:cs.LG from 2026-11-23 to "
                                   "2026-11-30: 16 new papers, 0 new versions; tagged 16 "
                                   "papers\n")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    fake.requests.clear()
    again = cli("update", "--db", db, "--category", "cs.LG", "-o", out, "--jobs", "1")
    assert again.stdout.startswith("fetched 2 records of cat:cs.LG from 2026-11-30 to "
                                   "2026-11-30: 0 new papers, 0 new versions; tagged 0 papers")
    assert len(fake.requests) == 1
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    old = fake.entries[-1]  # a new version of a paper of the week: fetched, retagged
    fake.entries[-1] = Entry(old.id, old.title, "We compress gradients for all-reduce.",
                             old.published, version=2, updated="2026-11-30T20:00:00Z")
    third = cli("update", "--db", db, "--category", "cs.LG", "-o", out, "--jobs", "1")
    assert "0 new papers, 1 new versions; tagged 1 papers" in third.stdout


def test_a_digest_folder_holding_other_files_is_refused(tmp_path, cli, fake):
    db, out = tmp_path / "papers.db", tmp_path / "mine"
    assert cli("fetch", "arxiv", "--category", "cs.LG", "--db", db).returncode == 0
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    result = cli("digest", "--db", db, "-o", out)
    assert result.returncode == 2
    assert "holds files this command did not write (notes.txt)" in result.stderr


@pytest.mark.slow
def test_a_week_is_picked_out_of_eight_weeks_of_papers(tmp_path, tagger):
    from taxonomy.model.artifact import read_card
    from taxonomy.store.papers import StoredPaper, store_papers
    from taxonomy.store.schema import connect, score_columns, transaction

    db = tmp_path / "papers.db"
    conn = connect(db)
    ids = load_taxonomy().ids
    with transaction(conn):  # 8 weeks of 1,400 papers: about cs.LG's rate
        store_papers(conn, [StoredPaper(
            id=f"2611.{i:05d}", title=f"Paper {i}", abstract="An abstract. " * 80,
            version=1, authors="A. Author, B. Author",
            submitted=(dt.date(2026, 11, 30) - dt.timedelta(days=i % 56)).isoformat(),
            updated="2026-11-30T00:00:00Z", url=f"https://arxiv.org/abs/2611.{i:05d}")
            for i in range(11_200)])
    columns = ", ".join(f"score_{c}" for c in ids)
    with transaction(conn):
        score_columns(conn, ids)
        conn.executemany(
            f"INSERT INTO tags (paper_id, model, model_version, labels, top_terms, source, "
            f"tagged_at, {columns}) VALUES (?, 'efficiency', ?, ?, ?, 'model', 'now', "
            f"{', '.join('?' * len(ids))})",
            ([f"2611.{i:05d}", tagger.model.version, ids[i % 5] if i % 3 else "",
              f"{ids[i % 5]}: a, b, c", *[((i * 7 + j) % 100) / 100 for j in range(5)]]
             for i in range(11_200)))
    conn.close()
    run = run_digest(db, tmp_path / "out", read_card(tagger.model.path), load_taxonomy(), WEEK)
    assert run.digest.papers == 1_400
    week = [i for i in range(11_200) if i % 56 < 7 and i % 3]
    assert [len(c.papers) for c in run.digest.categories] == [
        sum(i % 5 == j for i in week) for j in range(5)]


_CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cn"))


@pytest.mark.slow
@settings(max_examples=25)
@given(title=st.text(_CHARACTERS, min_size=1, max_size=80).filter(lambda s: s.strip()),
       authors=st.lists(st.text(_CHARACTERS, min_size=1, max_size=20), max_size=3))
def test_feeds_carry_any_title_and_authors(title, authors):
    digest = _one_paper_digest(title, ", ".join(authors))
    root = ET.fromstring(feeds(digest)["memory.xml"])
    (entry,) = root.findall(f"{A}entry")
    assert entry.findtext(f"{A}title") == title.strip()  # as every reader strips it
    assert entry.findtext(f"{A}updated") == "2026-11-26T10:00:00Z"
    names = [a.findtext(f"{A}name") for a in entry.findall(f"{A}author")]
    assert names == ([a.strip() for a in ", ".join(authors).split(",") if a.strip()]
                     or ["unknown"])
    assert entry.findtext(f"{A}summary").endswith("<b>An abstract</b> & more")


def test_feeds_drop_what_xml_cannot_carry():
    digest = _one_paper_digest("Tab\there, form\x0cfeed, \ufffe and \x00 gone", "")
    root = ET.fromstring(feeds(digest)["all.xml"])
    assert root.find(f"{A}entry").findtext(f"{A}title") == "Tab\there, formfeed,  and  gone"


def _one_paper_digest(title, authors):
    import pandas as pd

    taxonomy = load_taxonomy()
    ids = taxonomy.ids
    frame = pd.DataFrame([{
        "id": "2611.00001", "title": title, "date": "2026-11-25", "labels": "memory",
        **{f"score_{c}": 0.9 if c == "memory" else 0.1 for c in ids},
        "top_terms": "memory: offload", "source": "model", "url": "", "model": "m",
        "model_version": "v", "abstract": "<b>An abstract</b> & more", "authors":
        authors, "categories": "cs.LG", "updated": "2026-11-26T10:00:00Z", "stale": 0}])
    return build_digest(frame, frame[["date", "labels"]], taxonomy, {c: 0.5 for c in ids},
                        WEEK)
