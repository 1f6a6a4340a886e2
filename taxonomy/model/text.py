"""What the model reads: a paper's text, and the taxonomy file's prior documents."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..labels.categories import Taxonomy


def compose(title: str, abstract: str, title_repeats: int) -> str:
    """The text the vectorizer reads for one paper: the title repeated, so that its words
    weigh more than the abstract's, then the abstract."""
    return " ".join([title] * title_repeats + [abstract])


def compose_arrays(titles: Any, abstracts: Any, title_repeats: int) -> Any:
    """``compose`` for Arrow string arrays of titles and abstracts, by Arrow."""
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(*[titles] * title_repeats, abstracts, " ")


def prior_documents(taxonomy: Taxonomy, examples: bool = True) -> tuple[list[str], np.ndarray]:
    """Pseudo-documents from the taxonomy file: each category's definition, rules, terms and
    examples are positive for that category only; the [none] examples for no category."""
    docs, rows = [], []
    for j, category in enumerate(taxonomy.categories):
        texts = [f"{category.name}. {category.definition}", *category.include]
        if category.terms:
            texts.append(", ".join(category.terms))
        if examples:
            texts.extend(category.examples)
        docs.extend(texts)
        rows.extend([j] * len(texts))
    if examples:
        docs.extend(taxonomy.none_examples)
        rows.extend([-1] * len(taxonomy.none_examples))
    matrix = np.array(rows)[:, None] == np.arange(len(taxonomy.categories))
    return docs, matrix.astype(np.int8)
