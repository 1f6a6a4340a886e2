"""Spreadsheet-safe CSV cells: a text a spreadsheet would run as a formula (``=HYPERLINK(...)``
as a title) gets a leading quote in every CSV this tool writes, and loses it when read back.
Leading quotes count in the rule, so :func:`neutralize` and :func:`restore` are exact inverses.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _starts_formula(text: str) -> bool:
    return text.lstrip("'").startswith(FORMULA_STARTS)


def neutralize(value: object) -> object:
    """A cell as a CSV should hold it: text that would start a formula gets a leading quote;
    anything else (numbers, None) is returned unchanged."""
    if isinstance(value, str) and _starts_formula(value):
        return "'" + value
    return value


def restore(text: str) -> str:
    """The text a cell written by :func:`neutralize` stood for."""
    return text[1:] if text.startswith("'") and _starts_formula(text) else text
