"""The paper record every reader yields, its stable id, and merging of repeated papers."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace

_NON_ALNUM = re.compile(r"[\W_]+")
_ARXIV_ID = r"\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"  # new style, old style
# An arXiv id, with an optional version, as the whole text; else the first one in a link.
_ARXIV = re.compile(rf"^({_ARXIV_ID})(?:v\d+)?$"
                    rf"|(?:arxiv\.org/(?:abs|pdf)|huggingface\.co/papers)/({_ARXIV_ID})")

# For ASCII text, what casefold() and _NON_ALNUM do: upper case to lower, and every byte but
# a letter or a digit dropped.
_ASCII_LOWER = bytes.maketrans(bytes(range(65, 91)), bytes(range(97, 123)))
_ASCII_NON_ALNUM = bytes(c for c in range(128) if not chr(c).isalnum()) + bytes(range(128, 256))

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
    # Already clean (the common case, and a fast check): no white space but single inner
    # spaces, since every white space character but the space is unprintable.
    if not text or (text.isprintable() and "  " not in text and text[0] != " "
                    and text[-1] != " "):
        return text
    return " ".join(text.split())


def title_key(title: str) -> str:
    """The title reduced to lower-case letters and digits: equal for the same paper everywhere."""
    if title.isascii():  # NFKC leaves ASCII as it is; a byte table does the rest, 8x faster
        return title.encode("ascii").translate(_ASCII_LOWER, _ASCII_NON_ALNUM).decode("ascii")
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", title).casefold())


def title_hash(title: str) -> str:
    """A short, stable id for a paper without one (a title of punctuation alone is hashed as
    it is)."""
    key = title_key(title) or title
    return hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def arxiv_id(text: str) -> str:
    """The arXiv id (without version) in an id or URL, or '' when there is none."""
    text = text.strip()
    if not text:  # most often: a dump with no ids or no links
        return ""
    match = _ARXIV.search(text)
    return (match[1] or match[2]) if match else ""


def paper_id(given: str, title: str, url: str = "") -> str:
    """Stable id: the arXiv id when the input has one, else the input's id, else a title hash."""
    given = given.strip()
    return arxiv_id(given) or arxiv_id(url) or given or title_hash(title)


def own_id(paper: Paper, taken: Callable[[str], bool]) -> str:
    """An id for a paper whose given id a different paper holds: its title hash, else (when
    that is taken too) a hash of its title and abstract."""
    new = title_hash(paper.title)
    if taken(new):
        new = hashlib.sha1(f"{paper.title}\0{paper.abstract}".encode(
            "utf-8", "surrogatepass")).hexdigest()[:12]
    return new


