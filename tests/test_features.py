"""The feature blocks' numpy transforms equal scikit-learn's (or a plain reference), on the
seed texts and on odd text hypothesis makes up."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from taxonomy import _compiled
from taxonomy.model import features, kernels
from taxonomy.model.features import CharBlock, TermBlock, WordBlock, tokenized

TOKENS = r"(?u)\b\w\w+\b"


@pytest.fixture(scope="module", autouse=True, params=["compiled", "numpy"])
def scoring(request):
    """Every test runs with the compiled loops (where the build has them) and without."""
    if request.param == "compiled" and kernels.compiled() is None:
        pytest.skip("the package was built without its C loops")
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "numpy":
            patch.setattr(kernels, "compiled", lambda: None)
        yield request.param
ODD = st.lists(st.text(alphabet=st.sampled_from(list("ab memory training GPU-_.é\n\t'\"")),
                       max_size=80), min_size=1, max_size=6)


@pytest.fixture(scope="module")
def corpus(seed_labels) -> list[str]:
    return [f"{t} {t} {a}" for t, a in zip(seed_labels.titles, seed_labels.abstracts,
                                           strict=True)]


@pytest.fixture(scope="module")
def word(corpus):
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), max_df=0.5, sublinear_tf=True,
                                 stop_words="english", token_pattern=TOKENS).fit(corpus)
    block = WordBlock(list(vectorizer.get_feature_names_out()), vectorizer.idf_,
                      sorted(vectorizer.get_stop_words()), (1, 2), True)
    return vectorizer, block


@pytest.fixture(scope="module")
def char(corpus):
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, max_df=0.5,
                                 sublinear_tf=True).fit(corpus)
    block = CharBlock(list(vectorizer.get_feature_names_out()), vectorizer.idf_, (3, 5), True)
    return vectorizer, block


# Text where Python's and Arrow's ideas of words, white space and case could part: non-ASCII
# letters and digits, Unicode and ASCII-control white space, combining marks, punctuation.
UNICODE = st.lists(st.text(alphabet=st.sampled_from(
    list("ab Memory_GPU-.é\n\t'\"\x1c\x1f\x0b\xa0\u2003İß½²σ\u0301ǅ\x00") + ["ĳ", "ﬁ"]),
    max_size=60), min_size=1, max_size=8)


def _equal(block, vectorizer, texts: list[str]) -> None:
    reference = vectorizer.transform(texts)
    for arrow in (False, True):
        ours = block.transform(tokenized(texts, TOKENS, arrow=arrow))
        assert ours.shape == reference.shape
        assert abs(ours - reference).max() <= 1e-9 if ours.nnz or reference.nnz else True
        assert (abs(ours) > 0).sum() == (abs(reference) > 0).sum()
        assert ours.has_sorted_indices  # explanations rank equal terms in feature order


def _pieces(split) -> list[list[str]]:
    ends = np.cumsum(split.lengths)
    return [[split.uniques[c] for c in split.codes[e - n:e]]
            for n, e in zip(split.lengths, ends, strict=True)]


@settings(max_examples=150, deadline=None)
@given(UNICODE)
def test_arrow_and_python_split_documents_alike(texts):
    python, arrow = tokenized(texts, TOKENS, arrow=False), tokenized(texts, TOKENS, arrow=True)
    # Documents that come as an Arrow array are lower-cased by the splitting table instead.
    columnar = tokenized(pa.array(texts, type=pa.string()), TOKENS, arrow=True)
    lower = [t.lower() for t in texts]
    assert _pieces(python.tokens) == _pieces(arrow.tokens) == _pieces(columnar.tokens) == [
        re.findall(TOKENS, t) for t in lower]
    assert _pieces(python.words) == _pieces(arrow.words) == _pieces(columnar.words) == [
        t.split() for t in lower]


def test_word_block_equals_scikit_learn(word, corpus):
    _equal(word[1], word[0], corpus[:60])


def test_char_block_equals_scikit_learn(char, corpus):
    _equal(char[1], char[0], corpus[:60])


@settings(max_examples=80, deadline=None)
@given(ODD)
def test_word_block_equals_scikit_learn_on_odd_text(word, texts):
    _equal(word[1], word[0], texts)


@settings(max_examples=80, deadline=None)
@given(ODD)
def test_char_block_equals_scikit_learn_on_odd_text(char, texts):
    _equal(char[1], char[0], texts)


@settings(max_examples=60, deadline=None)
@given(UNICODE)
def test_blocks_equal_scikit_learn_on_unicode_text(word, char, texts):
    _equal(word[1], word[0], texts)
    _equal(char[1], char[0], texts)


TERMS = [["memory", "gpu memory", "activation checkpointing"], ["all-reduce", "memory"],
         ["data pruning", "training data selection with a proxy"]]


def _reference_terms(text: str) -> list[int]:
    """Occurrences of each category's terms as token sequences, counted naively."""
    tokens = re.findall(TOKENS, text.lower())
    counts = []
    for terms in TERMS:
        n = 0
        for term in terms:
            wanted = re.findall(TOKENS, term.lower())
            n += sum(tokens[i:i + len(wanted)] == wanted
                     for i in range(len(tokens) - len(wanted) + 1))
        counts.append(n)
    return counts


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["memory", "GPU", "gpu", "activation",
                                          "checkpointing", "all-reduce", "all", "reduce",
                                          "data", "pruning", "training", "selection", "with",
                                          "a", "proxy", "x"]), max_size=25).map(" ".join),
                min_size=1, max_size=5))
