"""Fetching into the store: page by page, each page stored in one transaction together with
the position to resume from, so an interrupted fetch continues where it stopped and a fetch
run twice stores nothing twice. Without a start date a fetch continues from where the last
finished fetch of the same query ended."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

from ..io.atomic import exclusive
from ..io.dates import today
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
    with _Session(db, "arxiv", f"cat:{category}", since, until, on_wait, on_page) as session:
        search = arxiv.query_for(category, session.start, session.end)
        fetch = session.fetch
        session.result.seen = fetch.position
        while True:
            url = arxiv.page_url(base, search, fetch.position, page_size)
            page = arxiv.parse_page(client.get(url, advice), url)
            session.result.total = page.total
            session.store(page.papers, page.entries, page.skipped)
            if fetch.position >= page.total:
                break
            if page.entries == 0:
                raise FetchError(f"the API returned an empty page at {fetch.position} of "
                                 f"{page.total} results; run again to continue from there", url)
    session.result.requests = client.requests
    return session.result


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
    with _Session(db, "oai", f"set:{set_spec}", since, until, on_wait, on_page) as session:
        fetch = session.fetch
        restarted = False
        while True:
            url = (oai.next_url(base, fetch.token) if fetch.token
                   else oai.first_url(base, set_spec, session.start, session.end))
            page = oai.parse_page(client.get(url, advice), url)
            if page.bad_token:
                if restarted or not fetch.token:
                    raise FetchError("the server does not accept its own resumption token; "
                                     "run again later", url)
                restarted, fetch.token = True, ""  # expired: harvest again from the start
                continue
            session.store(page.papers, page.records, page.skipped, page.token)
            if not page.token:
                break
    session.result.requests = client.requests
    return session.result


class _Session:
    """One fetch into the store, whatever the source: the store held against other runs,
    the date range resolved, the fetch begun (or resumed) in the log, each page stored in
    one transaction with the position to resume from, and the fetch marked finished when
    the block ends without an error."""

    def __init__(self, db: str | os.PathLike, kind: str, query: str, since: dt.date | None,
                 until: dt.date | None, on_wait: Callable[[], None] | None,
                 on_page: Callable[[FetchResult], None] | None):
        self.db, self.kind, self.query = db, kind, query
        self.since, self.until, self.on_wait, self.on_page = since, until, on_wait, on_page
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _Session:
        with self._stack as stack:
            stack.enter_context(exclusive(self.db, self.on_wait))
            self.conn = connect(self.db)
            stack.callback(self.conn.close)
            stack.enter_context(guard(self.db))
            self.end = self.until or today()
            self.start = _since(self.conn, self.kind, self.query, self.since, self.end)
            _check_range(self.start, self.end)
            with transaction(self.conn):
                self.fetch = fetchlog.begin(self.conn, self.kind, self.query,
                                            self.start.isoformat(), self.end.isoformat())
            self.result = FetchResult(self.query, self.fetch.since, self.fetch.until,
                                      resumed=self.fetch.resumed)
            self._stack = stack.pop_all()  # entered whole: keep them for __exit__
        return self

    def store(self, papers: list, entries: int, skipped: list[str], token: str = "") -> None:
        """Store one page and the position after it, in one transaction."""
        with transaction(self.conn):
            stored = store_papers(self.conn, papers)
            fetchlog.advance(self.conn, self.fetch, stored, entries, len(skipped), token)
        _add(self.result, stored, entries, skipped)
        if self.on_page is not None:
            self.on_page(self.result)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool | None:
        # The lock, the connection and the error guard see what the block raised, as they
        # would had the block been written inside them.
        if exc_type is None:
            try:
                with transaction(self.conn):
                    fetchlog.finish(self.conn, self.fetch)
            except BaseException as failed:
                if not self._stack.__exit__(type(failed), failed, failed.__traceback__):
                    raise
                return None
        return self._stack.__exit__(exc_type, exc, tb)


def _add(result: FetchResult, stored: Stored, entries: int, skipped: list[str]) -> None:
    result.new += stored.new
    result.updated += stored.updated
    result.seen += entries
    result.skipped += skipped
