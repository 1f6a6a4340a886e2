"""Copied paper-listing pages: a title paragraph, an abstract paragraph and an optional
metadata block per paper, with page chrome ignored wherever it appears."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable, Iterator

from .dates import DATE_LINE, MONTHS, parse_date
from .readlog import ReadLog
from .records import Paper, paper_id
from .sniff import Lookahead

# Counts are capped at 9 digits: a longer run is not metadata, and int() would refuse it.
_AUTHORS_LINE = re.compile(r"^•\s*(\d{1,9})\s+authors?$")
_META_DOT = "·"
# Page chrome of a copied paper-listing page; ignored wherever it appears.
_PAGE_CHROME = frozenset({
    "new", "Subscribe", "Get trending papers in your email inbox!", "Daily Papers",
    "byAK and the research community", "Trending Papers", "Papers",
})
_MAX_TITLE_CHARS = 400
# A paragraph stops growing at this many characters (the readers cut abstracts at 1 MB).
_MAX_PARAGRAPH_CHARS = 2 << 20
_MIN_ABSTRACT_WORDS = 12


def _paragraphs(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Blank-line separated paragraphs as (first line number, text joined with spaces); one
    holding a metadata line ('·', '• 3 authors', a date) is split into its lines."""
    buf: list[tuple[int, str]] = []
    size = 0
    for number, text in itertools.chain(lines, [(0, "")]):  # a blank line ends the last one
        text = text.strip()
        if text:
            if size <= _MAX_PARAGRAPH_CHARS:
                buf.append((number, text))
                size += len(text)
        elif buf:
            if len(buf) > 1 and any(_kind(line) in ("dot", "authors", "date") for _, line in buf):
                yield from buf
            else:
                yield buf[0][0], " ".join(line for _, line in buf)
            buf, size = [], 0


def _kind(text: str) -> str:
    if text == _META_DOT:
        return "dot"
    if _AUTHORS_LINE.match(text):
        return "authors"
    match = DATE_LINE.match(text)
    if match and match[1] in MONTHS:
        return "date"
    if text in _PAGE_CHROME:
        return "chrome"
    return "text"


def _is_abstract(text: str, title: str) -> bool:
    return (len(title) <= _MAX_TITLE_CHARS and len(text) > len(title)
            and len(text.split()) >= _MIN_ABSTRACT_WORDS)


def read_listing(lines: Iterable[tuple[int, str]], path: str, log: ReadLog,
                 reference: dt.date) -> Iterator[Paper]:
    """Papers of a copied listing page: title, abstract, then an optional metadata block (an
    authors line '• 9 authors' or organization 'nvidia NVIDIA', '·', 'Mon D[, YYYY] [votes]')."""
    paras = Lookahead((n, t, k) for n, t in _paragraphs(lines) if (k := _kind(t)) != "chrome")
    title: tuple[int, str] | None = None
    current: Paper | None = None  # the last paper, held back until its metadata is read
    seen_paper = False  # lines before the first paper are the page's header
    while (item := paras.next()) is not None:
        number, text, kind = item
        following = paras.peek()
        if (kind == "text" and following is not None and following[2] == "dot"
                and not (title is not None and _is_abstract(text, title[1]))):
            kind = "org"  # 'nvidia NVIDIA': an organization handle and its display name
        if kind in ("authors", "org", "dot"):
            block = [(number, text, kind)]
            while (nxt := paras.peek()) is not None and nxt[2] in ("dot", "date"):
                block.append(nxt)
                paras.next()
                if nxt[2] == "date" or len(block) == 3:
                    break
            if current is None or title is not None:
                if seen_paper:
                    log.skip(path, number, "metadata with no paper before it")
                continue
            yield _with_metadata(current, block, reference)
            current = None
            continue
        if kind == "date":
            continue  # a date line on its own is the page's date, not a paper's
        if title is not None and _is_abstract(text, title[1]):
            if current is not None:
                yield current
            current = Paper(
                id=paper_id("", title[1]), title=title[1], abstract=text,
                source=f"{path}:{title[0]}",
            )
            title = None
            seen_paper = True
            continue
        if title is not None and seen_paper:
            log.skip(path, title[0], "a title with no abstract after it")
        title = (number, text)
    if current is not None:
        yield current
    if title is not None and seen_paper:
        log.skip(path, title[0], "a title with no abstract after it (truncated page?)")


def _with_metadata(paper: Paper, block: list[tuple[int, str, str]], reference: dt.date) -> Paper:
    for _, text, kind in block:
        # (each pattern matches: the kind was found by it)
        if kind == "authors" and (match := _AUTHORS_LINE.match(text)):
            paper.n_authors = int(match[1])
        elif kind == "org":
            handle, _, name = text.partition(" ")
            paper.organization = name.strip() or handle
        elif kind == "date" and (match := DATE_LINE.match(text)):
            paper.date = parse_date(text, reference)
            paper.upvotes = int(match[4]) if match[4] else None
    return paper

