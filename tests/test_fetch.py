"""Fetching from arXiv into the store, against a local stand-in server (no network)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from fakearxiv import Entry, FakeArxiv, make_entries, serve
from hypothesis import given
from hypothesis import strategies as st

from taxonomy.fetch import arxiv, oai
from taxonomy.fetch.http import USER_AGENT, Client, FetchError
from taxonomy.fetch.run import fetch_arxiv, fetch_oai
from taxonomy.store.schema import connect

DAYS = ["2026-11-23", "2026-11-24", "2026-11-25"]
SINCE, UNTIL = dt.date(2026, 11, 23), dt.date(2026, 11, 29)


@pytest.fixture()
def fake(monkeypatch):
    fake = FakeArxiv(entries=make_entries(DAYS))
    server = serve(fake)
    monkeypatch.setenv("TAXONOMY_FETCH_DELAY", "0")
    monkeypatch.setenv("TAXONOMY_ARXIV_API", fake.api_url)
    monkeypatch.setenv("TAXONOMY_OAI_URL", fake.oai_url)
    yield fake
    server.shutdown()
    server.server_close()


def rows(db, query="SELECT id, version, title FROM papers ORDER BY id"):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def starts(fake):
    return [int(urllib.parse.parse_qs(urllib.parse.urlsplit(r).query)["start"][0])
            for r in fake.requests if r.startswith("/api/")]


def test_pages_until_the_total_and_names_the_tool(fake, tmp_path):
    db = tmp_path / "papers.db"
    result = fetch_arxiv(db, "cs.LG", SINCE, UNTIL, page_size=4)
    assert (result.new, result.updated, result.seen, result.total) == (9, 0, 9, 9)
    assert starts(fake) == [0, 4, 8]
    assert set(fake.agents) == {USER_AGENT} and USER_AGENT.startswith("efficiency-taxonomy/")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(fake.requests[0]).query)
    assert query["search_query"] == [
        "cat:cs.LG AND submittedDate:[202611230000 TO 202611292359]"]
    assert query["sortBy"] == ["submittedDate"]
    assert [r[0] for r in rows(db)] == [e.id for e in fake.entries]
    paper = rows(db, "SELECT version, authors, categories, submitted, updated, url, source "
                     "FROM papers WHERE id = '2611.00001'")[0]
    assert paper == (1, "Ada Lovelace, Alan Turing", "cs.LG", "2026-11-23",
                     "2026-11-23T11:00:00Z", "https://arxiv.org/abs/2611.00001", "arxiv-api")
    log = rows(db, "SELECT kind, query, since, until, papers_new, position, finished_at "
                   "IS NOT NULL FROM fetches")
    assert log == [("arxiv", "cat:cs.LG", "2026-11-23", "2026-11-29", 9, 9, 1)]


def test_a_second_fetch_stores_nothing_twice_and_continues_from_the_last_day(fake, tmp_path):
    db = tmp_path / "papers.db"
    fetch_arxiv(db, "cs.LG", SINCE, UNTIL)
    again = fetch_arxiv(db, "cs.LG", until=UNTIL)
    assert (again.new, again.updated, again.since) == (0, 0, "2026-11-29")
    fake.entries += make_entries(["2026-11-30"], prefix="2612")
    later = fetch_arxiv(db, "cs.LG", until=dt.date(2026, 12, 1))
    assert (later.new, later.since, later.until) == (3, "2026-11-29", "2026-12-01")
    assert len(rows(db)) == 12


def test_a_paper_on_two_pages_is_stored_once(fake, tmp_path):
    fake.entries.insert(5, fake.entries[1])  # the listing shifted between two requests
    result = fetch_arxiv(tmp_path / "p.db", "cs.LG", SINCE, UNTIL, page_size=3)
    assert (result.new, result.seen) == (9, 10)
    assert len(rows(tmp_path / "p.db")) == 9


def test_a_new_version_updates_the_text_and_marks_tags_stale(fake, tmp_path):
    db = tmp_path / "papers.db"
    fetch_arxiv(db, "cs.LG", SINCE, UNTIL)
    conn = connect(db)
    conn.execute("INSERT INTO tags (paper_id, model, model_version, labels, source, "
                 "tagged_at) VALUES ('2611.00002', 'm', 'v', 'memory', 'model', 'now')")
    conn.close()
    old = fake.entries[1]
    fake.entries[1] = Entry(old.id, old.title, "A rewritten abstract about sharding.",
                            old.published, version=2, updated="2026-11-27T09:00:00Z")
    result = fetch_arxiv(db, "cs.LG", SINCE, UNTIL)
    assert (result.new, result.updated) == (0, 1)
    assert rows(db, "SELECT version, abstract, updated FROM papers WHERE id = '2611.00002'") \
        == [(2, "A rewritten abstract about sharding.", "2026-11-27T09:00:00Z")]
    assert rows(db, "SELECT stale FROM tags") == [(1,)]
    fake.entries[1] = old  # an older copy never replaces the newer one
    assert fetch_arxiv(db, "cs.LG", SINCE, UNTIL).updated == 0
    assert rows(db, "SELECT version FROM papers WHERE id = '2611.00002'") == [(2,)]


def test_a_malformed_entry_is_skipped_and_reported_and_the_rest_kept(fake, tmp_path, cli):
    fake.entries[2].raw_published = "last Tuesday"
    result = cli("fetch", "arxiv", "--category", "cs.LG", "--since", "2026-11-23",
                 "--until", "2026-11-29", "--db", tmp_path / "p.db")
    assert result.returncode == 0, result.stderr
    assert "8 new papers" in result.stdout
    assert result.stderr == ("warning: skipped 1 malformed record(s): entry 3: 2611.00003 has "
                             "a malformed published date 'last Tuesday'\n")
    assert len(rows(tmp_path / "p.db")) == 8


def test_an_empty_result_is_a_finished_fetch(fake, tmp_path):
    result = fetch_arxiv(tmp_path / "p.db", "cs.LG", dt.date(2020, 1, 1), dt.date(2020, 1, 2))
    assert (result.new, result.total) == (0, 0)
    assert rows(tmp_path / "p.db", "SELECT finished_at IS NOT NULL FROM fetches") == [(1,)]


def test_a_503_waits_as_retry_after_says_then_goes_on(fake, tmp_path):
    fake.faults = [(503, {"Retry-After": "7"}), (503, {})]
    waits: list[float] = []
    client = Client(delay=0.5, sleep=waits.append)
    result = fetch_arxiv(tmp_path / "p.db", "cs.LG", SINCE, UNTIL, client=client)
    assert result.new == 9
    assert waits[:2] == [7.0, 1.0]  # Retry-After, then the backoff 0.5 * 2 ** 1


def test_requests_are_spaced_by_the_delay(fake, tmp_path):
    waits: list[float] = []
    clock = iter(range(0, 1000, 1)).__next__
    client = Client(delay=3, sleep=waits.append, clock=lambda: float(clock()))
    fetch_arxiv(tmp_path / "p.db", "cs.LG", SINCE, UNTIL, client=client, page_size=4)
    assert waits == [2.0, 2.0]  # 3 s apart: 1 s had passed by the clock between requests


def test_a_server_that_stays_down_is_one_line_and_exit_2(fake, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("TAXONOMY_FETCH_RETRIES", "3")
    fake.faults = [(503, {"Retry-After": "0"})] * 3
    result = cli("fetch", "arxiv", "--category", "cs.LG", "--db", tmp_path / "p.db")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"taxonomy: error: {fake.api_url}?search_query=")
    assert "HTTP 503 Service Unavailable after 3 tries; arXiv may be down" in result.stderr


def test_an_answer_cut_short_is_tried_again(fake, tmp_path):
    fake.truncate = {1}
    result = fetch_arxiv(tmp_path / "p.db", "cs.LG", SINCE, UNTIL)
    assert result.new == 9 and len(fake.requests) == 2


def test_nothing_listening_is_one_line(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("TAXONOMY_FETCH_DELAY", "0")
    monkeypatch.setenv("TAXONOMY_FETCH_RETRIES", "2")
    result = cli("fetch", "oai", "--set", "cs", "--db", tmp_path / "p.db",
                 "--oai-url", "http://127.0.0.1:9/oai")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "after 2 tries; the OAI-PMH server may be down" in result.stderr


def test_an_interrupted_fetch_resumes_where_it_stopped(fake, tmp_path):
    db = tmp_path / "papers.db"
    fake.raw = {2: b"<html>proxy error</html>"}
    with pytest.raises(FetchError, match="not an Atom feed"):
        fetch_arxiv(db, "cs.LG", SINCE, UNTIL, page_size=4)
    assert rows(db, "SELECT position, finished_at FROM fetches") == [(4, None)]
    fake.raw = {}
    result = fetch_arxiv(db, "cs.LG", SINCE, UNTIL, page_size=4)
    assert result.resumed and (result.new, result.seen) == (5, 9)
    assert starts(fake) == [0, 4, 4, 8]
    assert len(rows(db)) == 9
    assert rows(db, "SELECT papers_new, finished_at IS NOT NULL FROM fetches") == [(9, 1)]


def test_an_api_error_feed_is_reported(tmp_path):
    body = (b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/'
            b'errors#incorrect_id_format_for_1234</id><title>Error</title><summary>incorrect '
            b'id format for 1234</summary></entry></feed>')
    with pytest.raises(FetchError, match="refused the query: incorrect id format for 1234"):
        arxiv.parse_page(body, "http://x")


def test_oai_follows_resumption_tokens(fake, tmp_path):
    db = tmp_path / "papers.db"
    result = fetch_oai(db, "cs", since=SINCE, until=UNTIL)
    assert (result.new, result.seen) == (9, 9)
    assert len([r for r in fake.requests if r.startswith("/oai")]) == 5
    assert "metadataPrefix=arXiv" in fake.requests[0] and "from=2026-11-23" in fake.requests[0]
    assert "resumptionToken=tok-2" in fake.requests[1]
    assert rows(db, "SELECT authors, submitted, source FROM papers WHERE id = '2611.00001'") \
        == [("Ada Lovelace, Alan Turing", "2026-11-23", "arxiv-oai")]
    assert fetch_oai(db, "cs", until=UNTIL).new == 0


def test_oai_resumes_from_its_token_and_restarts_when_it_expired(fake, tmp_path):
    db = tmp_path / "papers.db"
    fake.raw = {3: b"broken"}
    with pytest.raises(FetchError):
        fetch_oai(db, "cs", since=SINCE, until=UNTIL)
    assert rows(db, "SELECT position, token FROM fetches") == [(4, "tok-4")]
    fake.raw, fake.expired_tokens = {}, {"tok-4"}
    result = fetch_oai(db, "cs", since=SINCE, until=UNTIL)
    assert result.resumed and result.new == 5
    assert len(rows(db)) == 9


def test_oai_no_records_is_an_empty_harvest(fake, tmp_path):
    result = fetch_oai(tmp_path / "p.db", "cs", since=dt.date(2030, 1, 1),
                       until=dt.date(2030, 1, 2))
    assert result.new == 0


# -- parsers: what is written is what is read ---------------------------------------------------

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
                max_size=60).filter(lambda s: s.strip())
_day = st.dates(dt.date(1995, 1, 1), dt.date(2030, 12, 31))


@given(title=_text, abstract=_text, day=_day, version=st.integers(1, 20),
       number=st.integers(1, 99999), authors=st.lists(_text, max_size=4))
def test_an_atom_entry_round_trips(title, abstract, day, version, number, authors):
    entry = Entry(f"2611.{number:05d}", title, abstract, f"{day}T12:30:00Z", version=version,
                  authors=tuple(authors), categories=("cs.LG", "stat.ML"))
    paper = arxiv.parse_entry(ET.fromstring(
        f'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/'
        f'atom">{entry.atom()}</feed>')[0])
    assert (paper.id, paper.version, paper.submitted, paper.updated) == (
        entry.id, version, day.isoformat(), f"{day}T12:30:00Z")
    assert paper.title == " ".join(title.split())
    assert paper.abstract == " ".join(abstract.split())
    assert paper.authors == ", ".join(" ".join(a.split()) for a in authors if a.split())
    assert paper.categories == "cs.LG stat.ML"


@given(title=_text, abstract=_text, day=_day, number=st.integers(1, 99999))
def test_an_oai_record_round_trips(title, abstract, day, number):
    entry = Entry(f"2611.{number:05d}", title, abstract, f"{day}T00:00:00Z")
    fake = FakeArxiv(entries=[entry], url="http://x")
    page = oai.parse_page(fake.oai({}).encode(), "http://x")
    (paper,) = page.papers
    assert (paper.id, paper.submitted, paper.title, paper.abstract) == (
        entry.id, day.isoformat(), " ".join(title.split()), " ".join(abstract.split()))
    assert page.token == ""


@given(st.binary(max_size=200))
def test_any_answer_is_papers_or_a_fetch_error(body):
    for parse in (arxiv.parse_page, oai.parse_page):
        try:
            parse(body, "http://x")
        except FetchError:
            pass
