"""A fitted model as plain, inspectable state, scored by numpy and scipy only (tagging never
imports scikit-learn). A category is assigned when its margin min(logit - cutoff, gate logit -
gate cutoff) is at least 0, i.e. when its Platt-scaled score reaches sigmoid(offset)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from scipy import sparse

from .features import Block, Docs, WordBlock, block_from_dict, owners, ranges, tokenized
from .text import compose

# Version of the plain-data layout a model file holds; 5 holds each vocabulary as one string
# of lines, and files of format 4 (lists) still load.
STATE_FORMAT = 5
_READABLE_FORMATS = (4, 5)
# Two fits whose weights differ by no more than this are the same model (BLAS and platform
# differences move the last bits of the weights; labels never change at this size).
EQUIVALENT_WITHIN = 1e-9
# The state's arrays, in a model file's order; only the gate may be None.
_ARRAYS = ("coef", "intercept", "cutoffs", "calibration", "gate")


@dataclass
class ScoringState:
    """Feature blocks, a linear model, cutoff and calibration (slope, offset) per category,
    an optional relevance gate, and the estimator parameters that shaped them."""

    params: dict[str, Any]
    category_ids: list[str]
    blocks: list[Block]
    coef: np.ndarray  # (categories, features)
    intercept: np.ndarray  # (categories,)
    cutoffs: np.ndarray  # (categories,), on the logit
    calibration: np.ndarray  # (categories, 2): slope and offset on the decision margin
    gate: np.ndarray | None = None  # (features + 2,): weights, intercept, cutoff

    @property
    def thresholds(self) -> np.ndarray:
        """Per category, the score at which it is assigned (the margin's zero)."""
        return np.asarray(sigmoid(self.calibration[:, 1]))

    def to_dict(self) -> dict[str, Any]:
        """The state as plain data (arrays, strings, numbers), as a model file holds it: no
        class of this package is pickled."""
        arrays = {k: None if getattr(self, k) is None else
                  np.asarray(getattr(self, k), dtype=np.float64) for k in _ARRAYS}
        return {"format": STATE_FORMAT, "params": dict(self.params),
                "category_ids": list(self.category_ids),
                "blocks": [b.to_dict() for b in self.blocks], **arrays}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ScoringState:
        """The inverse of :meth:`to_dict`."""
        if state.get("format") not in _READABLE_FORMATS:
            raise ValueError(f"model state format {state.get('format')!r}, expected "
                             f"{STATE_FORMAT}")
        arrays: dict[str, Any] = {k: None if state[k] is None else np.asarray(state[k])
                                  for k in _ARRAYS}
        return cls(params=dict(state["params"]), category_ids=list(state["category_ids"]),
                   blocks=[block_from_dict(b) for b in state["blocks"]], **arrays)

    def equivalent(self, other: ScoringState, tolerance: float = EQUIVALENT_WITHIN) -> bool:
        """Same features and thresholds, weights equal within ``tolerance``: every score then
        agrees to about that tolerance and every label is the same."""
        mine, theirs = self.to_dict(), other.to_dict()
        # The cutoffs decide labels, so they must be equal; ``_same`` compares numbers outside
        # arrays (the parameters') exactly.
        return (np.array_equal(mine.pop("cutoffs"), theirs.pop("cutoffs"))
                and _same(mine, theirs, tolerance))

    # -- scoring ---------------------------------------------------------------------------

    @property
    def word_block(self) -> WordBlock:
        return cast(WordBlock, self.blocks[0])  # the estimator fits the word block first

    def _docs(self, titles: Sequence[str] | Any, abstracts: Sequence[str] | Any) -> Docs:
        """The papers' documents split, from lists of strings or Arrow string arrays."""
        repeats = self.params["title_repeats"]
        return tokenized(compose(titles, abstracts, repeats), self.params["token_pattern"])

    def scores_and_words(self, titles: Sequence[str], abstracts: Sequence[str]
                         ) -> tuple[np.ndarray, sparse.csr_matrix]:
        """Calibrated scores, and the word block's features (what explanations read); the
        other blocks only add their share of each logit, never a feature matrix."""
        docs = self._docs(titles, abstracts)
        weights, bias = self._weights
        linear, start = np.tile(bias, (len(docs), 1)), 0
        words = self.word_block.transform(docs)
        for i, block in enumerate(self.blocks):
            part = weights[start:start + block.width]
            linear += words @ part if i == 0 else block.linear(docs, part)
            start += block.width
        return calibrated(self._margins(linear), self.calibration), words

    def words(self, titles: Sequence[str], abstracts: Sequence[str]) -> sparse.csr_matrix:
        """The word block's features of papers (what the review queue compares them by)."""
        return self.word_block.transform(self._docs(titles, abstracts))

    def transform(self, titles: Sequence[str], abstracts: Sequence[str]) -> sparse.csr_matrix:
        """The features of papers: every block's, side by side."""
        docs = self._docs(titles, abstracts)
        return sparse.hstack([b.transform(docs) for b in self.blocks], format="csr")

    @functools.cached_property
    def _weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Every category's weights, then the gate's, as columns (features x columns), and
        their intercepts."""
        rows = [self.coef] if self.gate is None else [self.coef, self.gate[None, :-2]]
        bias = np.append(self.intercept, [] if self.gate is None else self.gate[-2])
        return np.ascontiguousarray(np.vstack(rows).T), bias

    def decision(self, features: sparse.csr_matrix) -> np.ndarray:
        """The margin of each category's decision: assigned when it is at least 0."""
        weights, bias = self._weights
        return self._margins(np.asarray(features @ weights) + bias)

    def _margins(self, linear: np.ndarray) -> np.ndarray:
        return margins(linear, self.cutoffs, None if self.gate is None else float(self.gate[-1]))

    def scores_from_features(self, features: sparse.csr_matrix) -> np.ndarray:
        """Calibrated probability per paper and category."""
        return calibrated(self.decision(features), self.calibration)

    def scores(self, titles: Sequence[str], abstracts: Sequence[str]) -> np.ndarray:
        return self.scores_from_features(self.transform(titles, abstracts))

    # -- explanations ----------------------------------------------------------------------

    def feature_names(self) -> np.ndarray:
        """The word block's terms (the features explanations show)."""
        return np.asarray(self.word_block.vocabulary, dtype=object)

    def top_terms(self, k: int = 15) -> dict[str, list[str]]:
        """The k words or word pairs with the largest positive weight per category."""
        names, width = self.feature_names(), len(self.word_block.vocabulary)
        return {cid: [str(names[i]) for i in np.argsort(-self.coef[j, :width],
                                                        kind="stable")[:k]
                      if self.coef[j, i] > 0]
                for j, cid in enumerate(self.category_ids)}

    def contributions(self, features: sparse.csr_matrix, row: int, category: int,
                      k: int = 5, names: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The k words or word pairs of one paper that pushed one category's score up most
        (``features``: every block's, as :meth:`transform` gives them)."""
        words = features[row:row + 1, :len(self.word_block.vocabulary)]
        _, columns, values = self.top_words(words, np.array([0]), np.array([category]), k)
        names = self.feature_names() if names is None else names
        return [(str(names[c]), float(v)) for c, v in zip(columns, values, strict=True)]

    def top_words(self, words: sparse.csr_matrix, row: np.ndarray, category: np.ndarray,
                  k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For each (paper, category) pair given (``row``: rows of the word features ``words``),
        the k features that pushed the logit up most, ranked for all pairs at once: each pick's
        pair (ascending), feature and contribution (largest first; ties in feature order)."""
        row, category = np.asarray(row, dtype=np.int64), np.asarray(category, dtype=np.int64)
        sizes = np.diff(words.indptr)[row]
        starts = np.cumsum(sizes) - sizes
        entry = ranges(words.indptr[row], sizes)
        columns = words.indices[entry]
        contributions = words.data[entry] * self.coef[np.repeat(category, sizes), columns]
        values = contributions.copy()  # what is left to pick from
        owner = owners(sizes)
        filled = np.flatnonzero(sizes > 0)
        picked: list[np.ndarray] = []
        for _ in range(k if len(filled) else 0):
            best = np.full(len(row), np.nan)
            best[filled] = np.maximum.reduceat(values, starts[filled])
            best[best <= 0] = np.nan  # nothing (left) that pushes up
            at = np.flatnonzero(values == np.repeat(best, sizes))
            first = np.ones(len(at), dtype=bool)  # the first of equal ones in a pair
            first[1:] = owner[at][1:] != owner[at][:-1]
            at = at[first]
            if not len(at):
                break
            picked.append(at)
            values[at] = -np.inf
        at = np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)
        at = at[np.argsort(owner[at], kind="stable")]  # by pair, in the order picked
        return owner[at], columns[at], contributions[at]


def sigmoid(logits: Any) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits)))


def calibrated(margin: np.ndarray, calibration: np.ndarray) -> np.ndarray:
    """sigmoid(slope * margin + offset) per category."""
    return sigmoid(margin * calibration[:, 0] + calibration[:, 1])


def margins(linear: np.ndarray, cutoffs: np.ndarray, gate_cutoff: float | None = None
            ) -> np.ndarray:
    """min(logit - cutoff, gate logit - gate cutoff) per paper and category, from each
    category's logit and, with a ``gate_cutoff``, the gate's (the last column): a category is
    assigned when it is at least 0 (both its model and the gate agree)."""
    margin = linear[:, :len(cutoffs)] - cutoffs
    if gate_cutoff is not None:
        margin = np.minimum(margin, (linear[:, len(cutoffs)] - gate_cutoff)[:, None])
    return margin


def _same(a: Any, b: Any, tolerance: float) -> bool:
    """Deep equality of plain data, numbers in float arrays within ``tolerance``."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], tolerance) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc" or b.dtype.kind in "fc":
            return bool(np.all(np.abs(a - b) <= tolerance))
        return bool(np.array_equal(a, b))
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y, tolerance) for x, y in zip(a, b, strict=True))
    return bool(a == b)
