"""What the model reads: a paper's title and abstract as one text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def compose(titles: Sequence[str] | Any, abstracts: Sequence[str] | Any,
            title_repeats: int) -> Any:
    """The texts the vectorizer reads, one per paper: the title repeated, so that its words
    weigh more than the abstract's, then the abstract. Lists give a list; Arrow string arrays
    give an Arrow array, joined by Arrow by the same rule."""
    if hasattr(titles, "to_pylist"):
        import pyarrow.compute as pc

        return pc.binary_join_element_wise(*[titles] * title_repeats, abstracts, " ")
    return [" ".join([title] * title_repeats + [abstract])
            for title, abstract in zip(titles, abstracts, strict=True)]
