"""Label lists <-> indicator matrices: the tiny conversions every layer uses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

SEPARATOR = ";"


def split_labels(text: str) -> list[str]:
    """'a;b' -> ['a', 'b']; blank -> []."""
    return [part.strip() for part in (text or "").split(SEPARATOR) if part.strip()]


def join_labels(labels: Iterable[str]) -> str:
    return SEPARATOR.join(labels)


def to_indicator(label_lists: Sequence[Sequence[str]], category_ids: Sequence[str]) -> np.ndarray:
    """Rows of category ids -> 0/1 matrix with one column per category, in taxonomy order."""
    column = {cid: j for j, cid in enumerate(category_ids)}
    matrix = np.zeros((len(label_lists), len(category_ids)), dtype=np.int8)
    for i, labels in enumerate(label_lists):
        for label in labels:
            matrix[i, column[label]] = 1
    return matrix


def from_indicator(matrix: np.ndarray, category_ids: Sequence[str]) -> list[list[str]]:
    """0/1 (or boolean) matrix -> rows of category ids, in taxonomy order."""
    return [[category_ids[int(j)] for j in np.flatnonzero(row)] for row in np.asarray(matrix)]

