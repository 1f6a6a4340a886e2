"""The feature blocks' compiled loops (in ``taxonomy/_speedups.c``), called with numpy arrays.

The character n-gram block's share of each logit is a sum over each document's distinct
n-grams: numpy reaches it only through a sparse product and several passes over arrays far
larger than the processor's caches, where the C loop gathers one document's n-gram counts and
adds each n-gram's weights while they are in cache. The word block's loop counts one
document's uni- and bigrams the same way, and the splitter numbers a chunk's distinct words
in one pass. Where the build has no C loops (see :mod:`taxonomy._compiled`),
:mod:`.features` does the same with numpy, scipy and Arrow; both agree within float rounding
(tests check it).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .. import _compiled

# Counts below this are turned into 1 + log(count) by a table lookup.
_LOG_TABLE = 256


def compiled() -> Any:
    """The compiled module, or None (see :func:`taxonomy._compiled.module`)."""
    return _compiled.module()


def starts_of(lengths: np.ndarray) -> np.ndarray:
    """Where each of consecutive runs of ``lengths`` items starts, then the total (int64, one
    longer than ``lengths``): the CSR-style starts the loops take."""
    starts = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    return starts


def _aligned(shape: tuple[int, int], alignment: int = 64) -> np.ndarray:
    """An uninitialized float64 array whose data starts on an ``alignment``-byte boundary."""
    size = shape[0] * shape[1]
    raw = np.empty(size + alignment // 8, dtype=np.float64)
    skip = (-raw.ctypes.data % alignment) // 8
    return raw[skip:skip + size].reshape(shape)


@functools.cache
def log_table() -> np.ndarray:
    """1 + log(c) for c = 0, 1, ... (the first entry unused)."""
    table = np.zeros(_LOG_TABLE)
    np.log(np.arange(1, _LOG_TABLE, dtype=np.float64), out=table[1:])
    table[1:] += 1.0
    return table


def char_linear(module: Any, doc_starts: np.ndarray, word_codes: np.ndarray,
                gram_starts: np.ndarray, gram_ids: np.ndarray, gram_counts: np.ndarray,
                idf: np.ndarray, weights: np.ndarray, sublinear: bool, weight: float
                ) -> np.ndarray:
    """Each document's L2-normalized TF-IDF n-gram vector times ``weights`` (n-grams x
    columns), times ``weight``: documents x columns.

    Document ``d`` is the words ``word_codes[doc_starts[d]:doc_starts[d + 1]]``; word ``w``
    holds the n-grams ``gram_ids[gram_starts[w]:gram_starts[w + 1]]``, each ``gram_counts``
    times (a CSR matrix of words x n-grams). With ``sublinear`` a count c weighs 1 + log(c).
    """
    weights = np.asarray(weights, dtype=np.float64)
    width = weights.shape[1]
    # Per n-gram, its idf times each weight column, then its idf squared, in rows padded to
    # whole 64-byte cache lines (and aligned to them): one line fetched per n-gram.
    columns = -(-(width + 1) // 8) * 8
    table = _aligned((len(idf), columns))
    idf = np.asarray(idf, dtype=np.float64)
    np.multiply(idf[:, None], weights, out=table[:, :width])
    np.square(idf, out=table[:, width])
    table[:, width + 1:] = 0.0
    out = np.empty((len(doc_starts) - 1, width))
    module.char_linear(
        np.ascontiguousarray(doc_starts, dtype=np.int64),
        np.ascontiguousarray(word_codes, dtype=np.int64),
        np.ascontiguousarray(gram_starts, dtype=np.int64),
        np.ascontiguousarray(gram_ids, dtype=np.int32),
        np.ascontiguousarray(gram_counts, dtype=np.float64),
        table, width, columns, bool(sublinear), log_table(), float(weight), out)
    return out


def split_pieces(module: Any, data: bytes, starts: np.ndarray, ends: np.ndarray,
                 shortest: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Documents ``data[starts[d]:ends[d]]`` split at spaces, keeping pieces of at least
    ``shortest`` bytes: each piece's number among the distinct pieces (in order of first
    occurrence), each document's count of pieces, and the distinct pieces as Arrow's string
    layout (offsets, then their bytes one after the other)."""
    n_docs = len(starts)
    spans = np.asarray(ends, dtype=np.int64) - np.asarray(starts, dtype=np.int64)
    # A piece takes at least one byte and one separator, bar each document's last; distinct
    # pieces take at most the documents' bytes (the loop checks both).
    capacity = int((np.maximum(spans, 0) // 2 + 1).sum())
    codes = np.empty(capacity, dtype=np.int64)
    lengths = np.empty(n_docs, dtype=np.int64)
    offsets = np.empty(capacity + 1, dtype=np.int64)
    chars = np.empty(max(int(np.maximum(spans, 0).sum()), 1), dtype=np.uint8)
    pieces, distinct = module.split_pieces(
        data, np.ascontiguousarray(starts, dtype=np.int64),
        np.ascontiguousarray(ends, dtype=np.int64), int(shortest), codes, lengths, offsets,
        chars)
    return codes[:pieces], lengths, offsets[:distinct + 1], chars[:offsets[distinct]]


def word_features(module: Any, tokens: np.ndarray, lengths: np.ndarray, unigram: np.ndarray,
                  pairs: np.ndarray, bits: int, idf: np.ndarray,
                  sublinear: bool, ngram_range: tuple[int, ...]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The word block's L2-normalized TF-IDF rows as CSR arrays (indptr, indices, data).

    ``tokens`` holds each document's token ids in turn (``lengths`` per document): -1 for a
    stop word, ``len(unigram) - 1`` for a token outside the vocabulary. ``unigram`` maps a
    token to its feature (-1: none); ``pairs`` is the bigram hash table (``_Lookup.pairs``,
    2**``bits`` slots), keyed by first * len(unigram) + second.
    """
    starts = starts_of(lengths)
    capacity = 2 * len(tokens)  # a unigram and a bigram per token at most
    indptr = np.empty(len(lengths) + 1, dtype=np.int64)
    indices = np.empty(capacity, dtype=np.int32)
    data = np.empty(capacity, dtype=np.float64)
    entries = module.word_features(
        np.ascontiguousarray(tokens, dtype=np.int64), starts,
        np.ascontiguousarray(unigram, dtype=np.int64), np.ascontiguousarray(pairs, np.uint64),
        int(bits), len(unigram),
        np.ascontiguousarray(idf, dtype=np.float64), bool(sublinear), log_table(),
        ngram_range[0] == 1, ngram_range[1] == 2, indptr, indices, data)
    return indptr, indices[:entries], data[:entries]


def word_grams(module: Any, data: np.ndarray, offsets: np.ndarray, pairs: np.ndarray,
               bits: int, ngram_range: tuple[int, ...]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The vocabulary n-grams of ASCII words (word ``w`` is ``data[offsets[w]:offsets[w +
    1]]``) as a CSR matrix of words x n-grams: indptr, indices (sorted) and counts. The
    vocabulary is the hash table of packed n-grams (``_Lookup.pairs``, 2**``bits`` slots; see
    ``CharBlock._packed_vocabulary``)."""
    shortest, longest = ngram_range
    sizes = np.diff(offsets) + 2
    # A word padded to length L has L - n + 1 n-grams of each length n up to L.
    capacity = int(sum(np.maximum(sizes - n + 1, 0).sum() for n in range(shortest, longest + 1)))
    indptr = np.empty(len(offsets), dtype=np.int64)
    indices = np.empty(capacity, dtype=np.int32)
    counts = np.empty(capacity, dtype=np.float64)
    entries = module.word_grams(
        np.ascontiguousarray(data, dtype=np.uint8), np.ascontiguousarray(offsets, np.int64),
        np.ascontiguousarray(pairs, dtype=np.uint64), int(bits), int(shortest), int(longest),
        indptr, indices, counts)
    return indptr, indices[:entries], counts[:entries]


def term_counts(module: Any, tokens: np.ndarray, lengths: np.ndarray, pairs: np.ndarray,
                bits: int, size: int, node_starts: np.ndarray,
                node_categories: np.ndarray, width: int) -> np.ndarray:
    """How often each of ``width`` categories' terms occur in each document (documents x
    categories): ``tokens`` holds each document's token ids in turn (``lengths`` per
    document; -1 for a token of no term), and the terms are a trie whose edges are the hash
    table ``pairs`` (``_Lookup.pairs``: node * ``size`` + token -> child node), node k
    ending the terms of categories ``node_categories[node_starts[k]:node_starts[k + 1]]``."""
    starts = starts_of(lengths)
    out = np.zeros((len(lengths), width))
    module.term_counts(
        np.ascontiguousarray(tokens, dtype=np.int64), starts,
        np.ascontiguousarray(pairs, dtype=np.uint64), int(bits), int(size),
        np.ascontiguousarray(node_starts, dtype=np.int64),
        np.ascontiguousarray(node_categories, dtype=np.int64), int(width), out)
    return out


def expand_pieces(module: Any, items: np.ndarray, lengths: np.ndarray, starts: np.ndarray,
                  pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each document's items (``lengths`` per document) replaced by their pieces, item ``k``
    standing for ``pieces[starts[k]:starts[k + 1]]``: the pieces in turn, and how many each
    document has."""
    items = np.ascontiguousarray(items, dtype=np.int64)
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    sizes = np.diff(starts)
    capacity = int(sizes.take(items, mode="clip").sum()) if len(sizes) else 0  # C checks items
    out = np.empty(capacity, dtype=np.int64)
    out_lengths = np.empty(len(lengths), dtype=np.int64)
    written = module.expand_pieces(items, np.ascontiguousarray(lengths, dtype=np.int64),
                                   starts, np.ascontiguousarray(pieces, dtype=np.int64), out,
                                   out_lengths)
    return out[:written], out_lengths
