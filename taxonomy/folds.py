"""Multilabel-stratified folds (iterative stratification), shared by training and evaluation."""

from __future__ import annotations

import numpy as np


def stratified_folds(y: np.ndarray, n_folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs whose label proportions match the whole set's."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    y = np.asarray(y)
    n_folds = max(2, min(n_folds, len(y)))
    splitter = MultilabelStratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y))