def test_term_block_counts_every_occurrence(texts):
    block = TermBlock(TERMS, TOKENS, weight=2.0)
    expected = np.log1p([_reference_terms(t) for t in texts]) * 2.0
    for arrow in (False, True):
        found = block.transform(tokenized(texts, TOKENS, arrow=arrow)).toarray()
        assert np.allclose(found, expected)


def test_a_lone_surrogate_takes_the_python_path():
    # JSON can carry "\ud800"; Arrow cannot hold it, Python's split can.
    texts = ["Memory efficient training \ud800 of GPUs", "plain text"] * 200
    arrow, python = tokenized(texts, TOKENS, arrow=True), tokenized(texts, TOKENS, arrow=False)
    assert _pieces(arrow.tokens) == _pieces(python.tokens)
    assert _pieces(arrow.words) == _pieces(python.words)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)),
       density=st.floats(0, 1), seed=st.integers(0, 2**32 - 1), fallback=st.booleans())
def test_the_sparse_product_is_scipys(shape, density, seed, fallback, monkeypatch):
    rng = np.random.default_rng(seed)
    m, k, n = shape
    a = sparse.random(m, k, density=density, format="csr", random_state=rng)
    b = sparse.random(k, n, density=density, format="csr", random_state=rng)
    a.data = np.round(a.data * 4)  # counts, as in the char block
    if fallback:  # a scipy without the routine: the product still comes out
        monkeypatch.setattr(features, "_csr_matmat", None)
    found, expected = features._product(a, b), (a @ b).tocsr()
    assert found.shape == expected.shape
    np.testing.assert_array_equal(found.indptr, expected.indptr)
    np.testing.assert_array_equal(found.indices, expected.indices)
    np.testing.assert_array_equal(found.data, expected.data)


@pytest.fixture
def compiled_only(scoring):
    if scoring != "compiled":
        pytest.skip("a test of the compiled loops")


needs_compiled = pytest.mark.usefixtures("compiled_only")


def _char_linear_both_ways(block, texts, monkeypatch) -> tuple[np.ndarray, np.ndarray]:
    docs = tokenized(texts, TOKENS)
    weights = np.random.default_rng(len(texts)).normal(size=(block.width, 3))
    calls, loop = [], kernels.char_linear
    with monkeypatch.context() as patch:
        patch.setattr(kernels, "char_linear", lambda *a: calls.append(1) or loop(*a))
        compiled = block.linear(docs, weights)
    assert calls  # the compiled loop did the scoring
    with monkeypatch.context() as patch:
        patch.setattr(kernels, "compiled", lambda: None)
        plain = block.linear(docs, weights)
    return compiled, plain


