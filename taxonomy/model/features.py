"""The model's feature blocks, fitted by scikit-learn and scored without it.

- ``WordBlock``: TF-IDF of word uni- and bi-grams (stop words removed);
- ``CharBlock``: TF-IDF of character 3-5-grams inside word boundaries (``char_wb``), which
  sees word forms the seeds never used (``checkpoint``/``checkpointing``/``recompute``);
- ``TermBlock``: per category, how often the taxonomy file's indicative terms occur.

Each block's ``transform`` works on a whole chunk of documents at once, and equals
scikit-learn's ``TfidfVectorizer.transform`` for the same vocabulary and idf (tests check
it with hypothesis): tokens are looked up once each, never one n-gram string at a time. The
per-document counting runs in the package's C loops where the build has them
(:mod:`.kernels`), else with numpy over the whole chunk; both give the same numbers.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from . import kernels

# The token pattern scikit-learn uses by default, which the Arrow fast path reproduces.
WORD_TOKENS = r"(?u)\b\w\w+\b"
# Below this many documents a chunk is split in Python: importing pyarrow's compute functions
# costs more than it saves (a daily listing). The one setting of its kind: tagging also sends a
# chunk to scoring as Arrow arrays from this size.
ARROW_FROM = 256
# Python's ``str.split()`` separators among ASCII characters (\x1c-\x1f included).
_ASCII_SPACES = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
_SPACE = ord(" ")
# The longest character n-gram packed into one integer, beside its length.
_PACKED_BYTES = 7


def _byte_table(keep: bytes) -> bytes:
    """A table for ``bytes.translate``: the bytes in ``keep`` stay, every other one becomes a
    space."""
    return bytes(c if c in keep else _SPACE for c in range(256))


# For ASCII text: word characters (what ``\w`` matches there) stay, the rest become spaces.
_WORD_BYTES = _byte_table(bytes(c for c in range(128) if chr(c).isalnum() or chr(c) == "_"))
# Every byte stays but the ASCII white space, which becomes a plain space.
_WHITE_BYTES = _byte_table(bytes(c for c in range(256) if c not in _ASCII_SPACES))
# The same, with capitals lower-cased: splitting ASCII text with it splits its lower case.
_WHITE_LOWER_BYTES = _WHITE_BYTES.translate(bytes.maketrans(bytes(range(65, 91)),
                                                            bytes(range(97, 123))))


@dataclass
class Split:
    """Pieces of a chunk's documents: each occurrence's number in ``uniques`` (the chunk's
    distinct pieces), flattened over the chunk, and how many belong to each document.

    When Arrow split them, the distinct pieces are also an Arrow array (``dictionary``), which
    blocks look up in C; ``uniques`` makes Python strings of them only if asked.
    """

    codes: np.ndarray
    lengths: np.ndarray
    _uniques: list[str] | None = None
    dictionary: Any = None

    @property
    def uniques(self) -> list[str]:
        if self._uniques is None:
            self._uniques = self.dictionary.to_pylist()
        return self._uniques

    def owners(self) -> np.ndarray:
        """The document of each occurrence."""
        return np.repeat(np.arange(len(self.lengths), dtype=np.int64), self.lengths)


@dataclass
class Docs:
    """A chunk of lower-cased documents as the blocks read it, split once for all of them:
    ``tokens`` by the token pattern (word and term blocks), ``words`` at white space (the
    character block, as scikit-learn's ``char_wb`` splits).

    Blocks then map the few distinct pieces to their own vocabulary and do the rest on
    integer arrays. Chunks of ASCII documents are split by Arrow compute functions, others
    by Python; both give the same pieces (tests check it).
    """

    tokens: Split
    words: Split

    def __len__(self) -> int:
        return len(self.tokens.lengths)

    def owners(self) -> np.ndarray:
        """The document of each token occurrence."""
        return self.tokens.owners()


def tokenized(docs: Sequence[str] | Any, token_pattern: str, arrow: bool | None = None
              ) -> Docs:
    """Lower-cased documents split into tokens (``token_pattern``) and words, shared by the
    blocks. ``arrow`` forces (or forbids) the Arrow path where it applies; by default chunks
    of a few hundred documents take it.

    ``docs`` may be an Arrow string array (chunks of columnar dumps come so): then no Python
    string is made for an ASCII document, lower-cased by the byte table that splits it."""
    if not isinstance(docs, list | tuple) and hasattr(docs, "to_pylist"):
        if token_pattern == WORD_TOKENS and (arrow or arrow is None and
                                             len(docs) >= ARROW_FROM):
            words = _arrow_split(docs, _WHITE_LOWER_BYTES, 1, _lower_split)
            return Docs(_tokens_of_words(words, re.compile(token_pattern).findall), words)
        docs = docs.to_pylist()
    lower = [d.lower() for d in docs]
    if arrow is None:
        arrow = len(lower) >= ARROW_FROM
    if token_pattern != WORD_TOKENS or not arrow:
        return Docs(_python_split(lower, re.compile(token_pattern).findall),
                    _python_split(lower, str.split))
    import pyarrow as pa

    try:
        texts = pa.array(lower, type=pa.large_string())
    except UnicodeEncodeError:  # a lone surrogate (JSON can carry one): Python copes
        return Docs(_python_split(lower, re.compile(token_pattern).findall),
                    _python_split(lower, str.split))
    words = _arrow_split(texts, _WHITE_BYTES, 1, str.split)
    return Docs(_tokens_of_words(words, re.compile(token_pattern).findall), words)


def _lower_split(text: str) -> list[str]:
    return text.lower().split()


def _tokens_of_words(words: Split, find: Any) -> Split:
    """The tokens of documents from their words: no token spans white space, so each
    distinct word is tokenized once and the documents' tokens are their words' in turn."""
    each = _arrow_split(words.dictionary, _WORD_BYTES, 2, find)  # a distinct word per row
    module = kernels.compiled()
    if module is not None:
        codes, lengths = kernels.expand_pieces(module, words.codes, words.lengths,
                                               kernels.starts_of(each.lengths), each.codes)
        return Split(codes, lengths, dictionary=each.dictionary)
    first = np.cumsum(each.lengths) - each.lengths
    sizes = each.lengths[words.codes]
    at = (np.repeat(first[words.codes] - (np.cumsum(sizes) - sizes), sizes)
          + np.arange(int(sizes.sum()), dtype=np.int64))
    lengths = np.bincount(words.owners(), weights=sizes, minlength=len(words.lengths))
    return Split(each.codes[at], lengths.astype(np.int64), dictionary=each.dictionary)


def _python_split(lower: Sequence[str], split: Any) -> Split:
    found = [split(d) for d in lower]
    local: dict[str, int] = {}
    slot = local.setdefault
    codes = [slot(t, len(local)) for t in itertools.chain.from_iterable(found)]
    return Split(np.asarray(codes, dtype=np.int64),
                 np.fromiter(map(len, found), dtype=np.int64, count=len(found)), list(local))


def _ascii_part(texts: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which entries of an Arrow string array are ASCII, and those entries' bytes (uint8)
    and offsets (int64, from 0), read from the array's buffers without Python strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    plain = np.asarray(pc.string_is_ascii(texts).fill_null(True), dtype=bool)
    part = texts.filter(pa.array(plain)).cast(pa.large_string())
    if not len(part):
        return plain, np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64)
    offsets = np.frombuffer(part.buffers()[1], dtype=np.int64)[part.offset:
                                                                part.offset + len(part) + 1]
    data = np.frombuffer(part.buffers()[2], dtype=np.uint8)
    return plain, data[offsets[0]:offsets[-1]], offsets - offsets[0]


def _arrow_split(texts: Any, table: bytes, shortest: int, split: Any) -> Split:
    """Pieces of an Arrow array of texts: the ASCII ones translated with ``table`` and split
    at spaces by Arrow, keeping pieces of at least ``shortest`` characters; the others split
    by ``split`` in Python. Equal to ``split`` on every text for the two tables above."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(texts)
    plain, data, offsets = _ascii_part(texts)
    translated = data.tobytes().translate(table)
    module = kernels.compiled()
    if module is not None:
        return _compiled_split(module, texts, plain, translated, offsets, shortest, split)
    fast = np.flatnonzero(plain)
    pieces = pc.split_pattern(pa.LargeStringArray.from_buffers(
        len(fast), pa.py_buffer(offsets), pa.py_buffer(translated)), " ")
    flat = pieces.flatten()
    owner = fast[np.asarray(pieces.value_parent_indices())]
    slow = np.flatnonzero(~plain)
    if len(slow):
        found = [split(t) for t in texts.filter(pa.array(~plain)).to_pylist()]
        flat = pa.concat_arrays([flat, pa.array(list(itertools.chain.from_iterable(found)),
                                                type=flat.type)])
        owner = np.concatenate([owner, np.repeat(slow, [len(f) for f in found])])
    encoded = flat.dictionary_encode()
    codes = np.asarray(encoded.indices, dtype=np.int64)
    # Arrow's split leaves empty and one-letter pieces the pattern would not match.
    short = np.asarray(pc.utf8_length(encoded.dictionary)) < shortest
    if short.any():
        kept = ~short[codes]
        codes, owner = codes[kept], owner[kept]
    if len(slow):  # back in document order
        order = np.argsort(owner, kind="stable")
        codes, owner = codes[order], owner[order]
    return Split(codes, np.bincount(owner, minlength=n), dictionary=encoded.dictionary)


def _compiled_split(module: Any, texts: Any, plain: np.ndarray, translated: bytes,
                    offsets: np.ndarray, shortest: int, split: Any) -> Split:
    """``_arrow_split`` by the compiled loop: the ASCII texts' translated bytes, then the
    other texts' pieces (split in Python) joined by spaces, split and numbered in one pass
    in document order."""
    import pyarrow as pa

    starts = np.empty(len(texts), dtype=np.int64)
    ends = np.empty(len(texts), dtype=np.int64)
    starts[plain], ends[plain] = offsets[:-1], offsets[1:]
    slow = np.flatnonzero(~plain)
    if len(slow):
        # Python's pieces hold no space (split at white space, or runs of word characters).
        joined = [" ".join(split(t)).encode("utf-8")
                  for t in texts.filter(pa.array(~plain)).to_pylist()]
        sizes = np.fromiter(map(len, joined), dtype=np.int64, count=len(joined))
        ends[slow] = len(translated) + np.cumsum(sizes)
        starts[slow] = ends[slow] - sizes
        translated += b"".join(joined)
    codes, lengths, dictionary_offsets, chars = kernels.split_pieces(
        module, translated, starts, ends, shortest)
    dictionary = pa.LargeStringArray.from_buffers(
        len(dictionary_offsets) - 1, pa.py_buffer(dictionary_offsets), pa.py_buffer(chars))
    return Split(codes, lengths, dictionary=dictionary)


class _Pieces:
    """Pieces (tokens) numbered 0, 1, ... in order, some of them dropped (stop words): what a
    block maps a chunk's distinct pieces to. Built once per block, with the Arrow arrays it
    looks Arrow-split pieces up in."""

    def __init__(self, ids: dict[str, int], dropped: frozenset[str] = frozenset()):
        self.ids, self.dropped = ids, dropped
        self._arrow: Any = None

    def __len__(self) -> int:
        return len(self.ids)

    def of(self, split: Split, missing: int) -> np.ndarray:
        """For each distinct piece of ``split``: its number, else ``missing``; -1 if dropped."""
        if split.dictionary is None:
            ids, dropped = self.ids, self.dropped
            return np.array([-1 if t in dropped else ids.get(t, missing)
                             for t in split.uniques], dtype=np.int64)
        import pyarrow as pa
        import pyarrow.compute as pc

        if self._arrow is None:
            self._arrow = (pa.array(list(self.ids), type=pa.large_string()),
                           pa.array(sorted(self.dropped), type=pa.large_string()))
        known, dropped = self._arrow
        out = np.asarray(pc.index_in(split.dictionary, value_set=known).fill_null(missing),
                         dtype=np.int64)
        if self.dropped:
            out[np.asarray(pc.is_in(split.dictionary, value_set=dropped), dtype=bool)] = -1
        return out


class _Lookup:
    """A read-only hash table from uint64 keys to int64 values, queried with numpy a whole
    array at a time (open addressing, linear probing, at most a quarter full): a few
    vectorized passes instead of a binary search per query."""

    _EMPTY = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
    _GOLDEN = np.uint64(0x9E37_79B9_7F4A_7C15)  # Fibonacci hashing's multiplier

    def __init__(self, keys: np.ndarray, values: np.ndarray):
        keys, values = np.asarray(keys, dtype=np.uint64), np.asarray(values, dtype=np.int64)
        if (keys == self._EMPTY).any() or len(np.unique(keys)) != len(keys):
            raise ValueError("keys must be unique and below the largest uint64")
        self.bits = max(4, (4 * len(keys)).bit_length())
        self.keys = np.full(1 << self.bits, self._EMPTY, dtype=np.uint64)
        self.values = np.full(1 << self.bits, -1, dtype=np.int64)
        self._pairs: np.ndarray | None = None
        mask = len(self.keys) - 1
        slot, pending = self._slot(keys), np.arange(len(keys))
        while len(pending):
            at = slot[pending]
            free = self.keys[at] == self._EMPTY
            # Of the keys that reach the same free slot, the first takes it.
            taken, first = np.unique(at[free], return_index=True)
            winners = pending[free][first]
            self.keys[taken], self.values[taken] = keys[winners], values[winners]
            placed = np.zeros(len(keys), dtype=bool)
            placed[winners] = True
            pending = pending[~placed[pending]]
            slot[pending] = (slot[pending] + 1) & mask

    @property
    def pairs(self) -> np.ndarray:
        """Keys and values interleaved (uint64), as the compiled loops probe the table: a
        slot's key and value then share a cache line."""
        if self._pairs is None:
            self._pairs = np.ascontiguousarray(
                np.stack([self.keys, self.values.view(np.uint64)], axis=1).ravel())
        return self._pairs

    def _slot(self, keys: np.ndarray) -> np.ndarray:
        out = np.multiply(keys, self._GOLDEN)
        np.right_shift(out, np.uint64(64 - self.bits), out=out)
        return out.view(np.int64)

    def get(self, queries: np.ndarray) -> np.ndarray:
        """The value of each query, -1 where the table lacks it."""
        queries = np.asarray(queries, dtype=np.uint64)
        slot = self._slot(queries)
        found = self.keys.take(slot)
        hit = found == queries
        out = np.where(hit, self.values.take(slot), -1)
        active = np.flatnonzero(~hit & (found != self._EMPTY))
        mask = len(self.keys) - 1
        while len(active):
            at = (slot[active] + 1) & mask
            slot[active] = at
            found = self.keys.take(at)
            hit = found == queries[active]
            out[active[hit]] = self.values.take(at[hit])
            active = active[~hit & (found != self._EMPTY)]
        return out


def _tfidf(rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, n_docs: int, width: int,
           idf: np.ndarray, sublinear: bool) -> sparse.csr_matrix:
    """An L2-normalized TF-IDF matrix from (document, feature, count) triples, which must be
    unique and sorted by document then feature (CSR order)."""
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_docs), out=indptr[1:])
    data = counts.astype(np.float64)
    if sublinear:
        data = np.log(data) + 1.0
    data *= idf[cols]
    norms = np.sqrt(np.bincount(rows, weights=data ** 2, minlength=n_docs))
    norms[norms == 0] = 1.0
    data /= norms[rows]
    return sparse.csr_matrix((data, cols, indptr), shape=(n_docs, width))