class Deduplicator:
    """Yield each paper once, in first-seen order; each call reads the next input's papers.

    Two records are the same paper when they share an arXiv id, or a normalized title without
    conflicting arXiv ids (other ids collide across tools: a different paper under a taken id
    gets one of its own, see ``own_id``, and a line in :attr:`notes`). Each paper costs two
    90-bit BLAKE2b keys, about 185 bytes (``scripts/dedup_memory.py``); for 10 million papers
    the chance that two different ones share a key is below 10^-12. What repeats bring is kept
    for :meth:`updated` and :meth:`fill`, and repeats are marked a bit per record, so a
    deduplicator made with ``learned`` (a first read of the same inputs) drops them and gives
    each paper whole.
    """

    def __init__(self, learned: Deduplicator | None = None) -> None:
        # id key -> where its paper was read (see _place); normalized title key -> the
        # arXiv id key of its paper, 0 for none
        self._ids: dict[int, int] = {}
        self._titles: dict[int, int] = {}
        self._paths: dict[str, int] = {}
        self._aliases: dict[int, int] = {}  # arXiv id key a repeat brought -> title key
        # title key -> the arXiv id key a repeat brought its paper (few: kept for the rows)
        self._adopted: dict[int, int] = learned._adopted if learned is not None else {}
        self._renames: list[dict[int, str]] = learned._renames if learned is not None else []
        self.notes: list[str] = learned.notes if learned is not None else []
        self._updates: dict[int, list[tuple[int, Paper]]] = (
            learned._updates if learned is not None else {})
        self._repeated: list[bytearray] = learned._repeated if learned is not None else []
        self.learned = learned is not None
        self._filled: dict[int, int] = {}
        self._inputs = 0
        self.repeats = 0

    @property
    def updates(self) -> bool:
        """Whether any repeat brought metadata for an earlier record."""
        return bool(self._updates)

    def __call__(self, papers: Iterable[Paper]) -> Iterator[Paper]:
        """The next input's papers seen for the first time (whole, when learned)."""
        if self.learned:
            yield from self._replay(papers, self._repeated[self._inputs])
            self._inputs += 1
            return
        ids, titles, updates = self._ids, self._titles, self._updates
        marks = bytearray()
        self._repeated.append(marks)
        renames: dict[int, str] = {}
        self._renames.append(renames)
        for ordinal, paper in enumerate(papers):
            id_key, title_key_ = _keys(paper.id, paper.title)
            arxiv = bool(arxiv_id(paper.id))
            matched = None
            if arxiv and id_key in ids:
                matched = id_key
            elif title_key_ is not None and title_key_ in titles and (
                    not arxiv or titles[title_key_] in (0, id_key)):
                matched = title_key_
            if matched is not None:
                self.repeats += 1
                if ordinal >> 3 >= len(marks):
                    marks.extend(bytes((ordinal >> 3) + 1 - len(marks)))
                marks[ordinal >> 3] |= 1 << (ordinal & 7)
                if matched == title_key_ and titles[title_key_]:
                    matched = titles[title_key_]  # the paper's arXiv id: its row alone
                elif arxiv and matched == title_key_:  # the paper's arXiv id, from now on
                    titles[title_key_] = id_key
                    self._adopted[title_key_] = id_key
                    if id_key not in ids:  # its row is found by its title until it has it
                        ids[id_key] = 0
                        self._aliases[id_key] = title_key_
                matched = self._aliases.get(matched, matched)
                # what could change its first record's row (see apply_update)
                if arxiv or any(getattr(paper, name) not in ("", None) for name in _METADATA):
                    updates.setdefault(matched, []).append(
                        (self.repeats, replace(paper, title="", abstract="", source="")))
                continue
            if id_key in ids:  # the same id, but nothing says it is the same paper
                paper = self._renamed(paper, ids[id_key])
                renames[ordinal] = paper.id
                id_key = _id_key(paper.id)
            ids[id_key] = self._place(paper.source)
            if title_key_ is not None and title_key_ not in titles:
                titles[title_key_] = id_key if arxiv else 0
            yield paper

    def _place(self, source: str) -> int:
        """A record's file:line packed in an int (the file as its number, its place in _paths)."""
        path, _, line = source.rpartition(":")
        number = self._paths.setdefault(path, len(self._paths))
        return number << 40 | (int(line) if line.isdigit() else 0)

    def _renamed(self, paper: Paper, earlier: int) -> Paper:
        """A paper whose id an earlier, different paper holds (read at ``earlier``, see
        :meth:`_place`), under an id of its own."""
        new = own_id(paper, lambda candidate: _id_key(candidate) in self._ids)
        where = f"{list(self._paths)[earlier >> 40]}:{earlier & (1 << 40) - 1}"
        self.notes.append(f"{paper.source}: id {paper.id} is also the id of a different paper "
                          f"at {where} (another title); this one is kept as {new}")
        return replace(paper, id=new)

    def _replay(self, papers: Iterable[Paper], marks: bytearray) -> Iterator[Paper]:
        updates = self._updates
        renames = self._renames[self._inputs]
        for ordinal, paper in enumerate(papers):
            if ordinal >> 3 < len(marks) and marks[ordinal >> 3] >> (ordinal & 7) & 1:
                self.repeats += 1
                continue
            if ordinal in renames:
                paper = replace(paper, id=renames[ordinal])
            if updates:
                id_key, title_key_ = _keys(paper.id, paper.title)
                if id_key in updates or title_key_ in updates:
                    paper = Paper(**self._apply(paper.to_dict(), id_key, title_key_))
            yield paper

    def fill(self, columns: dict[str, list]) -> None:
        """Give rows about to be written (columns by name) what the repeats read so far
        brought; :attr:`late` then tells whether one came after its row was written."""
        if self.learned or not self._updates:
            return
        names = [name for name in (*_METADATA, "id") if name in columns]
        for i, (paper_id, title) in enumerate(zip(columns["id"], columns["title"],
                                                  strict=True)):
            id_key, title_key_ = _keys(paper_id, title)
            if id_key not in self._updates and title_key_ not in self._updates:
                continue
            row = self._apply({name: columns[name][i] for name in names}, id_key, title_key_)
            for name in names:
                columns[name][i] = row[name]
            for key in (id_key, title_key_):
                if key in self._updates:
                    self._filled[key] = len(self._updates[key])

    @property
    def late(self) -> bool:
        """Whether a repeat brought metadata that no row written through :meth:`fill` took."""
        return not self.learned and any(
            self._filled.get(key) != len(found) for key, found in self._updates.items())

    def updated(self, row: dict) -> dict:
        """A row (or a paper's fields) with the metadata its repeats brought."""
        if not self._updates:
            return row
        return self._apply(row, *_keys(str(row.get("id")), str(row["title"])))

    def _apply(self, row: dict, id_key: int, title_key_: int | None) -> dict:
        """The row with the updates found under its keys, in the order they came."""
        if title_key_ in self._adopted and id_key != self._adopted[title_key_] and \
                arxiv_id(str(row.get("id"))):
            title_key_ = None  # another paper of that title, kept apart by its arXiv id
        found = [*self._updates.get(id_key, ()),
                 *(self._updates.get(title_key_, ()) if title_key_ is not None else ())]
        for _, update in sorted(found, key=lambda u: u[0]):
            row = apply_update(row, update)
        return row


def _keys(paper_id: str, title: str) -> tuple[int, int | None]:
    """A paper's two dedupe keys: 90-bit hashes (a three-digit Python int) of its id and of its
    normalized title; no title key for a title that reduces to nothing."""
    key = title_key(title)  # normalized once: it is the costly part for non-ASCII titles
    hashed = _hash(b"title\0" + key.encode("utf-8", "surrogatepass")) if key else None
    return _id_key(paper_id), hashed


def _id_key(paper_id: str) -> int:
    return _hash(b"id\0" + paper_id.encode("utf-8", "surrogatepass"))


def _hash(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=12).digest()) >> 6


def apply_update(row: dict, update: Paper) -> dict:
    """Fill a written row's empty metadata from a later repeat of the same paper."""
    merged = dict(row)
    if update.id != row["id"] and arxiv_id(update.id) and not arxiv_id(str(row["id"])):
        merged["id"] = update.id
    for name in _METADATA:
        value = getattr(update, name)
        if _empty(row.get(name)) and value not in ("", None):
            merged[name] = value
    return merged


def _empty(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, float) and value != value)
