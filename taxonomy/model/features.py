"""The model's feature blocks (word n-grams, character n-grams, taxonomy terms), scored a chunk
at a time with numpy, scipy and Arrow; each equals ``TfidfVectorizer.transform``."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from scipy import sparse

# The token pattern scikit-learn uses by default, which the Arrow split reproduces.
WORD_TOKENS = r"(?u)\b\w\w+\b"
_SPACE = ord(" ")
# The longest character n-gram packed into one integer, beside its length.
_PACKED_BYTES = 7
# ``bytes.translate`` tables for ASCII text. Word characters (what ``\w`` matches there) stay,
# the rest become spaces:
_WORD_BYTES = bytes(c if c < 128 and (chr(c).isalnum() or chr(c) == "_") else _SPACE
                    for c in range(256))
# White space (where ``str.split()`` splits) becomes a plain space, capitals lower case:
_WHITE_LOWER_BYTES = bytes(c if c >= 128 else _SPACE if chr(c).isspace() else ord(chr(c).lower())
                           for c in range(256))


@dataclass
class Split:
    """Pieces of a chunk's documents: each occurrence's number among the distinct pieces
    (``dictionary``, an Arrow array as :func:`_arrow_strings` makes), and how many each
    document has."""

    codes: np.ndarray
    lengths: np.ndarray
    dictionary: Any


@dataclass
class Docs:
    """A chunk of lower-cased documents split once for every block: ``tokens`` by the token
    pattern (word and term blocks), ``words`` at white space (the character block)."""

    tokens: Split
    words: Split

    def __len__(self) -> int:
        return len(self.tokens.lengths)


def tokenized(docs: Sequence[str] | Any, token_pattern: str, arrow: bool = True) -> Docs:
    """Lower-cased documents (strings or an Arrow string array) split into tokens and words, by
    Python for another token pattern, a lone surrogate (JSON can carry one) or no ``arrow``."""
    import pyarrow as pa

    find = re.compile(token_pattern).findall
    columnar = hasattr(docs, "to_pylist")
    if arrow and token_pattern == WORD_TOKENS:
        texts: Any = docs if columnar else _arrow_strings(docs)
        if not pa.types.is_large_binary(texts.type):  # else a lone surrogate is among them
            words = _arrow_split(texts, _WHITE_LOWER_BYTES, 1, lambda t: t.lower().split())
            return Docs(_tokens_of_words(words, find), words)
    strings: Sequence[str] = cast(Any, docs).to_pylist() if columnar else docs
    lower = [d.lower() for d in strings]
    return Docs(_python_split(lower, find), _python_split(lower, str.split))


def _tokens_of_words(words: Split, find: Any) -> Split:
    """The tokens of documents from their words: no token spans white space, so each
    distinct word is tokenized once and the documents' tokens are their words' in turn."""
    each = _arrow_split(words.dictionary, _WORD_BYTES, 2, find)  # a distinct word per row
    first = np.cumsum(each.lengths) - each.lengths
    sizes = each.lengths[words.codes]
    at = ranges(first[words.codes], sizes)
    lengths = np.bincount(owners(words.lengths), weights=sizes, minlength=len(words.lengths))
    return Split(each.codes[at], lengths.astype(np.int64), each.dictionary)


def _python_split(lower: Sequence[str], split: Any) -> Split:
    found = [split(d) for d in lower]
    return _numbered(_arrow_strings(list(itertools.chain.from_iterable(found))),
                     owners([len(f) for f in found]), len(found), 0)


def _ascii_part(texts: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which entries of an Arrow string array are ASCII, and those entries' bytes (uint8)
    and offsets (int64, from 0), read from the array's buffers without Python strings."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # (Nulls are ASCII; filling them with a Python scalar would import pandas, see _arrow.)
    plain = _numpy(pc.or_kleene(pc.string_is_ascii(texts), pc.is_null(texts))
                   .cast(pa.uint8())) > 0
    part = texts.take(_arrow(np.flatnonzero(plain))).cast(pa.large_string())
    if not len(part):
        return plain, np.zeros(0, dtype=np.uint8), np.zeros(1, dtype=np.int64)
    offsets = np.frombuffer(part.buffers()[1], dtype=np.int64)[part.offset:
                                                                part.offset + len(part) + 1]
    data = np.frombuffer(part.buffers()[2], dtype=np.uint8)
    return plain, data[offsets[0]:offsets[-1]], offsets - offsets[0]


def _arrow_split(texts: Any, table: bytes, shortest: int, split: Any) -> Split:
    """Pieces of at least ``shortest`` characters of an Arrow array of texts, as ``split``
    gives them: ASCII texts translated with ``table`` and split at spaces by Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(texts)
    plain, data, offsets = _ascii_part(texts)
    translated = data.tobytes().translate(table)
    fast = np.flatnonzero(plain)
    pieces = pc.split_pattern(pa.LargeStringArray.from_buffers(
        len(fast), pa.py_buffer(offsets), pa.py_buffer(translated)), " ")
    flat = pieces.flatten()
    owner = fast[_numpy(pieces.value_parent_indices())]
    slow = np.flatnonzero(~plain)
    if len(slow):
        found = [split(t) for t in texts.take(_arrow(slow)).to_pylist()]
        flat = pa.concat_arrays([flat.cast(pa.large_string()),
                                 _arrow_strings(list(itertools.chain.from_iterable(found)))])
        owner = np.concatenate([owner, np.repeat(slow, [len(f) for f in found])])
    # Arrow's split leaves empty and one-letter pieces the pattern would not match (ASCII:
    # a letter a byte).
    return _numbered(flat, owner, n, shortest)