class WordBlock:
    """Word uni- and bi-grams, as ``TfidfVectorizer(analyzer='word', lowercase=True)``."""

    kind = "word"

    def __init__(self, vocabulary: list[str], idf: np.ndarray, stop_words: list[str],
                 ngram_range: tuple[int, int], sublinear_tf: bool, weight: float = 1.0):
        self.vocabulary, self.idf = list(vocabulary), np.asarray(idf, dtype=np.float64)
        self.stop_words, self.ngram_range = list(stop_words), tuple(ngram_range)
        self.sublinear, self.weight = bool(sublinear_tf), float(weight)
        if not 1 <= self.ngram_range[0] <= self.ngram_range[1] <= 2:
            raise ValueError("the word block handles uni- and bi-grams only")
        self._lookup: Any = None

    def _build(self) -> None:
        # Every term's tokens in one flat list (a term is one or two tokens).
        flat = " ".join(self.vocabulary).split(" ")
        tokens = {t: i for i, t in enumerate(dict.fromkeys(flat))}
        ids = np.array([tokens[t] for t in flat], dtype=np.int64)
        pair = np.fromiter((" " in t for t in self.vocabulary), dtype=bool,
                           count=len(self.vocabulary))
        start = np.cumsum(pair + 1) - (pair + 1)  # where each term's tokens begin
        size = len(tokens) + 1  # the last id: a token outside the vocabulary
        unigram = np.full(size, -1, dtype=np.int64)
        single, pairs = np.flatnonzero(~pair), np.flatnonzero(pair)
        unigram[ids[start[single]]] = single
        bigrams = _Lookup(ids[start[pairs]].astype(np.uint64) * np.uint64(size)
                          + ids[start[pairs] + 1].astype(np.uint64), pairs)
        self._lookup = (_Pieces(tokens, frozenset(self.stop_words)), size, unigram, bigrams)

    def transform(self, docs: Docs) -> sparse.csr_matrix:
        if self._lookup is None:
            self._build()
        tokens, size, unigram, bigrams = self._lookup
        unknown = size - 1
        # Each distinct token of the chunk: its id here, -1 for a stop word (dropped before
        # pairs are formed, as scikit-learn does).
        split = docs.tokens
        mapping = tokens.of(split, unknown)
        tok = mapping[split.codes] if len(mapping) else np.zeros(0, dtype=np.int64)
        module = kernels.compiled()
        if module is not None:
            indptr, indices, data = kernels.word_features(
                module, tok, split.lengths, unigram, bigrams.pairs, bigrams.bits, self.idf,
                self.sublinear, self.ngram_range)
            return sparse.csr_matrix((data, indices, indptr),
                                     shape=(len(docs), self.width)) * self.weight
        kept = tok >= 0
        tok, owner = tok[kept], split.owners()[kept]
        n_docs = len(docs)
        rows, cols = [], []
        if self.ngram_range[0] == 1:
            feature = unigram[tok]
            keep = feature >= 0
            rows.append(owner[keep])
            cols.append(feature[keep])
        if self.ngram_range[1] == 2 and len(tok) > 1:
            first, second = tok[:-1], tok[1:]
            valid = (owner[:-1] == owner[1:]) & (first != unknown) & (second != unknown)
            feature = bigrams.get((first[valid] * size + second[valid]).astype(np.uint64))
            hit = feature >= 0
            rows.append(owner[:-1][valid][hit])
            cols.append(feature[hit])
        return _counted(rows, cols, n_docs, len(self.vocabulary), self.idf,
                        self.sublinear) * self.weight

    def linear(self, docs: Docs, weights: np.ndarray) -> np.ndarray:
        return np.asarray(self.transform(docs) @ weights)

    @property
    def width(self) -> int:
        return len(self.vocabulary)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "vocabulary": _lines(self.vocabulary), "idf": self.idf,
                "stop_words": self.stop_words, "ngram_range": list(self.ngram_range),
                "sublinear_tf": self.sublinear, "weight": self.weight}


