"""Scoring a chunk of papers: scores per category and the terms behind each assigned label.

Kept free of pandas and scikit-learn, so that tagging worker processes import little and stay
small.
"""

from __future__ import annotations

import functools

import numpy as np

from ..model.artifact import load_model
from ..model.state import ScoringState

TOP_TERMS = 3

# One chunk to score: titles, abstracts and each paper's hand labels (None: the model decides).
Chunk = tuple[list[str], list[str], list[list[str] | None]]


def score_chunk(state: ScoringState, titles: list[str], abstracts: list[str],
                hand_rows: list[list[str] | None],
                names: np.ndarray | None = None) -> tuple[np.ndarray, list[str]]:
    """Scores (papers x categories) and 'category: term, term' per paper.

    Terms are listed for the model's assigned labels, or for the hand labels where a paper
    has them (hand labels win over the model).
    """
    features = state.transform(titles, abstracts)
    scores = state.scores_from_features(features)
    assigned = scores >= state.thresholds
    ids = state.category_ids
    column = {cid: j for j, cid in enumerate(ids)}
    names = state.feature_names() if names is None else names
    explanations = []
    for i, hand in enumerate(hand_rows):
        labels = (np.flatnonzero(assigned[i]) if hand is None
                  else [column[c] for c in hand if c in column])
        parts = []
        for j in labels:
            top = state.contributions(features, i, int(j), TOP_TERMS, names)
            parts.append(f"{ids[j]}: {', '.join(term for term, _ in top)}")
        explanations.append("; ".join(parts))
    return scores, explanations


@functools.lru_cache(maxsize=2)
def _model_in_worker(path: str, sha256: str) -> tuple[ScoringState, np.ndarray]:
    state = load_model(path).state
    return state, state.feature_names()


def score_in_worker(path: str, sha256: str, titles: list[str], abstracts: list[str],
                    hand_rows: list[list[str] | None]) -> tuple[np.ndarray, list[str]]:
    """:func:`score_chunk` in a worker process, which loads (and checks) the model once."""
    state, names = _model_in_worker(path, sha256)
    return score_chunk(state, titles, abstracts, hand_rows, names)
