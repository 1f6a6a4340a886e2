"""The paper record every reader yields, its stable id, and merging of repeated papers."""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np

_NON_ALNUM = re.compile(r"[\W_]+")
_ARXIV_NEW = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_ARXIV_OLD = re.compile(r"^([a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")
_ARXIV_URL = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)|huggingface\.co/papers)/"
    r"(\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})"
)

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
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def title_key(title: str) -> str:
    """The title reduced to lower-case letters and digits: equal for the same paper everywhere."""
    if title.isascii():  # NFKC leaves ASCII as it is; a byte table does the rest, 8x faster
        return title.encode("ascii").translate(_ASCII_LOWER, _ASCII_NON_ALNUM).decode("ascii")
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", title).casefold())


def title_hash(title: str) -> str:
    """A short, stable id for a paper that has no id of its own."""
    return hashlib.sha1(title_key(title).encode("utf-8")).hexdigest()[:12]


def arxiv_id(text: str) -> str:
    """The arXiv id (without version) in an id or URL, or '' when there is none."""
    text = text.strip()
    if not text:  # most often: a dump with no ids or no links
        return ""
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

    Two records are the same paper when they share an id or a normalized title. Each paper
    leaves two 96-bit keys (hashes of its id and of its normalized title) in a numpy hash set:
    52 to 104 bytes per paper (13 per slot, a quarter to half full), so it streams the whole
    arXiv snapshot in little memory. Two papers are merged only when a full 96-bit key
    agrees: for 10 million papers the chance that any two different ones do is below 10^-15
    (the hash set's 64-bit slots collide far more often, and are told apart by probing).

    A repeat that carries metadata (or an arXiv id) is remembered without its title and
    abstract, under the key that matched, and :meth:`updated` applies what repeats brought to
    the first record's row once the stream ends, in the order the repeats came.
    """

    _BATCH = 1_024

    def __init__(self) -> None:
        self._seen = _KeySet()
        self._updates: dict[bytes, list[tuple[int, Paper]]] = {}
        self.repeats = 0

    @property
    def updates(self) -> bool:
        """Whether any repeat brought metadata to patch into an earlier row."""
        return bool(self._updates)

    def __call__(self, papers: Iterable[Paper]) -> Iterator[Paper]:
        iterator = iter(papers)
        while batch := list(itertools.islice(iterator, self._BATCH)):
            for i in self.first_seen([p.id for p in batch], [p.title for p in batch],
                                     batch.__getitem__):
                yield batch[i]

    def first_seen(self, ids: Sequence[str], titles: Sequence[str],
                   paper: Callable[[int], Paper]) -> list[int]:
        """Which of these papers (by id and title, in order) are seen for the first time;
        ``paper(i)`` gives the whole record of a repeat, to keep what it brings."""
        firsts: list[int] = []
        for start in range(0, len(ids), self._BATCH):
            stop = min(start + self._BATCH, len(ids))
            keys = [_keys(ids[i], titles[i]) for i in range(start, stop)]
            flat = [k for pair in keys for k in pair]
            known = self._seen.contains(flat)
            if not known.any() and len(set(flat)) == len(flat):  # all new: the common case
                self._seen.add(flat)
                firsts.extend(range(start, stop))
                continue
            new: dict[bytes, None] = {}
            for i, pair in enumerate(keys):
                matched = next((k for j, k in enumerate(pair) if known[2 * i + j] or k in new),
                               None)
                if matched is None:
                    new.update(dict.fromkeys(pair))
                    firsts.append(start + i)
                    continue
                self.repeats += 1
                repeat = paper(start + i)
                if _brings_something(repeat):
                    self._updates.setdefault(matched, []).append(
                        (self.repeats, replace(repeat, title="", abstract="", source="")))
            self._seen.add(list(new))
        return firsts

    def updated(self, row: dict, by_title: bool = True) -> dict:
        """A row this run wrote (or a paper's fields) with the metadata its repeats brought.
        ``by_title=False`` matches by id alone: for rows another run wrote, whose titles this
        run never deduplicated."""
        id_key, title_key_ = _keys(str(row["id"]), str(row["title"]))
        found = [*self._updates.get(id_key, ()),
                 *(self._updates.get(title_key_, ()) if by_title else ())]
        for _, update in sorted(found, key=lambda u: u[0]):
            row = apply_update(row, update)
        return row


def _brings_something(paper: Paper) -> bool:
    """Whether a repeat could change its first record's row (see ``apply_update``)."""
    return bool(arxiv_id(paper.id)) or any(
        getattr(paper, name) not in ("", None) for name in _METADATA)


def _keys(paper_id: str, title: str) -> tuple[bytes, bytes]:
    """A paper's two 96-bit dedupe keys: of its id and of its normalized title."""
    return (_blake2b(b"id\0" + paper_id.encode("utf-8", "surrogatepass"),
                     digest_size=12).digest(),
            _blake2b(b"title\0" + title_key(title).encode("utf-8", "surrogatepass"),
                     digest_size=12).digest())


_blake2b = hashlib.blake2b


class _KeySet:
    """A growing set of 12-byte keys in numpy arrays (open addressing, linear probing, at
    most half full), queried and extended a batch at a time: 13 bytes per slot instead of a
    Python object per key."""

    _GOLDEN = np.uint64(0x9E37_79B9_7F4A_7C15)

    def __init__(self, bits: int = 12):
        self._allocate(bits)

    def _allocate(self, bits: int) -> None:
        self._bits = bits
        self._high = np.zeros(1 << bits, dtype=np.uint64)
        self._low = np.zeros(1 << bits, dtype=np.uint32)
        self._used = np.zeros(1 << bits, dtype=bool)
        self._size = 0

    @staticmethod
    def _split(keys: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        packed = np.frombuffer(b"".join(keys), dtype=np.dtype([("high", "<u8"), ("low", "<u4")]))
        return packed["high"].copy(), packed["low"].copy()

    def _find(self, high: np.ndarray, low: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each key: whether it is in the set, and its slot (or the empty slot where it
        would go)."""
        mask = (1 << self._bits) - 1
        slot = ((high * self._GOLDEN) >> np.uint64(64 - self._bits)).astype(np.int64)
        found = np.zeros(len(high), dtype=bool)
        active = np.arange(len(high))
        while len(active):
            at = slot[active]
            used = self._used[at]
            same = used & (self._high[at] == high[active]) & (self._low[at] == low[active])
            found[active[same]] = True
            active = active[used & ~same]
            slot[active] = (slot[active] + 1) & mask
        return found, slot

    def contains(self, keys: list[bytes]) -> np.ndarray:
        if not keys:
            return np.zeros(0, dtype=bool)
        return self._find(*self._split(keys))[0]

    def add(self, keys: list[bytes]) -> None:
        """Add distinct keys that are not in the set yet."""
        if not keys:
            return
        high, low = self._split(keys)
        while 2 * (self._size + len(keys)) > len(self._used):
            self._grow()
        self._insert(high, low)

    def _insert(self, high: np.ndarray, low: np.ndarray) -> None:
        pending = np.arange(len(high))
        while len(pending):
            _, slot = self._find(high[pending], low[pending])
            # Keys that found the same empty slot: the first takes it, the others probe on.
            taken, first = np.unique(slot, return_index=True)
            winners = pending[first]
            self._used[taken] = True
            self._high[taken], self._low[taken] = high[winners], low[winners]
            self._size += len(winners)
            placed = np.zeros(len(high), dtype=bool)
            placed[winners] = True
            pending = pending[~placed[pending]]

    def _grow(self) -> None:
        used = self._used
        high, low = self._high[used], self._low[used]
        self._allocate(self._bits + 1)
        self._insert(high, low)


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