def _counted(rows: list[np.ndarray], cols: list[np.ndarray], n_docs: int, width: int,
             idf: np.ndarray, sublinear: bool) -> sparse.csr_matrix:
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    # Count each (document, feature) pair: unique keys come out sorted, i.e. in CSR order.
    keys, counts = np.unique(r * width + c, return_counts=True)
    row_of, indices = np.divmod(keys, width)
    return _tfidf(row_of, indices, counts, n_docs, width, idf, sublinear)


class CharBlock:
    """Character n-grams inside word boundaries, as ``TfidfVectorizer(analyzer='char_wb')``.

    A chunk's distinct words are turned into n-grams once each: ASCII words all together with
    numpy (every n-gram packed into an integer and looked up in a hash table of the packed
    vocabulary), other words one by one in Python (kept in a cache). The document-n-gram
    counts are then a sparse product of the document-word counts with the word-n-gram counts.
    """

    kind = "char_wb"
    _CACHE_WORDS = 100_000

    def __init__(self, vocabulary: list[str], idf: np.ndarray, ngram_range: tuple[int, int],
                 sublinear_tf: bool, weight: float = 1.0):
        self.vocabulary, self.idf = list(vocabulary), np.asarray(idf, dtype=np.float64)
        self.ngram_range, self.sublinear = tuple(ngram_range), bool(sublinear_tf)
        self.weight = float(weight)
        self._index: dict[str, int] | None = None
        self._packed: _Lookup | None = None
        self._cache: dict[str, np.ndarray] = {}

    def _grams(self, word: str) -> np.ndarray:
        """The vocabulary ids of a word's n-grams, once per occurrence (scikit-learn's char_wb
        rule: the word padded with one space each side; a short word counted once)."""
        found = self._cache.get(word)
        if found is not None:
            return found
        if self._index is None:
            self._index = {g: j for j, g in enumerate(self.vocabulary)}
        w = f" {word} "
        ids = []
        for n in range(self.ngram_range[0], self.ngram_range[1] + 1):
            last = max(1, len(w) - n + 1)
            ids += [j for i in range(last) if (j := self._index.get(w[i:i + n])) is not None]
            if len(w) <= n:
                break
        if len(self._cache) >= self._CACHE_WORDS:
            self._cache.clear()
        self._cache[word] = found = np.asarray(ids, dtype=np.int64)
        return found

    def _packed_vocabulary(self) -> _Lookup:
        """The feature id of each ASCII n-gram of the vocabulary, by its packed integer: the
        length, then each byte (8 bits each; at most ``_PACKED_BYTES`` bytes), as
        ``_ascii_grams`` packs a word's n-grams."""
        if self._packed is None:
            sizes = np.fromiter(map(len, self.vocabulary), dtype=np.int64,
                                count=len(self.vocabulary))
            plain = np.fromiter(map(str.isascii, self.vocabulary), dtype=bool,
                                count=len(self.vocabulary))
            plain &= sizes <= _PACKED_BYTES
            ids = np.flatnonzero(plain)
            data = np.frombuffer("".join([self.vocabulary[j] for j in ids]).encode("ascii"),
                                 dtype=np.uint8).astype(np.uint64)
            starts = np.cumsum(sizes[ids]) - sizes[ids]
            codes = sizes[ids].astype(np.uint64)
            for k in range(int(sizes[ids].max(initial=0))):
                # Byte k of every gram that has one, shifted in after the ones before it.
                longer = sizes[ids] > k
                codes[longer] = (codes[longer] << np.uint64(8)) | data[starts[longer] + k]
            self._packed = _Lookup(codes, ids)
        return self._packed

    def _ascii_grams(self, data: np.ndarray, offsets: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """(word, feature id) of every n-gram occurrence of ASCII words (their bytes one after
        the other, and where each starts), all at once. Words shorter than the shortest
        n-gram once padded get none here (see ``_word_grams``)."""
        vocabulary = self._packed_vocabulary()
        count_words = len(offsets) - 1
        sizes = np.diff(offsets)
        padded = sizes + 2
        # The words padded with a space each side: word i's bytes move 2 i + 1 places on.
        buffer = np.full(int(padded.sum()), _SPACE, dtype=np.uint64)
        buffer[np.arange(len(data)) + 2 * np.repeat(np.arange(count_words), sizes) + 1] = data
        data = buffer
        starts = offsets[:-1] + 2 * np.arange(count_words)
        rows, cols = [], []
        for n in range(self.ngram_range[0], self.ngram_range[1] + 1):
            # A word padded to length L has max(0, L - n + 1) n-grams, one per offset.
            count = np.maximum(padded - n + 1, 0)
            total = int(count.sum())
            if not total:
                continue
            owner = np.repeat(np.arange(count_words, dtype=np.int64), count)
            position = np.repeat(starts - (np.cumsum(count) - count), count) + np.arange(total)
            code = np.full(total, n, dtype=np.uint64)
            for k in range(n):
                code = (code << np.uint64(8)) | data[position + k]
            feature = vocabulary.get(code)
            hit = feature >= 0
            rows.append(owner[hit])
            cols.append(feature[hit])
        return _joined(rows), _joined(cols)

    def _word_grams(self, split: Split) -> sparse.csr_matrix:
        """Counts of each vocabulary n-gram in each distinct word (words x vocabulary)."""
        shortest = self.ngram_range[0]
        if split.dictionary is not None:
            plain, data, offsets = _ascii_part(split.dictionary)
            count_words = len(plain)
        else:
            words = split.uniques
            count_words = len(words)
            plain = np.fromiter(map(str.isascii, words), dtype=bool, count=count_words)
            ascii_words = [words[i] for i in np.flatnonzero(plain)]
            data = np.frombuffer("".join(ascii_words).encode("ascii"), dtype=np.uint8)
            offsets = np.zeros(len(ascii_words) + 1, dtype=np.int64)
            np.cumsum(np.fromiter(map(len, ascii_words), dtype=np.int64,
                                  count=len(ascii_words)), out=offsets[1:])
        if self.ngram_range[1] > _PACKED_BYTES:
            plain[:] = False
        fast = np.flatnonzero(plain)
        # In Python: non-ASCII words, and words too short for any n-gram of the range
        # (scikit-learn then counts the padded word once).
        slow = np.flatnonzero(~plain)
        if len(fast):
            slow = np.union1d(slow, fast[np.diff(offsets) + 2 < shortest])
        module = kernels.compiled()
        if module is not None and len(fast):
            vocabulary = self._packed_vocabulary()
            indptr, indices, counts = kernels.word_grams(
                module, data, offsets, vocabulary.pairs, vocabulary.bits, self.ngram_range)
            if not len(slow) and len(fast) == count_words:  # every word's n-grams, in order
                return sparse.csr_matrix((counts, indices, indptr),
                                         shape=(count_words, len(self.vocabulary)))
            ascii_grams = sparse.csr_matrix((counts, indices, indptr),
                                            shape=(len(fast), len(self.vocabulary))).tocoo()
            rows, cols = [fast[ascii_grams.row]], [ascii_grams.col.astype(np.int64)]
            weights = [ascii_grams.data]
        else:
            rows, cols, weights = [], [], []
            if len(fast):
                at, found = self._ascii_grams(data, offsets)
                rows.append(fast[at])
                cols.append(found)
                weights.append(np.ones(len(at)))
        if len(slow):
            words = split.uniques if split.dictionary is None else \
                split.dictionary.take(slow).to_pylist()
            for k, i in enumerate(slow):
                grams = self._grams(words[i] if split.dictionary is None else words[k])
                rows.append(np.full(len(grams), i, dtype=np.int64))
                cols.append(grams)
                weights.append(np.ones(len(grams)))
        r, c = _joined(rows), _joined(cols)
        # Repeated (word, n-gram) entries are summed into counts.
        return sparse.coo_matrix((np.concatenate(weights) if weights else np.zeros(0), (r, c)),
                                 shape=(count_words, len(self.vocabulary))).tocsr()

    def transform(self, docs: Docs) -> sparse.csr_matrix:
        tfidf, norms = self._unnormalized(docs)
        tfidf.data /= np.repeat(norms, np.diff(tfidf.indptr))
        tfidf.data *= self.weight
        return tfidf

    def linear(self, docs: Docs, weights: np.ndarray) -> np.ndarray:
        """``transform(docs) @ weights``, without building the normalized matrix: by the
        compiled loop where the build has it (:mod:`.kernels`), else the unnormalized
        product's rows divided by the norms."""
        module = kernels.compiled()
        if module is not None:
            words = docs.words
            grams = self._word_grams(words)
            return kernels.char_linear(module, kernels.starts_of(words.lengths), words.codes,
                                       grams.indptr, grams.indices, grams.data, self.idf,
                                       weights, self.sublinear, self.weight)
        tfidf, norms = self._unnormalized(docs)
        return np.asarray(tfidf @ weights) * (self.weight / norms)[:, None]

    def _unnormalized(self, docs: Docs) -> tuple[sparse.csr_matrix, np.ndarray]:
        """TF-IDF before the L2 normalization, and each document's norm (1 for an empty one)."""
        words = docs.words
        n_docs = len(words.lengths)
        n_words = len(words.uniques if words.dictionary is None else words.dictionary)
        # One entry per word occurrence: the product below sums repeated words.
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(words.lengths, out=indptr[1:])
        doc_words = sparse.csr_matrix((np.ones(len(words.codes)), words.codes, indptr),
                                      shape=(n_docs, n_words))
        tf = _product(doc_words, self._word_grams(words))  # n-gram counts per document
        data = tf.data
        if self.sublinear:
            np.log(data, out=data)
            data += 1.0
        data *= self.idf[tf.indices]
        lengths_of_rows = np.diff(tf.indptr)
        squares = np.zeros(n_docs)
        filled = lengths_of_rows > 0
        squares[filled] = np.add.reduceat(data * data, tf.indptr[:-1][filled])
        norms = np.sqrt(squares)
        norms[norms == 0] = 1.0
        return tf, norms

    @property
    def width(self) -> int:
        return len(self.vocabulary)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "vocabulary": _lines(self.vocabulary), "idf": self.idf,
                "ngram_range": list(self.ngram_range), "sublinear_tf": self.sublinear,
                "weight": self.weight}