def _numbered(pieces: Any, owner: np.ndarray, n: int, shortest: int) -> Split:
    """The Split of ``n`` documents from their pieces (an Arrow array) and the document of
    each (``owner``), numbered by Arrow, without the pieces of fewer than ``shortest``
    bytes."""
    import pyarrow.compute as pc

    encoded = pieces.dictionary_encode()
    codes = _numpy(encoded.indices).astype(np.int64)
    short = _numpy(pc.binary_length(encoded.dictionary)) < shortest
    if short.any():
        kept = ~short[codes]
        codes, owner = codes[kept], owner[kept]
    if np.any(owner[1:] < owner[:-1]):  # back in document order
        order = np.argsort(owner, kind="stable")
        codes, owner = codes[order], owner[order]
    return Split(codes, np.bincount(owner, minlength=n), encoded.dictionary)


def _arrow(values: np.ndarray) -> Any:
    """A numpy array of numbers as an Arrow array sharing its memory; ``pa.array`` would
    import pandas first (0.25-0.4 s more for a daily listing)."""
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values),
                                 [None, pa.py_buffer(values)])


def _numpy(array: Any) -> np.ndarray:
    """An Arrow array of numbers without nulls as numpy, read from its buffers without
    importing pandas (see :func:`_arrow`)."""
    data, start, end = array.buffers()[1], array.offset, array.offset + len(array)
    dtype = np.dtype(array.type.to_pandas_dtype())
    return np.frombuffer(data, dtype=dtype)[start:end] if len(array) else np.zeros(0, dtype)


def _arrow_strings(strings: Sequence[str]) -> Any:
    """Python strings as an Arrow array, from their UTF-8 bytes (not by ``pa.array``: see
    :func:`_arrow`); a binary array of "surrogatepass" bytes if a lone surrogate (JSON can
    carry one), which Arrow strings cannot hold, is among them."""
    import pyarrow as pa

    try:
        encoded, kind = [t.encode("utf-8") for t in strings], pa.large_string()
    except UnicodeEncodeError:
        encoded, kind = [t.encode("utf-8", "surrogatepass") for t in strings], pa.large_binary()
    offsets = np.concatenate([[0], np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64,
                                                         count=len(encoded)))])
    return pa.Array.from_buffers(kind, len(encoded), [None, pa.py_buffer(offsets),
                                                      pa.py_buffer(b"".join(encoded))])


def _python_strings(array: Any) -> list[str]:
    """The inverse of :func:`_arrow_strings`."""
    return [b.decode("utf-8", "surrogatepass") for b in _key(array).to_pylist()]


def _key(values: Any) -> Any:
    """Keys ``index_in`` compares: Arrow strings as binary (sharing their memory), which lone
    surrogates' bytes are too, numpy integers as Arrow uint64."""
    import pyarrow as pa

    if isinstance(values, pa.Array):
        return values.cast(pa.large_binary())
    return _arrow(values.astype(np.uint64))


