"""Scoring a chunk of papers: scores per category and the terms behind each assigned label.
Free of pandas and scikit-learn, so that worker processes stay small."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from scipy import sparse

from ..errors import ModelError
from ..model.artifact import load_model
from ..model.state import ScoringState

TOP_TERMS = 3

# One chunk to score: titles, abstracts (lists of strings, or Arrow string arrays) and each
# paper's hand labels (None: the model decides).
Chunk = tuple[Any, Any, list[list[str] | None]]


def score_chunk(state: ScoringState, titles: Any, abstracts: Any,
                hand_rows: list[list[str] | None],
                names: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Scores (papers x categories) and 'category: term, term' per paper, for the model's
    labels or, where a paper has them, its hand labels."""
    scores, words = state.scores_and_words(titles, abstracts)
    assigned = scores >= state.thresholds
    by_hand = [i for i, hand in enumerate(hand_rows) if hand is not None]
    assigned[by_hand] = False
    row, category = np.nonzero(assigned)
    if by_hand:
        column = {cid: j for j, cid in enumerate(state.category_ids)}
        listed = [(i, column[c]) for i in by_hand for c in hand_rows[i] or () if c in column]
        row = np.concatenate([row, np.array([i for i, _ in listed], dtype=np.int64)])
        category = np.concatenate([category, np.array([j for _, j in listed], dtype=np.int64)])
        order = np.argsort(row, kind="stable")
        row, category = row[order], category[order]
    names = state.feature_names() if names is None else names
    return scores, explain(state, words, row, category, TOP_TERMS, names)


def explain(state: ScoringState, words: sparse.csr_matrix, row: np.ndarray,
            category: np.ndarray, k: int, names: np.ndarray) -> list[str]:
    """Per paper, 'category: term, term; category: ...' for the (paper, category) pairs given
    (``row`` sorted): the k word-block terms that pushed each score up most (``top_words``)."""
    pair, columns, _ = state.top_words(words, row, category, k)
    terms = names[columns].tolist()
    bounds = [0, *np.cumsum(np.bincount(pair, minlength=len(row))).tolist()]
    ids = state.category_ids
    out = [""] * words.shape[0]
    for paper, j, start, end in zip(row.tolist(), category.tolist(), bounds[:-1], bounds[1:],
                                    strict=True):
        part = f"{ids[j]}: {', '.join(terms[start:end])}"
        out[paper] = f"{out[paper]}; {part}" if out[paper] else part
    return out


@functools.lru_cache(maxsize=2)
def _model_in_worker(path: str, sha256: str) -> tuple[ScoringState, np.ndarray]:
    """The model at ``path``, loaded once per process, if its sha256 is still the one the run
    started with (else rows would be stamped with the old version)."""
    model = load_model(path)  # checks the file against the sha256 in its card
    if model.card.get("joblib_sha256") != sha256:
        raise ModelError("changed while this run was tagging (retrained or replaced); run "
                         "again to tag everything with the model now in place", path)
    return model.state, model.state.feature_names()


def score_in_worker(path: str, sha256: str, titles: Any, abstracts: Any,
                    hand_rows: list[list[str] | None]) -> tuple[np.ndarray, list[str]]:
    """:func:`score_chunk` in a worker process, with the model file whose sha256 is given."""
    state, names = _model_in_worker(path, sha256)
    return score_chunk(state, titles, abstracts, hand_rows, names)