def _product(a: sparse.csr_matrix, b: sparse.csr_matrix) -> sparse.csr_matrix:
    """``a @ b`` for CSR matrices, the same entries in the same order, without scipy's first
    pass over the product (it counts the result's entries to size it; a fifth of the char
    block's time): the number of products bounds them, and memory never touched costs
    nothing. Falls back to ``@`` if scipy's routine is not there as expected."""
    bound = int(np.diff(b.indptr)[a.indices].sum())
    if _csr_matmat is None or bound >= 2**31 - 1:
        return (a @ b).tocsr()
    small = np.int32
    indptr = np.empty(a.shape[0] + 1, dtype=small)
    indices = np.empty(bound, dtype=small)
    data = np.empty(bound, dtype=np.result_type(a.dtype, b.dtype))
    try:
        _csr_matmat(a.shape[0], b.shape[1], a.indptr.astype(small), a.indices.astype(small),
                    a.data, b.indptr.astype(small), b.indices.astype(small), b.data,
                    indptr, indices, data)
    except (TypeError, ValueError):  # another scipy's signature
        return (a @ b).tocsr()
    nnz = int(indptr[-1])
    return sparse.csr_matrix((data[:nnz], indices[:nnz], indptr),
                             shape=(a.shape[0], b.shape[1]))