class _Table:
    """A read-only map from keys (numpy integers or Arrow strings) to int64 values (by default
    their positions; ``default`` for any other key), queried an array at a time by Arrow's
    ``index_in``: 2-3 times faster than a sorted search here. A repeated key has its first
    value."""

    def __init__(self, keys: Any, values: np.ndarray | None = None, default: int = -1):
        self.keys = _key(keys)
        values = np.arange(len(self.keys)) if values is None else values
        self.values = np.append(np.asarray(values, dtype=np.int64), default)

    def get(self, queries: Any) -> np.ndarray:
        """The value of each query."""
        import pyarrow.compute as pc

        found = pc.index_in(_key(queries), value_set=self.keys)
        # The default as an array: a Python scalar would import pandas (see _arrow).
        default = _arrow(np.full(len(found), len(self.keys), dtype=np.int32))
        return self.values[_numpy(pc.coalesce(found, default))]

    def of(self, split: Split) -> np.ndarray:
        """The value of each piece occurrence of ``split``, each distinct piece looked up
        once."""
        return self.get(split.dictionary)[split.codes]


class _Block:
    """What every block offers: its features' count (``width``) and their product with
    weights (``linear``), by default through the feature matrix."""

    vocabulary: list[str]

    def transform(self, docs: Docs) -> sparse.csr_matrix:
        raise NotImplementedError

    def linear(self, docs: Docs, weights: np.ndarray) -> np.ndarray:
        return np.asarray(self.transform(docs) @ weights)

    @property
    def width(self) -> int:
        return len(self.vocabulary)


class WordBlock(_Block):
    """Word uni- and bi-grams, as ``TfidfVectorizer(analyzer='word', lowercase=True)``."""

    kind = "word"

    def __init__(self, vocabulary: list[str], idf: np.ndarray, stop_words: list[str],
                 ngram_range: tuple[int, int], sublinear_tf: bool, weight: float = 1.0):
        self.vocabulary, self.idf = list(vocabulary), np.asarray(idf, dtype=np.float64)
        self.stop_words, self.ngram_range = list(stop_words), tuple(ngram_range)
        self.sublinear, self.weight = bool(sublinear_tf), float(weight)
        if not 1 <= self.ngram_range[0] <= self.ngram_range[1] <= 2:
            raise ValueError("the word block handles uni- and bi-grams only")

    @functools.cached_property
    def _lookup(self) -> tuple[_Table, int, np.ndarray, _Table]:
        import pyarrow as pa
        import pyarrow.compute as pc

        # Every term's tokens (a term is one or two), numbered by first appearance by Arrow:
        # a Python dict of the vocabulary took most of a daily listing's scoring time.
        terms = pc.split_pattern(_arrow_strings(self.vocabulary), " ")
        encoded = terms.flatten().dictionary_encode()
        tokens, ids = encoded.dictionary, _numpy(encoded.indices).astype(np.int64)
        pair = _numpy(pc.list_value_length(terms)) == 2
        start = np.cumsum(pair + 1) - (pair + 1)  # where each term's tokens begin
        size = len(tokens) + 1  # the last id: a token outside the vocabulary
        unigram = np.full(size, -1, dtype=np.int64)
        single, pairs = np.flatnonzero(~pair), np.flatnonzero(pair)
        unigram[ids[start[single]]] = single
        bigrams = _Table(ids[start[pairs]].astype(np.uint64) * np.uint64(size)
                         + ids[start[pairs] + 1].astype(np.uint64), pairs)
        # A token's id; -1 for a stop word (first: even one in the vocabulary), else unknown.
        stops = _key(_arrow_strings(self.stop_words))
        numbered = _Table(pa.concat_arrays([stops, _key(tokens)]),
                          np.append(np.full(len(stops), -1), np.arange(len(tokens))), size - 1)
        return numbered, size, unigram, bigrams

    def transform(self, docs: Docs) -> sparse.csr_matrix:
        tokens, size, unigram, bigrams = self._lookup
        unknown = size - 1
        # Stop words (-1) are dropped before pairs are formed, as scikit-learn does.
        tok = tokens.of(docs.tokens)
        kept = tok >= 0
        tok, owner = tok[kept], owners(docs.tokens.lengths)[kept]
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
        # Count each (document, feature) pair: unique keys come out sorted, i.e. in CSR order.
        width = len(self.vocabulary)
        keys, counts = np.unique(_joined(rows) * width + _joined(cols), return_counts=True)
        doc, feature = np.divmod(keys, width)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(doc, minlength=n_docs))])
        data = counts.astype(np.float64)
        if self.sublinear:
            data = np.log(data) + 1.0
        data *= self.idf[feature]
        norms = np.sqrt(np.bincount(doc, weights=data ** 2, minlength=n_docs))
        norms[norms == 0] = 1.0
        data /= norms[doc]
        return sparse.csr_matrix((data, feature, indptr), shape=(n_docs, width)) * self.weight

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "vocabulary": _lines(self.vocabulary), "idf": self.idf,
                "stop_words": self.stop_words, "ngram_range": list(self.ngram_range),
                "sublinear_tf": self.sublinear, "weight": self.weight}


