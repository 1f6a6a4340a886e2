"""A fitted model as plain, inspectable state, and scoring with it.

Scoring needs only numpy and scipy: tagging starts without importing scikit-learn, and worker
processes stay small. :class:`~taxonomy.model.estimator.EfficiencyClassifier` fits the state
(``.export()``); a model file holds it as plain data (``to_dict``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from .text import compose

# Version of the plain-data layout a model file holds (see ScoringState.to_dict).
STATE_FORMAT = 3
# Two fits whose weights differ by no more than this are the same model (BLAS and platform
# differences move the last bits of the weights; labels never change at this size).
EQUIVALENT_WITHIN = 1e-9


@dataclass
class ScoringState:
    """The vocabulary (in column order) with its idf weights, one linear model per category
    and the per-category thresholds, plus the estimator parameters that shaped them."""

    params: dict[str, Any]
    category_ids: list[str]
    vocabulary: list[str]
    idf: np.ndarray  # (features,)
    stop_words: list[str]
    coef: np.ndarray  # (categories, features)
    intercept: np.ndarray  # (categories,)
    thresholds: np.ndarray  # (categories,)
    _fast: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_fast"] = None  # a cache, rebuilt on first use (and not worth pickling)
        return state

    def to_dict(self) -> dict[str, Any]:
        """The state as plain data: numpy arrays, lists of strings, numbers. A model file holds
        this, so it never names a class of this package and loads whatever the code's layout."""
        return {
            "format": STATE_FORMAT,
            "params": dict(self.params),
            "category_ids": list(self.category_ids),
            "vocabulary": list(self.vocabulary),
            "idf": np.asarray(self.idf, dtype=np.float64),
            "stop_words": list(self.stop_words),
            "coef": np.asarray(self.coef, dtype=np.float64),
            "intercept": np.asarray(self.intercept, dtype=np.float64),
            "thresholds": np.asarray(self.thresholds, dtype=np.float64),
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ScoringState:
        """The inverse of :meth:`to_dict`."""
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"model state format {state.get('format')!r}, expected "
                             f"{STATE_FORMAT}")
        return cls(
            params=dict(state["params"]), category_ids=list(state["category_ids"]),
            vocabulary=list(state["vocabulary"]), idf=np.asarray(state["idf"]),
            stop_words=list(state["stop_words"]), coef=np.asarray(state["coef"]),
            intercept=np.asarray(state["intercept"]),
            thresholds=np.asarray(state["thresholds"]),
        )

    def equivalent(self, other: ScoringState, tolerance: float = EQUIVALENT_WITHIN) -> bool:
        """Same features and thresholds, weights equal within ``tolerance``: every score then
        agrees to about that tolerance and every label is the same."""
        return (self.params == other.params and self.category_ids == other.category_ids
                and self.vocabulary == other.vocabulary and self.stop_words == other.stop_words
                and np.array_equal(self.thresholds, other.thresholds)
                and all(a.shape == b.shape and bool(np.all(np.abs(a - b) <= tolerance))
                        for a, b in ((self.idf, other.idf), (self.coef, other.coef),
                                     (self.intercept, other.intercept))))

    # -- scoring ---------------------------------------------------------------------------

    def transform(self, titles: Sequence[str], abstracts: Sequence[str]) -> sparse.csr_matrix:
        """TF-IDF features of papers, equal to the fitted scikit-learn vectorizer's."""
        docs = [compose(t, a, self.params["title_repeats"])
                for t, a in zip(titles, abstracts, strict=True)]
        if self._fast is None:
            from .fast_tfidf import FastTfidf

            self._fast = FastTfidf(self)
        return self._fast.transform(docs)

    def decision(self, features: sparse.csr_matrix) -> np.ndarray:
        """The linear score (logit) per paper and category."""
        return np.asarray(features @ self.coef.T + self.intercept)

    def scores_from_features(self, features: sparse.csr_matrix) -> np.ndarray:
        """Probability per paper and category (logistic of the linear score)."""
        return sigmoid(self.decision(features))

    def scores(self, titles: Sequence[str], abstracts: Sequence[str]) -> np.ndarray:
        return self.scores_from_features(self.transform(titles, abstracts))

    def predict(self, titles: Sequence[str], abstracts: Sequence[str]) -> np.ndarray:
        return (self.scores(titles, abstracts) >= self.thresholds).astype(np.int8)

    # -- explanations ----------------------------------------------------------------------

    def feature_names(self) -> np.ndarray:
        return np.asarray(self.vocabulary, dtype=object)

    def top_terms(self, k: int = 15) -> dict[str, list[str]]:
        """The k terms with the largest positive weight per category."""
        names = self.feature_names()
        return {cid: [str(names[i]) for i in np.argsort(-self.coef[j], kind="stable")[:k]
                      if self.coef[j, i] > 0]
                for j, cid in enumerate(self.category_ids)}

    def contributions(self, features: sparse.csr_matrix, row: int, category: int,
                      k: int = 5, names: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The k terms of one paper that pushed one category's score up most."""
        start, end = features.indptr[row], features.indptr[row + 1]
        columns = features.indices[start:end]
        values = features.data[start:end] * self.coef[category, columns]
        order = np.argsort(-values, kind="stable")[:k]
        names = self.feature_names() if names is None else names
        return [(str(names[columns[i]]), float(values[i])) for i in order if values[i] > 0]


def sigmoid(logits: Any) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits)))
