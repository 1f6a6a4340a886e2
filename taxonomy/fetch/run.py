"""Fetching into the store: page by page, each page stored in one transaction together with
the position to resume from, so an interrupted fetch continues where it stopped and a fetch
run twice stores nothing twice. Without a start date a fetch continues from where the last
finished fetch of the same query ended."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from ..io.atomic import exclusive
from ..store import fetchlog
from ..store.papers import Stored, store_papers
from ..store.schema import connect, guard, transaction
from . import arxiv, oai
from .http import Client, FetchError

PAGE_SIZE = 200  # the API's results per request (arXiv allows up to 2,000)
FIRST_DAYS = 7  # a first fetch without --since reaches back this many days


@dataclass
class FetchResult:
    """What a fetch stored: new papers, new versions, malformed entries skipped."""

    query: str
    since: str
    until: str
    new: int = 0
    updated: int = 0
    seen: int = 0
    total: int | None = None
    requests: int = 0
    resumed: bool = False
    skipped: list[str] = field(default_factory=list)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _since(conn: sqlite3.Connection, kind: str, query: str, since: dt.date | None,
           until: dt.date) -> dt.date:
    if since is not None:
        return since
    last = fetchlog.last_until(conn, kind, query)
    # The last day is fetched again: arXiv announces some papers of a day later.
    return dt.date.fromisoformat(last) if last else until - dt.timedelta(days=FIRST_DAYS)


def _check_range(since: dt.date, until: dt.date) -> None:
    if since > until:
        raise FetchError(f"--since {since} is after --until {until}; swap them")


def fetch_arxiv(db: str | os.PathLike, category: str, since: dt.date | None = None,
                until: dt.date | None = None, api_url: str | None = None,
                client: Client | None = None, page_size: int = PAGE_SIZE,
                on_wait: Callable[[], None] | None = None,
                on_page: Callable[[FetchResult], None] | None = None) -> FetchResult:
    """Fetch the papers of ``category`` submitted from ``since`` to ``until`` (default:
    since the last fetch of the category, to today) from the arXiv API into the store."""
    base = api_url or os.environ.get(arxiv.API_VARIABLE, "").strip() or arxiv.API_URL
    client = client or Client()
    advice = ("arXiv may be down or busy: run again later (the fetch resumes where it "
              f"stopped), or point --api-url / {arxiv.API_VARIABLE} at another server")
    with exclusive(db, on_wait):
        conn = connect(db)
        try:
            with guard(db):
                end = until or today()
                query = f"cat:{category}"
                start = _since(conn, "arxiv", query, since, end)
                _check_range(start, end)
                search = arxiv.query_for(category, start, end)
                with transaction(conn):
                    fetch = fetchlog.begin(conn, "arxiv", query, start.isoformat(),
                                           end.isoformat())
                result = FetchResult(query, fetch.since, fetch.until, resumed=fetch.resumed)
                result.seen = fetch.position
                while True:
                    url = arxiv.page_url(base, search, fetch.position, page_size)
                    page = arxiv.parse_page(client.get(url, advice), url)
                    result.total = page.total
                    with transaction(conn):
                        stored = store_papers(conn, page.papers)
                        fetchlog.advance(conn, fetch, stored, page.entries, len(page.skipped))
                    _add(result, stored, page.entries, page.skipped)
                    if on_page is not None:
                        on_page(result)
                    if fetch.position >= page.total:
                        break
                    if page.entries == 0:
                        raise FetchError(
                            f"the API returned an empty page at {fetch.position} of "
                            f"{page.total} results; run again to continue from there", url)
                with transaction(conn):
                    fetchlog.finish(conn, fetch)
        finally:
            conn.close()
    result.requests = client.requests
    return result


def fetch_oai(db: str | os.PathLike, set_spec: str, since: dt.date | None = None,
              until: dt.date | None = None, oai_url: str | None = None,
              client: Client | None = None, on_wait: Callable[[], None] | None = None,
              on_page: Callable[[FetchResult], None] | None = None) -> FetchResult:
    """Harvest the records of OAI-PMH set ``set_spec`` changed from ``since`` to ``until``
    (default: since the last harvest of the set, to today) into the store."""
    base = oai_url or os.environ.get(oai.OAI_VARIABLE, "").strip() or oai.OAI_URL
    client = client or Client()
    advice = ("the OAI-PMH server may be down or busy: run again later (the harvest resumes "
              f"where it stopped), or point --oai-url / {oai.OAI_VARIABLE} at another server")
    with exclusive(db, on_wait):
        conn = connect(db)
        try:
            with guard(db):
                end = until or today()
                query = f"set:{set_spec}"
                start = _since(conn, "oai", query, since, end)
                _check_range(start, end)
                with transaction(conn):
                    fetch = fetchlog.begin(conn, "oai", query, start.isoformat(),
                                           end.isoformat())
                result = FetchResult(query, fetch.since, fetch.until, resumed=fetch.resumed)
                restarted = False
                while True:
                    url = (oai.next_url(base, fetch.token) if fetch.token
                           else oai.first_url(base, set_spec, start, end))
                    page = oai.parse_page(client.get(url, advice), url)
                    if page.bad_token:
                        if restarted or not fetch.token:
                            raise FetchError("the server does not accept its own resumption "
                                             "token; run again later", url)
                        restarted, fetch.token = True, ""  # expired: harvest again from the start
                        continue
                    with transaction(conn):
                        stored = store_papers(conn, page.papers)
                        fetchlog.advance(conn, fetch, stored, page.records, len(page.skipped),
                                         page.token)
                    _add(result, stored, page.records, page.skipped)
                    if on_page is not None:
                        on_page(result)
                    if not page.token:
                        break
                with transaction(conn):
                    fetchlog.finish(conn, fetch)
        finally:
            conn.close()
    result.requests = client.requests
    return result


def _add(result: FetchResult, stored: Stored, entries: int, skipped: list[str]) -> None:
    result.new += stored.new
    result.updated += stored.updated
    result.seen += entries
    result.skipped += skipped