class CharBlock(_Block):
    """Character n-grams inside word boundaries, as ``TfidfVectorizer(analyzer='char_wb')``:
    the distinct words' n-grams times the document-word counts, ``_ROWS`` documents at a time."""

    kind = "char_wb"
    _ROWS = 1_000

    def __init__(self, vocabulary: list[str], idf: np.ndarray, ngram_range: tuple[int, int],
                 sublinear_tf: bool, weight: float = 1.0):
        self.vocabulary, self.idf = list(vocabulary), np.asarray(idf, dtype=np.float64)
        self.ngram_range, self.sublinear = tuple(ngram_range), bool(sublinear_tf)
        self.weight = float(weight)

    def _python_grams(self, words: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(word, feature id) of every n-gram occurrence of words, by scikit-learn's char_wb
        rule: each word padded with one space each side; a short word counted once."""
        grams: list[str] = []
        counts = np.zeros(len(words), dtype=np.int64)  # each word's n-grams
        for i, word in enumerate(words):
            w, before = f" {word} ", len(grams)
            for n in range(self.ngram_range[0], self.ngram_range[1] + 1):
                grams += [w[k:k + n] for k in range(max(1, len(w) - n + 1))]
                if len(w) <= n:
                    break
            counts[i] = len(grams) - before
        feature = self._strings.get(_arrow_strings(grams))
        hit = feature >= 0
        return owners(counts)[hit], feature[hit]

    @functools.cached_property
    def _strings(self) -> _Table:
        """The feature id of each n-gram of the vocabulary (what ``_python_grams`` looks up)."""
        return _Table(_arrow_strings(self.vocabulary))

    @functools.cached_property
    def _packed(self) -> _Table:
        """The feature id of each ASCII n-gram of the vocabulary by its packed integer: the
        length, then each byte (at most ``_PACKED_BYTES``), as ``_ascii_grams`` packs them."""
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
        return _Table(codes, ids)

    def _ascii_grams(self, data: np.ndarray, offsets: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        """(word, feature id) of every n-gram occurrence of ASCII words (their bytes one after
        the other, and where each starts); too short words get none (see ``_word_grams``)."""
        count_words = len(offsets) - 1
        sizes = np.diff(offsets)
        padded = sizes + 2
        # The words padded with a space each side: word i's bytes move 2 i + 1 places on.
        starts = offsets[:-1] + 2 * np.arange(count_words)
        spaced = np.full(int(padded.sum()), _SPACE, dtype=np.uint64)
        spaced[ranges(starts + 1, sizes)] = data
        rows, cols = [], []
        for n in range(self.ngram_range[0], self.ngram_range[1] + 1):
            # A word padded to length L has max(0, L - n + 1) n-grams, one per offset.
            count = np.maximum(padded - n + 1, 0)
            position = ranges(starts, count)
            code = np.full(len(position), n, dtype=np.uint64)
            for k in range(n):
                code = (code << np.uint64(8)) | spaced[position + k]
            feature = self._packed.get(code)
            hit = feature >= 0
            rows.append(owners(count)[hit])
            cols.append(feature[hit])
        return _joined(rows), _joined(cols)

    def _word_grams(self, split: Split) -> sparse.csr_matrix:
        """Counts of each vocabulary n-gram in each distinct word (words x vocabulary)."""
        import pyarrow as pa

        dictionary = split.dictionary
        if self.ngram_range[1] <= _PACKED_BYTES and not pa.types.is_large_binary(dictionary.type):
            plain, data, offsets = _ascii_part(dictionary)
        else:  # n-grams too long to pack, or a lone surrogate (see _arrow_strings)
            plain = np.zeros(len(dictionary), dtype=bool)
        fast = np.flatnonzero(plain)
        # In Python: non-ASCII words, and words too short for any n-gram of the range
        # (scikit-learn then counts the padded word once).
        slow = np.flatnonzero(~plain)
        rows, cols = [], []
        if len(fast):
            slow = np.union1d(slow, fast[np.diff(offsets) + 2 < self.ngram_range[0]])
            at, found = self._ascii_grams(data, offsets)
            rows.append(fast[at])
            cols.append(found)
        if len(slow):
            at, found = self._python_grams(_python_strings(dictionary.take(_arrow(slow))))
            rows.append(slow[at])
            cols.append(found)
        r, c = _joined(rows), _joined(cols)
        # Repeated (word, n-gram) entries are summed into counts.
        return sparse.coo_matrix((np.ones(len(r)), (r, c)),
                                 shape=(len(dictionary), len(self.vocabulary))).tocsr()

    def transform(self, docs: Docs) -> sparse.csr_matrix:
        parts = []
        for tfidf, norms in self._unnormalized(docs):
            tfidf.data /= np.repeat(norms, np.diff(tfidf.indptr))
            tfidf.data *= self.weight
            parts.append(tfidf)
        return sparse.vstack(parts, format="csr")

    def linear(self, docs: Docs, weights: np.ndarray) -> np.ndarray:
        """``transform(docs) @ weights``, without building the normalized matrix: the
        unnormalized product's rows divided by the norms."""
        return np.vstack([np.asarray(tfidf @ weights) * (self.weight / norms)[:, None]
                          for tfidf, norms in self._unnormalized(docs)])

    def _unnormalized(self, docs: Docs) -> Iterator[tuple[sparse.csr_matrix, np.ndarray]]:
        """TF-IDF before the L2 normalization, and each document's norm (1 for an empty one),
        ``_ROWS`` documents at a time, so the n-gram counts stay small whatever the chunk."""
        words = docs.words
        n_docs = len(words.lengths)
        # One entry per word occurrence: the product below sums repeated words.
        indptr = np.concatenate([[0], np.cumsum(words.lengths)])
        doc_words = sparse.csr_matrix((np.ones(len(words.codes)), words.codes, indptr),
                                      shape=(n_docs, len(words.dictionary)))
        grams = self._word_grams(words)
        for start in range(0, max(n_docs, 1), self._ROWS):
            tf = (doc_words[start:start + self._ROWS] @ grams).tocsr()  # n-gram counts
            data = tf.data
            if self.sublinear:
                np.log(data, out=data)
                data += 1.0
            data *= self.idf[tf.indices]
            filled = np.diff(tf.indptr) > 0
            squares = np.zeros(tf.shape[0])
            squares[filled] = np.add.reduceat(data * data, tf.indptr[:-1][filled])
            norms = np.sqrt(squares)
            norms[norms == 0] = 1.0
            yield tf, norms

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "vocabulary": _lines(self.vocabulary), "idf": self.idf,
                "ngram_range": list(self.ngram_range), "sublinear_tf": self.sublinear,
                "weight": self.weight}