@needs_compiled
@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=UNICODE)
def test_the_compiled_char_block_scores_as_numpy_does(char, texts, monkeypatch):
    compiled, plain = _char_linear_both_ways(char[1], texts, monkeypatch)
    np.testing.assert_allclose(compiled, plain, rtol=1e-12, atol=1e-12)


@needs_compiled
def test_the_compiled_char_block_scores_as_scikit_learn_does(char, corpus, monkeypatch):
    # Repeated words and n-grams (counts well above 1) and counts past the log table.
    texts = corpus[:40] + [" ".join(["checkpointing"] * 300), "x " * 5 + "memory " * 270]
    block, vectorizer = char[1], char[0]
    compiled, plain = _char_linear_both_ways(block, texts, monkeypatch)
    weights = np.random.default_rng(len(texts)).normal(size=(block.width, 3))
    np.testing.assert_allclose(compiled, vectorizer.transform(texts) @ weights, atol=1e-12)
    np.testing.assert_allclose(compiled, plain, atol=1e-12)


@needs_compiled
@pytest.mark.parametrize("spoil", ["gram id", "word code", "starts", "sizes", "dtype"])
def test_the_compiled_loop_refuses_inconsistent_arrays(spoil):
    module = kernels.compiled()
    arrays = dict(doc_starts=np.array([0, 2, 3]), word_codes=np.array([0, 1, 1]),
                  gram_starts=np.array([0, 2, 3]), gram_ids=np.array([0, 1, 1], np.int32),
                  gram_counts=np.ones(3), idf=np.ones(2), weights=np.ones((2, 2)))
    assert kernels.char_linear(module, *arrays.values(), True, 1.0).shape == (2, 2)
    if spoil == "gram id":
        arrays["gram_ids"] = np.array([0, 1, 2], np.int32)
    elif spoil == "word code":
        arrays["word_codes"] = np.array([0, -1, 1])
    elif spoil == "starts":
        arrays["doc_starts"] = np.array([0, 3, 2])
    elif spoil == "sizes":
        arrays["gram_counts"] = np.ones(2)
    if spoil == "dtype":
        with pytest.raises(ValueError, match="items of 8 bytes"):
            module.char_linear(*[np.asarray(a, np.int32) for a in
                                 (arrays["doc_starts"], arrays["word_codes"])],
                               arrays["gram_starts"], arrays["gram_ids"], arrays["gram_counts"],
                               np.ones((2, 3)), 2, 3, True, kernels.log_table(), 1.0,
                               np.empty((2, 2)))
        return
    with pytest.raises(ValueError, match="char_linear"):
        kernels.char_linear(module, *arrays.values(), True, 1.0)


@needs_compiled
def test_the_compiled_loop_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("TAXONOMY_KERNELS", "numpy")
    _compiled.module.cache_clear()
    try:
        assert kernels.compiled() is None
    finally:
        monkeypatch.delenv("TAXONOMY_KERNELS")
        _compiled.module.cache_clear()


def _reference_split(data: bytes, bounds, shortest):
    numbers: dict[bytes, int] = {}
    codes, lengths = [], []
    for start, end in bounds:
        pieces = [p for p in data[start:end].split(b" ") if len(p) >= shortest]
        codes += [numbers.setdefault(p, len(numbers)) for p in pieces]
        lengths.append(len(pieces))
    return codes, lengths, list(numbers)


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300) | st.lists(st.sampled_from([b"ab", b" ", b"a", b"\xff", b"x",
                                                                 b"  "]),
                                               max_size=80).map(b"".join),
       cuts=st.lists(st.tuples(st.integers(0, 300), st.integers(0, 300)), max_size=6),
       shortest=st.integers(1, 3))
