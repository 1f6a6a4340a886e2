"""arXiv's OAI-PMH interface (https://info.arxiv.org/help/oa/index.html): ``ListRecords`` in
the ``arXiv`` metadata format, page by page with resumption tokens, for backfills.

A malformed record is skipped and reported; deleted records are left out.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..store.papers import StoredPaper
from .http import FetchError, parse_each, xml_root

OAI_URL = "https://oaipmh.arxiv.org/oai"
OAI_VARIABLE = "TAXONOMY_OAI_URL"
SOURCE = "arxiv-oai"
PREFIX = "arXiv"

OAI = "{http://www.openarchives.org/OAI/2.0/}"
META = "{http://arxiv.org/OAI/arXiv/}"


@dataclass
class Page:
    """One ``ListRecords`` response: papers, records held, the token for the next page
    ('' on the last), what was skipped."""

    papers: list[StoredPaper]
    records: int
    token: str
    skipped: list[str] = field(default_factory=list)
    deleted: int = 0
    bad_token: bool = False


def first_url(base: str, set_spec: str, since: dt.date | None, until: dt.date | None) -> str:
    params = {"verb": "ListRecords", "metadataPrefix": PREFIX, "set": set_spec}
    if since is not None:
        params["from"] = since.isoformat()
    if until is not None:
        params["until"] = until.isoformat()
    return f"{base}?" + urllib.parse.urlencode(params)


def next_url(base: str, token: str) -> str:
    return f"{base}?" + urllib.parse.urlencode({"verb": "ListRecords", "resumptionToken": token})


def parse_page(body: bytes, url: str) -> Page:
    """The papers of a ``ListRecords`` response. ``noRecordsMatch`` is an empty last page;
    ``badResumptionToken`` is flagged (the caller starts over); other OAI errors, or an
    answer that is not OAI-PMH, are a :class:`FetchError` naming ``url``."""
    root = xml_root(body, url, f"{OAI}OAI-PMH", "OAI-PMH",
                    "check --oai-url points at an OAI-PMH server")
    error = root.find(f"{OAI}error")
    if error is not None:
        code = error.get("code", "")
        if code == "noRecordsMatch":
            return Page([], 0, "")
        if code == "badResumptionToken":
            return Page([], 0, "", bad_token=True)
        message = " ".join((error.text or "").split())
        raise FetchError(f"the OAI-PMH server refused the request: {code} {message}".strip(),
                         url)
    listing = root.find(f"{OAI}ListRecords")
    if listing is None:
        raise FetchError("the answer holds no ListRecords; check --oai-url", url)
    records = listing.findall(f"{OAI}record")
    live = [(number, record) for number, record in enumerate(records, 1)
            if record.find(f"{OAI}header[@status='deleted']") is None]
    papers, skipped = parse_each(live, parse_record, "record")
    token = (listing.findtext(f"{OAI}resumptionToken") or "").strip()
    return Page(papers, len(records), token, skipped, deleted=len(records) - len(live))


def parse_record(record: ET.Element) -> StoredPaper:
    """One record in the ``arXiv`` format; ValueError saying what is wrong with a bad one."""
    meta = record.find(f"{OAI}metadata/{META}arXiv")
    if meta is None:
        raise ValueError("no arXiv metadata")
    paper_id = (meta.findtext(f"{META}id") or "").strip()
    if not paper_id:
        raise ValueError("no <id>")
    title = " ".join((meta.findtext(f"{META}title") or "").split())
    abstract = " ".join((meta.findtext(f"{META}abstract") or "").split())
    if not title or not abstract:
        raise ValueError(f"{paper_id} has no {'title' if not title else 'abstract'}")
    created = _day(meta.findtext(f"{META}created"), "created", paper_id)
    updated_text = meta.findtext(f"{META}updated")
    updated = _day(updated_text, "updated", paper_id) if updated_text else created
    authors = []
    for author in meta.findall(f"{META}authors/{META}author"):
        parts = [author.findtext(f"{META}{part}") or "" for part in ("forenames", "keyname",
                                                                     "suffix")]
        name = " ".join(" ".join(parts).split())
        if name:
            authors.append(name)
    return StoredPaper(
        id=paper_id, title=title, abstract=abstract, authors=", ".join(authors),
        categories=" ".join((meta.findtext(f"{META}categories") or "").split()),
        submitted=created, updated=updated, url=f"https://arxiv.org/abs/{paper_id}",
        source=SOURCE)


def _day(text: str | None, what: str, paper_id: str) -> str:
    value = (text or "").strip()
    try:
        return dt.date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise ValueError(f"{paper_id} has a malformed {what} date {value[:40]!r}") from None