def owners(sizes: Any) -> np.ndarray:
    """The row of each entry of rows of these sizes, one after the other."""
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """range(start, start + size) for each start and size, one after the other: where the
    entries of rows of these sizes lie, given where each row starts."""
    ends = np.cumsum(sizes)
    return np.repeat(starts - (ends - sizes), sizes) + np.arange(int(sizes.sum()), dtype=np.int64)


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


class TermBlock(_Block):
    """Per category, log(1 + occurrences) of its indicative terms (the taxonomy file's
    ``terms``), matched as token sequences with the word block's tokenizer."""

    kind = "terms"

    def __init__(self, terms: list[list[str]], token_pattern: str, weight: float = 1.0):
        self.terms = [list(t) for t in terms]
        self.token_pattern, self.weight = token_pattern, float(weight)

    @functools.cached_property
    def _lookup(self) -> tuple[_Table, dict[int, _Table], int, sparse.csr_matrix]:
        find = re.compile(self.token_pattern).findall
        tokens: dict[str, int] = {}
        sequences = [(category, [tokens.setdefault(t, len(tokens)) for t in find(term.lower())])
                     for category, terms in enumerate(self.terms) for term in terms]
        bits = max(1, len(tokens).bit_length())  # a token id fits in this many bits
        if max((len(ids) for _, ids in sequences), default=0) * bits > 64:
            raise ValueError("a term has too many tokens to be matched")
        # Each distinct term (its length in tokens, and its tokens' ids packed in a code)
        # numbered, and the categories it counts for (a term can belong to several).
        numbered: dict[tuple[int, int], int] = {}
        pairs = set()
        for category, ids in sequences:
            if ids:
                code = functools.reduce(lambda packed, i: (packed << bits) | i, ids, 0)
                pairs.add((numbered.setdefault((len(ids), code), len(numbered)), category))
        keys = np.array(list(numbered), dtype=np.uint64).reshape(-1, 2)
        tables = {int(n): _Table(keys[keys[:, 0] == n, 1], np.flatnonzero(keys[:, 0] == n))
                  for n in np.unique(keys[:, 0])}
        pair = np.array(list(pairs), dtype=np.int64).reshape(-1, 2)
        categories = sparse.csr_matrix((np.ones(len(pair)), (pair[:, 0], pair[:, 1])),
                                       shape=(len(numbered), len(self.terms)))
        return _Table(_arrow_strings(list(tokens))), tables, bits, categories

    def transform(self, docs: Docs) -> sparse.csr_matrix:
        tokens, tables, bits, categories = self._lookup
        tok = tokens.of(docs.tokens)
        owner = owners(docs.tokens.lengths)
        # A term can only start where a token of some term stands (few places), and a term
        # of n tokens only where one of n - 1 tokens could: windows grow from those starts,
        # dropping the ones that reach a token of no term or the next document.
        start = np.flatnonzero(tok >= 0)
        code = tok[start].astype(np.uint64)
        rows, cols = [], []
        for n in range(1, max(tables, default=0) + 1):
            if n > 1:
                end = start + n - 1
                inside = end < len(tok)
                start, code, end = start[inside], code[inside], end[inside]
                grows = (tok[end] >= 0) & (owner[end] == owner[start])
                start, code, end = start[grows], code[grows], end[grows]
                code = (code << np.uint64(bits)) | tok[end].astype(np.uint64)
            if n in tables:
                term = tables[n].get(code)
                rows.append(owner[start][term >= 0])
                cols.append(term[term >= 0])
        r, c = _joined(rows), _joined(cols)
        # Occurrences of each term (repeated entries summed), then of each category's terms.
        found = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(docs), categories.shape[0]))
        return sparse.csr_matrix(np.log1p((found @ categories).toarray()) * self.weight)

    @property
    def width(self) -> int:
        return len(self.terms)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "terms": self.terms, "token_pattern": self.token_pattern,
                "weight": self.weight}


Block = WordBlock | CharBlock | TermBlock


def _lines(strings: list[str]) -> str | list[str]:
    """A vocabulary as one string, an entry per line, when no entry holds a line break: a
    model file then loads it in one step, where a list is unpickled string by string."""
    return strings if any("\n" in s for s in strings) else "\n".join(strings)


def block_from_dict(data: dict[str, Any]) -> Block:
    """The inverse of each block's ``to_dict``, whose keys are its constructor's parameters."""
    params = dict(data)
    kind = params.pop("kind")
    classes: dict[str, type[Block]] = {b.kind: b for b in (WordBlock, CharBlock, TermBlock)}
    if kind not in classes:
        raise ValueError(f"unknown feature block {kind!r}")
    stored = params.get("vocabulary")
    if isinstance(stored, str):  # one string of lines (see _lines); a list stays one
        params["vocabulary"] = stored.split("\n") if stored else []
    return classes[kind](**params)
