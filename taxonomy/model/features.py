"""The model's feature blocks, fitted by scikit-learn and scored with numpy alone.

- ``WordBlock``: TF-IDF of word uni- and bi-grams (stop words removed);
- ``CharBlock``: TF-IDF of character 3-5-grams inside word boundaries (``char_wb``), which
  sees word forms the seeds never used (``checkpoint``/``checkpointing``/``recompute``);
- ``TermBlock``: per category, how often the taxonomy file's indicative terms occur.

Each block's ``transform`` works on a whole chunk of documents at once with numpy, and equals
scikit-learn's ``TfidfVectorizer.transform`` for the same vocabulary and idf (tests check
it with hypothesis): tokens are looked up once each, never one n-gram string at a time.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse


@dataclass
class Docs:
    """A chunk of documents as the blocks read it, computed once for all of them.

    ``tokens`` numbers the chunk's distinct word tokens (``uniques``) and gives, flattened over
    the chunk, each token occurrence's number; ``lengths`` says how many occurrences belong to
    each document. Blocks then map the few distinct tokens to their own vocabulary and do the
    rest on integer arrays: no Python work per token occurrence beyond one dictionary lookup.
    """

    lower: list[str]
    tokens: np.ndarray
    lengths: np.ndarray
    uniques: list[str]

    def __len__(self) -> int:
        return len(self.lower)

    def owners(self) -> np.ndarray:
        """The document of each token occurrence."""
        return np.repeat(np.arange(len(self.lengths), dtype=np.int64), self.lengths)


def tokenized(docs: Sequence[str], token_pattern: str) -> Docs:
    """Lower-cased documents and their tokens (``token_pattern``), shared by the blocks."""
    lower = [d.lower() for d in docs]
    find = re.compile(token_pattern).findall
    found = [find(d) for d in lower]
    local: dict[str, int] = {}
    slot = local.setdefault
    codes = [slot(t, len(local)) for t in itertools.chain.from_iterable(found)]
    return Docs(lower, np.asarray(codes, dtype=np.int64),
                np.fromiter(map(len, found), dtype=np.int64, count=len(found)), list(local))


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
        tokens: dict[str, int] = {}
        unigram_of: dict[int, int] = {}
        bigram_of: dict[tuple[int, int], int] = {}
        for j, term in enumerate(self.vocabulary):
            ids = [tokens.setdefault(t, len(tokens)) for t in term.split(" ")]
            if len(ids) == 1:
                unigram_of[ids[0]] = j
            else:
                bigram_of[(ids[0], ids[1])] = j
        size = len(tokens) + 1  # the last id: a token outside the vocabulary
        unigram = np.full(size, -1, dtype=np.int64)
        for t, j in unigram_of.items():
            unigram[t] = j
        codes = np.array([a * size + b for a, b in bigram_of], dtype=np.int64)
        order = np.argsort(codes)
        features = np.array(list(bigram_of.values()), dtype=np.int64)[order]
        self._lookup = (tokens, frozenset(self.stop_words), size, unigram, codes[order], features)

    def transform(self, docs: Docs) -> sparse.csr_matrix:
        if self._lookup is None:
            self._build()
        tokens, stop, size, unigram, bigram_codes, bigram_features = self._lookup
        unknown = size - 1
        # Each distinct token of the chunk: its id here, -1 for a stop word (dropped before
        # pairs are formed, as scikit-learn does).
        mapping = np.array([-1 if t in stop else tokens.get(t, unknown) for t in docs.uniques],
                           dtype=np.int64)
        tok = mapping[docs.tokens] if len(mapping) else np.zeros(0, dtype=np.int64)
        kept = tok >= 0
        tok, owner = tok[kept], docs.owners()[kept]
        n_docs = len(docs)
        rows, cols = [], []
        if self.ngram_range[0] == 1:
            feature = unigram[tok]
            keep = feature >= 0
            rows.append(owner[keep])
            cols.append(feature[keep])
        if self.ngram_range[1] == 2 and len(tok) > 1 and len(bigram_codes):
            first, second = tok[:-1], tok[1:]
            valid = (owner[:-1] == owner[1:]) & (first != unknown) & (second != unknown)
            code = first[valid] * size + second[valid]
            at = np.minimum(np.searchsorted(bigram_codes, code), len(bigram_codes) - 1)
            hit = bigram_codes[at] == code
            rows.append(owner[:-1][valid][hit])
            cols.append(bigram_features[at[hit]])
        return _counted(rows, cols, n_docs, len(self.vocabulary), self.idf,
                        self.sublinear) * self.weight

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "vocabulary": self.vocabulary, "idf": self.idf,
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

    Each distinct word's n-grams are looked up once and kept (a word cache), so a chunk costs
    one dictionary lookup per word and a sparse product of a document-word count matrix with
    a word-n-gram matrix.
    """

    kind = "char_wb"
    _CACHE_WORDS = 500_000

    def __init__(self, vocabulary: list[str], idf: np.ndarray, ngram_range: tuple[int, int],
                 sublinear_tf: bool, weight: float = 1.0):
        self.vocabulary, self.idf = list(vocabulary), np.asarray(idf, dtype=np.float64)
        self.ngram_range, self.sublinear = tuple(ngram_range), bool(sublinear_tf)
        self.weight = float(weight)
        self._index: dict[str, int] | None = None
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _grams(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """The vocabulary ids of a word's n-grams and how often each occurs (scikit-learn's
        char_wb rule: the word padded with one space each side; a short word counted once)."""
        found = self._cache.get(word)
        if found is not None:
            return found
        assert self._index is not None
        w = f" {word} "
        ids = []
        for n in range(self.ngram_range[0], self.ngram_range[1] + 1):
            last = max(1, len(w) - n + 1)
            ids += [j for i in range(last) if (j := self._index.get(w[i:i + n])) is not None]
            if len(w) <= n:
                break
        grams, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
        if len(self._cache) >= self._CACHE_WORDS:
            self._cache.clear()
        self._cache[word] = found = (grams, counts)
        return found

    def transform(self, docs: Docs) -> sparse.csr_matrix:
        if self._index is None:
            self._index = {g: j for j, g in enumerate(self.vocabulary)}
        local: dict[str, int] = {}
        slot = local.setdefault
        word_ids: list[int] = []
        lengths = []
        for text in docs.lower:
            words = text.split()
            word_ids.extend([slot(w, len(local)) for w in words])
            lengths.append(len(words))
        n_docs, n_words = len(lengths), len(local)
        # One entry per word occurrence: the product below sums repeated words.
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        doc_words = sparse.csr_matrix((np.ones(len(word_ids)), np.asarray(word_ids, dtype=np.int64),
                                       indptr), shape=(n_docs, n_words))
        grams = [self._grams(w) for w in local]
        sizes = np.array([len(g[0]) for g in grams], dtype=np.int64)
        indptr = np.zeros(n_words + 1, dtype=np.int64)
        np.cumsum(sizes, out=indptr[1:])
        word_grams = sparse.csr_matrix(
            (np.concatenate([g[1] for g in grams]).astype(np.float64) if grams else [],
             np.concatenate([g[0] for g in grams]) if grams else np.zeros(0, dtype=np.int64),
             indptr), shape=(n_words, len(self.vocabulary)))
        tf = (doc_words @ word_grams).tocsr()  # counts of each n-gram in each document
        data = tf.data
        if self.sublinear:
            data = np.log(data) + 1.0
        data *= self.idf[tf.indices]
        lengths_of_rows = np.diff(tf.indptr)
        squares = np.zeros(n_docs)
        filled = lengths_of_rows > 0
        squares[filled] = np.add.reduceat(data ** 2, tf.indptr[:-1][filled])
        norms = np.sqrt(squares)
        norms[norms == 0] = 1.0
        data /= np.repeat(norms, lengths_of_rows)
        data *= self.weight
        return sparse.csr_matrix((data, tf.indices, tf.indptr), shape=tf.shape)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "vocabulary": self.vocabulary, "idf": self.idf,
                "ngram_range": list(self.ngram_range), "sublinear_tf": self.sublinear,
                "weight": self.weight}


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
        tables = {n: (np.array([c for c, _ in sorted(pairs)], dtype=np.uint64),
                      np.array([k for _, k in sorted(pairs)], dtype=np.int64))
                  for n, pairs in by_length.items()}
        self._lookup = (tokens, tables, bits)

    def transform(self, docs: Docs) -> sparse.csr_matrix:
        if self._lookup is None:
            self._build()
        tokens, tables, bits = self._lookup
        mapping = np.array([tokens.get(t, -1) for t in docs.uniques], dtype=np.int64)
        tok = mapping[docs.tokens] if len(mapping) else np.zeros(0, dtype=np.int64)
        owner = docs.owners()
        n_docs, width = len(docs), len(self.terms)
        keys: list[np.ndarray] = []
        for n, (codes, categories) in tables.items():
            if len(tok) < n:
                continue
            windows = len(tok) - n + 1
            code = np.zeros(windows, dtype=np.uint64)
            valid = owner[:windows] == owner[n - 1:]
            for k in range(n):
                part = tok[k:k + windows]
                valid &= part >= 0
                code = (code << np.uint64(bits)) | np.maximum(part, 0).astype(np.uint64)
            code, at_doc = code[valid], owner[:windows][valid]
            lo = np.searchsorted(codes, code, side="left")
            hi = np.searchsorted(codes, code, side="right")
            hits = hi - lo
            matched = np.repeat(np.arange(len(code)), hits)
            positions = np.repeat(lo, hits) + (np.arange(hits.sum()) - np.repeat(
                np.cumsum(hits) - hits, hits))
            keys.append(at_doc[matched] * width + categories[positions])
        flat = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
        counts = np.bincount(flat, minlength=n_docs * width).reshape(n_docs, width)
        return sparse.csr_matrix(np.log1p(counts) * self.weight)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "terms": self.terms, "token_pattern": self.token_pattern,
                "weight": self.weight}


Block = WordBlock | CharBlock | TermBlock


def block_from_dict(data: dict[str, Any]) -> Block:
    """The inverse of each block's ``to_dict``."""
    kind = data["kind"]
    if kind == "word":
        return WordBlock(data["vocabulary"], data["idf"], data["stop_words"],
                         tuple(data["ngram_range"]), data["sublinear_tf"], data["weight"])
    if kind == "char_wb":
        return CharBlock(data["vocabulary"], data["idf"], tuple(data["ngram_range"]),
                         data["sublinear_tf"], data["weight"])
    if kind == "terms":
        return TermBlock(data["terms"], data["token_pattern"], data["weight"])
    raise ValueError(f"unknown feature block {kind!r}")
