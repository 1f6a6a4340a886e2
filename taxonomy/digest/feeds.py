"""Atom 1.0 feeds (RFC 4287) of a digest: one per category and one of every category.

Entry ids are the papers' arXiv abstract URLs (a ``tag:`` URI for papers without an arXiv
id) and ``updated`` is the paper's own time, so a feed reader shows each paper once however
often the digest is written; the feed's ``updated`` is its newest entry's, so an unchanged
window gives the same bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from .. import __version__
from ..io.records import arxiv_id
from .figures import TITLE, Digest

ATOM_NS = "http://www.w3.org/2005/Atom"
TAG_AUTHORITY = "tag:efficiency-taxonomy.invalid,2026"


def entry_id(paper_id: str) -> str:
    found = arxiv_id(paper_id)  # an entry's id never changes, whatever the page links to
    return f"https://arxiv.org/abs/{found}" if found else f"{TAG_AUTHORITY}:paper/{paper_id}"


def atom_time(text: str) -> str:
    """An ISO date or time as an RFC 3339 time (a bare date is that day's midnight, UTC)."""
    text = text.strip()
    if len(text) == 10:
        return f"{text}T00:00:00Z"
    return text


def feeds(digest: Digest) -> dict[str, bytes]:
    """File name (``<category>.xml``, ``all.xml``) -> the feed's bytes."""
    out = {f"{c.id}.xml": _feed(f"{TITLE}: {c.name}", c.id, c.papers, digest)
           for c in digest.categories}
    out["all.xml"] = _feed(f"{TITLE}: every category", "all", digest.every, digest)
    return out


def _feed(title: str, name: str, papers: list[dict[str, Any]], digest: Digest) -> bytes:
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(feed, "id", f"{TAG_AUTHORITY}:feed/{name}")
    _sub(feed, "title", title)
    stamps = [atom_time(p["updated"] or p["date"]) for p in papers]
    _sub(feed, "updated", max(stamps) if stamps else f"{digest.window.until}T00:00:00Z")
    author = _sub(feed, "author")
    _sub(author, "name", "taxonomy digest")
    _sub(feed, "generator", "efficiency-taxonomy", version=__version__)
    for paper, stamp in zip(papers, stamps, strict=True):
        entry = _sub(feed, "entry")
        _sub(entry, "id", entry_id(paper["id"]))
        _sub(entry, "title", paper["title"])
        _sub(entry, "updated", stamp)
        if paper["date"]:
            _sub(entry, "published", atom_time(paper["date"]))
        names = [a.strip() for a in paper["authors"].split(",") if a.strip()]
        for who in names or ["unknown"]:
            _sub(_sub(entry, "author"), "name", who)
        if paper["link"]:
            _sub(entry, "link", rel="alternate", type="text/html", href=paper["link"])
        for cid, label in zip(paper["labels"], paper["label_names"], strict=True):
            _sub(entry, "category", term=cid, label=label)
        why = f"Score {paper['score']:.2f} ({paper['source']})"
        if paper["terms"]:
            why += f"; terms: {paper['terms']}"
        _sub(entry, "summary", f"{why}.\n\n{paper['abstract']}".strip())
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


# What XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE and U+FFFF): a
# dump may hold them, a feed must not, or readers reject the whole feed.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str
         ) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attributes)
    if text is not None:
        element.text = _NOT_XML.sub("", text)
    return element