try:  # the routine behind scipy's sparse product
    from scipy.sparse._sparsetools import csr_matmat as _csr_matmat
except ImportError:  # pragma: no cover - a scipy without it
    _csr_matmat = None


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


class TermBlock:
    """Per category, log(1 + occurrences) of its indicative terms (the taxonomy file's
    ``terms``), matched as token sequences with the word block's tokenizer."""

    kind = "terms"

    def __init__(self, terms: list[list[str]], token_pattern: str, weight: float = 1.0):
        self.terms = [list(t) for t in terms]
        self.token_pattern, self.weight = token_pattern, float(weight)
        self._lookup: Any = None

    def _build(self) -> None:
        find = re.compile(self.token_pattern).findall
        tokens: dict[str, int] = {}
        sequences = [(category, [tokens.setdefault(t, len(tokens)) for t in find(term.lower())])
                     for category, terms in enumerate(self.terms) for term in terms]
        bits = max(1, len(tokens).bit_length())  # a token id fits in this many bits
        if max((len(ids) for _, ids in sequences), default=0) * bits > 64:
            raise ValueError("a term has too many tokens to be matched")
        by_length: dict[int, set[tuple[int, int]]] = {}
        for category, ids in sequences:
            if ids:
                code = 0
                for i in ids:
                    code = (code << bits) | i
                by_length.setdefault(len(ids), set()).add((code, category))
        # Per length: which distinct code a window's code is, where that code's categories
        # start among them, and how many it has (a term can belong to several).
        tables = {}
        for n, pairs in by_length.items():
            codes = np.array([c for c, _ in sorted(pairs)], dtype=np.uint64)
            distinct, first, count = np.unique(codes, return_index=True, return_counts=True)
            tables[n] = (_Lookup(distinct, np.arange(len(distinct))), first, count,
                         np.array([k for _, k in sorted(pairs)], dtype=np.int64))
        self._lookup = (_Pieces(tokens), tables, bits, _trie(sequences, len(tokens)))

    def transform(self, docs: Docs) -> sparse.csr_matrix:
        if self._lookup is None:
            self._build()
        tokens, tables, bits, trie = self._lookup
        split = docs.tokens
        mapping = tokens.of(split, -1)
        tok = mapping[split.codes] if len(mapping) else np.zeros(0, dtype=np.int64)
        module = kernels.compiled()
        if module is not None:
            edges, size, node_starts, node_categories = trie
            counted = kernels.term_counts(module, tok, split.lengths, edges.pairs, edges.bits,
                                          size, node_starts, node_categories, len(self.terms))
            return sparse.csr_matrix(np.log1p(counted) * self.weight)
        owner = split.owners()
        n_docs, width = len(docs), len(self.terms)
        # A term can only start where a token of some term stands (few places), and a term
        # of n tokens only where one of n - 1 tokens could: windows grow from those starts,
        # dropping the ones that reach a token of no term or the next document.
        start = np.flatnonzero(tok >= 0)
        code = tok[start].astype(np.uint64)
        keys: list[np.ndarray] = []
        for n in range(1, max(tables, default=0) + 1):
            if n > 1:
                end = start + n - 1
                inside = end < len(tok)
                start, code, end = start[inside], code[inside], end[inside]
                grows = (tok[end] >= 0) & (owner[end] == owner[start])
                start, code, end = start[grows], code[grows], end[grows]
                code = (code << np.uint64(bits)) | tok[end].astype(np.uint64)
            if n not in tables or not len(start):
                continue
            lookup, first, count, categories = tables[n]
            found = lookup.get(code)
            known = found >= 0
            lo = np.where(known, first[found], 0)
            hits = np.where(known, count[found], 0)
            matched = np.repeat(np.arange(len(code)), hits)
            positions = np.repeat(lo, hits) + (np.arange(hits.sum()) - np.repeat(
                np.cumsum(hits) - hits, hits))
            keys.append(owner[start][matched] * width + categories[positions])
        flat = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
        counts = np.bincount(flat, minlength=n_docs * width).reshape(n_docs, width)
        return sparse.csr_matrix(np.log1p(counts) * self.weight)

    def linear(self, docs: Docs, weights: np.ndarray) -> np.ndarray:
        return np.asarray(self.transform(docs) @ weights)

    @property
    def width(self) -> int:
        return len(self.terms)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "terms": self.terms, "token_pattern": self.token_pattern,
                "weight": self.weight}


