"""What `taxonomy digest` does: read the window's tagged papers (and the windows before it)
from the store, build the digest and write its folder."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import TaxonomyError
from ..io.dates import today
from ..labels.categories import Taxonomy
from ..store.frame import labels_by_day, tagged_frame, untagged_between
from .figures import Digest, Window, build_digest
from .render import write_digest

DAYS = 7


@dataclass
class DigestRun:
    digest: Digest
    files: list[Path]


def window(since: dt.date | None, until: dt.date | None, days: int | None) -> Window:
    """``since`` to ``until`` (default today, UTC), else the ``days`` (default 7) to ``until``."""
    end = until or today()
    start = since or end - dt.timedelta(days=(days or DAYS) - 1)
    if start > end:
        raise TaxonomyError(f"--since {start} is after --until {end}; swap them")
    return Window(start, end)


def run_digest(db: str | os.PathLike, out_dir: str | os.PathLike, card: dict,
               taxonomy: Taxonomy, span: Window) -> DigestRun:
    """Write the digest of the papers the store holds submitted in ``span``; ``card`` is the
    model card of the model in use (its version's tags are preferred, its thresholds say
    what is uncertain)."""
    frame = tagged_frame(db, taxonomy.ids, card["version"], since=span.since,
                         until=span.until, extra=True)
    history = labels_by_day(db, card["version"], span.first, span.until)
    missing = untagged_between(db, span.since, span.until)
    digest = build_digest(frame, history, taxonomy, card["thresholds"], span, missing)
    return DigestRun(digest, write_digest(digest, out_dir))
