"""Dates as the dumps show them, resolved to ISO ``YYYY-MM-DD``."""

from __future__ import annotations

import datetime as dt
import functools
import re

MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
# 'Mar 19', 'Mar 19, 2024' or 'Mar 19, 2024 12' (a listing page's date line, with upvotes).
# Counts are capped at 9 digits: a longer run is not metadata, and int() would refuse it.
DATE_LINE = re.compile(r"^([A-Z][a-z]{2})\s+(\d{1,2})(?:,\s*(\d{4}))?(?:\s+(\d{1,9}))?$")


def resolve_day(month: int, day: int, year: int | None, reference: dt.date) -> str:
    """ISO date, '' for an impossible one ('Feb 31'); a date without a year (listing pages omit
    this year's) is the latest such day on or before ``reference``."""
    for candidate in [year] if year is not None else range(reference.year, reference.year - 8, -1):
        try:
            date = dt.date(candidate, month, day)
        except ValueError:
            continue
        if year is not None or date <= reference:
            return date.isoformat()
    return ""


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_TEXT_DATE = re.compile(r"^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Z][a-z]{2})[a-z]*\s+(\d{4})")


@functools.lru_cache(maxsize=4_096)  # a dump repeats few distinct dates
def parse_date(text: str, reference: dt.date) -> str:
    """ISO date from '2024-03-15[...]', 'Mar 15, 2024', 'Mar 15', 'Mon, 2 Apr 2007 ...'; else ''."""
    text = text.strip()
    if match := _ISO_DATE.match(text):
        return resolve_day(int(match[2]), int(match[3]), int(match[1]), reference)
    if (match := DATE_LINE.match(text)) and (month := MONTHS.get(match[1])):
        return resolve_day(month, int(match[2]), int(match[3]) if match[3] else None, reference)
    if (match := _TEXT_DATE.match(text)) and (month := MONTHS.get(match[2][:3])):
        return resolve_day(month, int(match[1]), int(match[3]), reference)
    return ""


def today() -> dt.date:
    """Today in UTC, the calendar arXiv dates its papers by."""
    return dt.datetime.now(dt.UTC).date()