def _trie(sequences: list[tuple[int, list[int]]], size: int
          ) -> tuple[_Lookup, int, np.ndarray, np.ndarray]:
    """The terms (category, token ids) as a trie for the compiled term loop: its edges as a
    hash table from node * size + token to the child node (node 0 is the root), and each
    node's categories (the terms ending there, once per category) as CSR arrays."""
    size = max(size, 1)
    children: dict[tuple[int, int], int] = {}
    ending: list[set[int]] = [set()]
    for category, ids in sequences:
        if not ids:
            continue
        node = 0
        for token in ids:
            node = children.setdefault((node, token), len(ending))
            if node == len(ending):
                ending.append(set())
        ending[node].add(category)
    keys = np.array([node * size + token for node, token in children], dtype=np.uint64)
    edges = _Lookup(keys, np.fromiter(children.values(), dtype=np.int64, count=len(children)))
    node_starts = np.zeros(len(ending) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in ending], out=node_starts[1:])
    node_categories = np.array([c for e in ending for c in sorted(e)], dtype=np.int64)
    return edges, size, node_starts, node_categories


Block = WordBlock | CharBlock | TermBlock


def _lines(strings: list[str]) -> str | list[str]:
    """A vocabulary as one string, an entry per line, when no entry holds a line break: a
    model file then loads it in one step, where a list is unpickled string by string."""
    return strings if any("\n" in s for s in strings) else "\n".join(strings)


def _unlines(stored: str | list[str]) -> list[str]:
    if isinstance(stored, str):
        return stored.split("\n") if stored else []
    return list(stored)


def block_from_dict(data: dict[str, Any]) -> Block:
    """The inverse of each block's ``to_dict``."""
    kind = data["kind"]
    if kind == "word":
        return WordBlock(_unlines(data["vocabulary"]), data["idf"], data["stop_words"],
                         tuple(data["ngram_range"]), data["sublinear_tf"], data["weight"])
    if kind == "char_wb":
        return CharBlock(_unlines(data["vocabulary"]), data["idf"], tuple(data["ngram_range"]),
                         data["sublinear_tf"], data["weight"])
    if kind == "terms":
        return TermBlock(data["terms"], data["token_pattern"], data["weight"])
    raise ValueError(f"unknown feature block {kind!r}")
