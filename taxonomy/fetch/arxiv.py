"""The arXiv API (https://info.arxiv.org/help/api/user-manual.html): query URLs and its Atom
1.0 responses (with OpenSearch totals) parsed into papers.

A malformed entry is skipped and reported; every good entry of the page is kept.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..store.papers import StoredPaper
from .http import FetchError, parse_each, xml_root

API_URL = "https://export.arxiv.org/api/query"
API_VARIABLE = "TAXONOMY_ARXIV_API"
SOURCE = "arxiv-api"

ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
ARXIV = "{http://arxiv.org/schemas/atom}"
_ABS_ID = re.compile(r"/abs/(.+?)(?:v(\d+))?$")
_ERROR_ID = "/api/errors"


@dataclass
class Page:
    """One response: its papers, how many entries it held, the query's total, what was
    skipped (one reason per malformed entry)."""

    papers: list[StoredPaper]
    entries: int
    total: int
    skipped: list[str] = field(default_factory=list)


def query_for(category: str, since: dt.date, until: dt.date) -> str:
    """The search query for papers of ``category`` submitted from ``since`` to ``until``."""
    return (f"cat:{category} AND submittedDate:[{since:%Y%m%d}0000 TO "
            f"{until:%Y%m%d}2359]")


def page_url(base: str, query: str, start: int, size: int) -> str:
    """The URL of one page of ``query``, oldest submissions first (so that papers submitted
    while a fetch runs land after the pages already read)."""
    return f"{base}?" + urllib.parse.urlencode({
        "search_query": query, "start": start, "max_results": size,
        "sortBy": "submittedDate", "sortOrder": "ascending"})


def parse_page(body: bytes, url: str) -> Page:
    """The papers of an API response; an error feed, or something that is not Atom, is a
    :class:`FetchError` naming ``url``."""
    root = xml_root(body, url, f"{ATOM}feed", "an Atom feed",
                    "check --api-url points at the arXiv API")
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        if _ERROR_ID in (entry.findtext(f"{ATOM}id") or ""):
            message = " ".join((entry.findtext(f"{ATOM}summary") or "unknown error").split())
            raise FetchError(f"the arXiv API refused the query: {message}", url)
    total_text = root.findtext(f"{OPENSEARCH}totalResults")
    try:
        total = int((total_text or "").strip())
    except ValueError:
        raise FetchError("the feed has no opensearch:totalResults; check --api-url points "
                         "at the arXiv API", url) from None
    papers, skipped = parse_each(enumerate(entries, 1), parse_entry, "entry")
    return Page(papers, len(entries), total, skipped)


def parse_entry(entry: ET.Element) -> StoredPaper:
    """One Atom entry as a paper; ValueError saying what is wrong with a malformed one."""
    link = (entry.findtext(f"{ATOM}id") or "").strip()
    match = _ABS_ID.search(link)
    if not match:
        raise ValueError(f"no arXiv abstract URL in <id> ({link[:80]!r})")
    paper_id, version = match[1], match[2]
    title = " ".join((entry.findtext(f"{ATOM}title") or "").split())
    abstract = " ".join((entry.findtext(f"{ATOM}summary") or "").split())
    if not title or not abstract:
        raise ValueError(f"{paper_id} has no {'title' if not title else 'abstract'}")
    published = iso_time(entry.findtext(f"{ATOM}published"), "published", paper_id)
    updated = iso_time(entry.findtext(f"{ATOM}updated") or published, "updated", paper_id)
    authors = [" ".join((a.findtext(f"{ATOM}name") or "").split())
               for a in entry.findall(f"{ATOM}author")]
    primary = entry.find(f"{ARXIV}primary_category")
    terms = [primary.get("term", "")] if primary is not None else []
    terms += [c.get("term", "") for c in entry.findall(f"{ATOM}category")]
    return StoredPaper(
        id=paper_id, title=title, abstract=abstract,
        version=int(version) if version else None,
        authors=", ".join(a for a in authors if a),
        categories=" ".join(dict.fromkeys(t for t in terms if t)),
        submitted=published[:10], updated=updated,
        url=f"https://arxiv.org/abs/{paper_id}", source=SOURCE)


def iso_time(text: str | None, what: str, paper_id: str) -> str:
    """An Atom date-time normalized to ``YYYY-MM-DDTHH:MM:SSZ`` (UTC)."""
    value = (text or "").strip()
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{paper_id} has a malformed {what} date {value[:40]!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
