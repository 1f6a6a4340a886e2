"""The feature blocks' numpy transforms equal scikit-learn's (or a plain reference), on the
seed texts and on odd text hypothesis makes up."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from taxonomy.model.features import CharBlock, TermBlock, WordBlock, _python_strings, tokenized

TOKENS = r"(?u)\b\w\w+\b"
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
    uniques = _python_strings(split.dictionary)
    ends = np.cumsum(split.lengths)
    return [[uniques[c] for c in split.codes[e - n:e]]
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


def test_the_term_block_takes_a_chunk_of_no_documents():
    block = TermBlock(TERMS, TOKENS)
    assert block.transform(tokenized([], TOKENS)).shape == (0, len(TERMS))
