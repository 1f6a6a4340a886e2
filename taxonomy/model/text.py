"""What the model reads: a paper's title and abstract as one text."""

from __future__ import annotations


def compose(title: str, abstract: str, title_repeats: int) -> str:
    """The text the vectorizer reads for one paper: the title repeated, so that its words
    weigh more than the abstract's, then the abstract."""
    return " ".join([title] * title_repeats + [abstract])