def test_the_compiled_splitter_splits_as_bytes_split_does(data, cuts, shortest):
    bounds = [(min(a, b, len(data)), min(max(a, b), len(data))) for a, b in cuts]
    starts = np.array([a for a, _ in bounds], dtype=np.int64)
    ends = np.array([b for _, b in bounds], dtype=np.int64)
    codes, lengths, offsets, chars = kernels.split_pieces(kernels.compiled(), data, starts, ends,
                                                          shortest)
    expected_codes, expected_lengths, distinct = _reference_split(data, bounds, shortest)
    assert codes.tolist() == expected_codes and lengths.tolist() == expected_lengths
    assert [chars[a:b].tobytes() for a, b in zip(offsets[:-1], offsets[1:], strict=True)] == \
        distinct


@needs_compiled
def test_the_compiled_splitter_grows_its_table_and_checks_its_outputs():
    words = [f"w{i}" for i in range(5000)]
    data = " ".join(words + words[::-1]).encode()
    bounds = [(0, len(data) // 2), (len(data) // 2, len(data))]
    starts, ends = np.array([0, len(data) // 2]), np.array([len(data) // 2, len(data)])
    codes, lengths, offsets, chars = kernels.split_pieces(kernels.compiled(), data, starts, ends, 1)
    expected_codes, expected_lengths, distinct = _reference_split(data, bounds, 1)
    assert codes.tolist() == expected_codes and lengths.tolist() == expected_lengths
    assert len(offsets) == len(distinct) + 1 == 5001
    module = kernels.compiled()
    small = (np.empty(3, np.int64), np.empty(2, np.int64), np.empty(4, np.int64),
             np.empty(len(data), np.uint8))
    with pytest.raises(ValueError, match="too small"):
        module.split_pieces(data, starts, ends, 1, *small)
    with pytest.raises(ValueError, match="out of range"):
        module.split_pieces(data, np.array([0]), np.array([len(data) + 1]), 1,
                            *[np.empty(len(data), np.int64), np.empty(1, np.int64),
                              np.empty(len(data), np.int64), np.empty(len(data), np.uint8)])


@needs_compiled
@pytest.mark.parametrize("spoil", ["token", "unigram", "table size", "starts"])
def test_the_compiled_word_loop_refuses_inconsistent_arrays(word, spoil):
    block = word[1]
    block.transform(tokenized(["warm up"], TOKENS))  # builds the lookup tables
    _, size, unigram, bigrams = block._lookup
    args = dict(tokens=np.array([0, -1, 1]), lengths=np.array([2, 1]), unigram=unigram,
                pairs=bigrams.pairs, bits=bigrams.bits)
    indptr, _, _ = kernels.word_features(kernels.compiled(), *args.values(), block.idf, True,
                                         (1, 2))
    assert indptr.tolist()[0] == 0 and len(indptr) == 3
    if spoil == "token":
        args["tokens"] = np.array([0, size, 1])
    elif spoil == "unigram":
        args["unigram"] = np.full(size, block.width)
    elif spoil == "table size":
        args["bits"] = bigrams.bits + 1
    elif spoil == "starts":
        args["lengths"] = np.array([5, -2])
    with pytest.raises(ValueError, match="word_features"):
        kernels.word_features(kernels.compiled(), *args.values(), block.idf, True, (1, 2))


@needs_compiled
@settings(max_examples=100, deadline=None)
@given(UNICODE)
def test_the_compiled_word_grams_are_numpys(char, texts):
    words = tokenized(texts, TOKENS, arrow=True).words
    compiled = char[1]._word_grams(words)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kernels, "compiled", lambda: None)
        plain = char[1]._word_grams(words)
    for attribute in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(compiled, attribute), getattr(plain, attribute))


@needs_compiled
@pytest.mark.parametrize("spoil", ["token", "category", "node"])
def test_the_compiled_term_loop_refuses_inconsistent_arrays(spoil):
    block = TermBlock(TERMS, TOKENS)
    block.transform(tokenized(["warm up"], TOKENS))  # builds the trie
    edges, size, node_starts, node_categories = block._lookup[3]
    args = dict(tokens=np.array([0, 1, -1]), lengths=np.array([3]), pairs=edges.pairs,
                bits=edges.bits, size=size, node_starts=node_starts,
                node_categories=node_categories, width=len(TERMS))
    assert kernels.term_counts(kernels.compiled(), *args.values()).shape == (1, len(TERMS))
    if spoil == "token":
        args["tokens"] = np.array([0, size, -1])
    elif spoil == "category":
        args["node_categories"] = node_categories + len(TERMS)
    else:
        spoiled = edges.pairs.copy()
        spoiled[1::2] = np.where(edges.values >= 0, len(node_starts), -1).view(np.uint64)
        args["pairs"] = spoiled
    with pytest.raises(ValueError, match="term_counts"):
        kernels.term_counts(kernels.compiled(), *args.values())


@needs_compiled
def test_the_compiled_expansion_refuses_inconsistent_arrays():
    module, starts, pieces = kernels.compiled(), np.array([0, 2, 3]), np.array([7, 8, 9])
    codes, lengths = kernels.expand_pieces(module, np.array([1, 0, 1]), np.array([1, 2]),
                                           starts, pieces)
    assert codes.tolist() == [9, 7, 8, 9] and lengths.tolist() == [1, 3]
    for items, doc_lengths in (([2], [1]), ([0, 1], [1]), ([-1], [1])):
        with pytest.raises(ValueError, match="expand_pieces"):
            kernels.expand_pieces(module, np.array(items), np.array(doc_lengths), starts,
                                  pieces)


@needs_compiled
def test_the_compiled_loops_refuse_what_would_overrun_or_hang():
    """Inputs of the right types that once got past the loops' checks (a review found them):
    each is now a ValueError, never a stray write, read or endless probe."""
    module = kernels.compiled()
    one = dict(doc_starts=np.array([0, 3]), word_codes=np.array([0, 0, 0]),
               gram_starts=np.array([0, 3]), gram_ids=np.zeros(3, np.int32))
    for counts in (np.zeros(3), np.full(3, -5.0), np.full(3, np.nan), np.full(3, 1.5)):
        with pytest.raises(ValueError, match="char_linear"):  # an n-gram listed twice
            kernels.char_linear(module, *one.values(), counts, np.ones(1), np.ones((1, 2)),
                                True, 1.0)
    with pytest.raises(ValueError, match="char_linear"):  # docs x width wrapping to 0
        module.char_linear(np.arange(9, dtype=np.int64), np.zeros(8, np.int64),
                           np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0),
                           np.zeros(0), 2**61, 2**61 + 1, True, kernels.log_table(), 1.0,
                           np.empty(0))
    starts = np.array([0, 2, 3])
    with pytest.raises(ValueError, match="expand_pieces"):  # lengths summing past 2**63
        module.expand_pieces(np.zeros(1, np.int64), np.array([2**62] * 3 + [2**62 + 1]),
                             starts, np.zeros(3, np.int64), np.empty(8, np.int64),
                             np.empty(4, np.int64))
    full = np.array([5, 0, 6, 0], dtype=np.uint64)  # two slots, neither empty
    with pytest.raises(ValueError, match="no empty slot"):
        module.term_counts(np.array([0, 1], np.int64), np.array([0, 2], np.int64), full, 1, 2,
                           np.array([0, 0, 1], np.int64), np.array([0], np.int64), 1,
                           np.empty((1, 1)))
    shared = np.zeros(16, dtype=np.int64)  # an output laid over an input
    shared[1] = 1  # one document of one item (item 0)
    with pytest.raises(ValueError, match="shares memory"):
        module.expand_pieces(shared[:1], shared[1:2], starts, np.zeros(3, np.int64),
                             shared[:4], np.empty(1, np.int64))


@needs_compiled
def test_the_compiled_term_loop_takes_a_chunk_of_no_documents():
    block = TermBlock(TERMS, TOKENS)
    assert block.transform(tokenized([], TOKENS)).shape == (0, len(TERMS))
