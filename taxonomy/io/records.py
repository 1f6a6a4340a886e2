"""The paper record every reader yields, its stable id, and merging of repeated papers."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields

_NON_ALNUM = re.compile(r"[\W_]+")
_ARXIV_NEW = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_ARXIV_OLD = re.compile(r"^([a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")
_ARXIV_URL = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)|huggingface\.co/papers)/"
    r"(\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})"
)

_METADATA = ("date", "n_authors", "organization", "upvotes", "url")


@dataclass(slots=True)
class Paper:
    """One paper as read from a dump; empty string / None mean 'not shown in the input'."""

    id: str
    title: str
    abstract: str
    date: str = ""
    n_authors: int | None = None
    organization: str = ""
    upvotes: int | None = None
    url: str = ""
    source: str = field(default="", compare=False)

    def to_dict(self) -> dict:
        return asdict(self)


# Columns of a parsed paper, in output order.
PAPER_COLUMNS = tuple(f.name for f in fields(Paper))


def clean_text(text: str) -> str:
    """Collapse runs of white space (arXiv wraps titles and abstracts) into single spaces."""
    return " ".join(text.split())


def title_key(title: str) -> str:
    """The title reduced to lower-case letters and digits: equal for the same paper everywhere."""
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", title).casefold())


def title_hash(title: str) -> str:
    """A short, stable id for a paper that has no id of its own."""
    return hashlib.sha1(title_key(title).encode("utf-8")).hexdigest()[:12]


def arxiv_id(text: str) -> str:
    """The arXiv id (without version) in an id or URL, or '' when there is none."""
    text = text.strip()
    for pattern in (_ARXIV_NEW, _ARXIV_OLD):
        match = pattern.match(text)
        if match:
            return match.group(1)
    match = _ARXIV_URL.search(text)
    return match.group(1) if match else ""


def paper_id(given: str, title: str, url: str = "") -> str:
    """Stable id: the arXiv id when the input has one, else the input's id, else a title hash."""
    given = given.strip()
    return arxiv_id(given) or arxiv_id(url) or given or title_hash(title)


def merge(first: Paper, other: Paper) -> Paper:
    """Combine two records of the same paper, keeping every piece of metadata either one shows."""
    return Paper(**apply_update(first.to_dict(), other))


class Deduplicator:
    """Yield each paper once, in first-seen order, whatever input it is repeated in.

    Two records are the same paper when they share an id or a normalized title. Memory is one
    short key per paper, so it streams millions of records. A repeat that carries metadata the
    first record lacked is remembered in ``updates`` (keyed by the id already emitted), for the
    writer to patch in once the stream ends.
    """

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}
        self.updates: dict[str, Paper] = {}
        self.repeats = 0

    def __call__(self, papers: Iterable[Paper]) -> Iterator[Paper]:
        for paper in papers:
            keys = (paper.id, "title:" + title_hash(paper.title))
            emitted = next((self._seen[k] for k in keys if k in self._seen), None)
            if emitted is None:
                for key in keys:
                    self._seen[key] = paper.id
                yield paper
                continue
            self.repeats += 1
            pending = self.updates.get(emitted) or Paper(id=emitted, title="", abstract="")
            self.updates[emitted] = merge(pending, paper)


def apply_update(row: dict, update: Paper) -> dict:
    """Fill a written row's empty metadata from a later repeat of the same paper."""
    merged = dict(row)
    for name in (*_METADATA, "id"):
        value = getattr(update, name)
        if name == "id":
            if value != row["id"] and arxiv_id(value) and not arxiv_id(str(row["id"])):
                merged["id"] = value
        elif _empty(row.get(name)) and value not in ("", None):
            merged[name] = value
    return merged


def _empty(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, float) and value != value)
