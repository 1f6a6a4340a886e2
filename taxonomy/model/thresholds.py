"""Decision thresholds per category, chosen on out-of-fold scores of the training papers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# The thresholds a category may get.
GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))


def stratified_folds(y: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs whose label proportions match the whole set's (iterative
    stratification)."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    n_folds = max(2, min(n_folds, len(y)))
    splitter = MultilabelStratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))


def best_thresholds(scores: np.ndarray, y: np.ndarray, grid: Sequence[float]) -> np.ndarray:
    """Per category, the grid threshold with the best F1 (the median of tied ones)."""
    from sklearn.metrics import f1_score

    thresholds = np.full(y.shape[1], 0.5)
    for j in range(y.shape[1]):
        f1s = np.array([f1_score(y[:, j], scores[:, j] >= t, zero_division=1.0) for t in grid])
        best = np.flatnonzero(np.isclose(f1s, f1s.max()))
        thresholds[j] = grid[best[len(best) // 2]]
    return thresholds
