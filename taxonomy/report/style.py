"""What every written page shares without importing matplotlib or pandas: the categories'
colours and Markdown escaping."""

from __future__ import annotations

import re
from typing import Any

# One colour per category, in taxonomy order (matplotlib's tab10, so hues are distinct).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def colour(index: int) -> str:
    """The colour of the category at ``index`` in taxonomy order."""
    return PALETTE[index % len(PALETTE)]


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md(text: Any) -> str:
    """Text for a Markdown line or table cell: white space collapsed, specials escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
