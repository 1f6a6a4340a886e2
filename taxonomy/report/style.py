"""What every written page (the report's, the digest's) shares without importing matplotlib or
pandas: the categories' colours, the Jinja2 environment and its filters, the style sheet."""

from __future__ import annotations

import functools
import re
from typing import Any

# One colour per category, in taxonomy order (matplotlib's tab10, so hues are distinct).
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
INK = "#333333"  # the charts' text and marks


def colour(index: int) -> str:
    """The colour of the category at ``index`` in taxonomy order."""
    return PALETTE[index % len(PALETTE)]


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def md(text: Any) -> str:
    """Text for a Markdown line or table cell: white space collapsed, specials escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def pct(value: float) -> str:
    return f"{value:.1%}"


@functools.cache
def environment(kind: str, package: str = "taxonomy.report") -> Any:
    """The Jinja2 environment for ``package``'s 'md' or 'html' templates, then the report's
    (style.css); HTML autoescapes everything."""
    import jinja2

    loaders = [jinja2.PackageLoader(p, "templates")
               for p in dict.fromkeys((package, "taxonomy.report"))]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders), autoescape=kind == "html",
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)
    env.filters.update(md=md, pct=pct)
    return env


def stylesheet(env: Any, *extra: str) -> str:
    """style.css, then the ``extra`` style sheets of ``env``'s templates, to inline in a page."""
    return "\n".join(env.loader.get_source(env, name)[0] for name in ("style.css", *extra))
