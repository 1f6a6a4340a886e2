"""What the model reads: a paper's title and abstract as one text."""

from __future__ import annotations

from typing import Any


def compose(title: str, abstract: str, title_repeats: int) -> str:
    """The text the vectorizer reads for one paper: the title repeated, so that its words
    weigh more than the abstract's, then the abstract."""
    return " ".join([title] * title_repeats + [abstract])


def compose_arrays(titles: Any, abstracts: Any, title_repeats: int) -> Any:
    """``compose`` for Arrow string arrays of titles and abstracts, by Arrow."""
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(*[titles] * title_repeats, abstracts, " ")
