"""Spreadsheet-safe CSV cells.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula, so a paper titled ``=HYPERLINK(...)`` would become a link the
moment a tags table or a review queue is opened. Every CSV this tool writes therefore starts
such a text cell with a single quote, the usual guard; :func:`restore` undoes it when the tool
reads its own CSV back (``taxonomy labels merge``). JSON Lines and Parquet keep text as it is.

Leading quotes are part of the rule, so the two are exact inverses: a text whose first
character after any leading quotes would start a formula gets one more quote, and loses one
when read back.
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
