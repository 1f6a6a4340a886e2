"""`taxonomy update`: the one command for cron. Fetch what arXiv has new since the last run,
tag what is new or stale, and write the digest. Run again, it fetches only what is new and
writes the same digest."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass

from ..fetch.run import FetchResult, fetch_arxiv
from ..labels.categories import Taxonomy
from ..store.tagging import StoreTagResult, tag_store
from ..tagging.executors import Executor
from ..tagging.tagger import Tagger
from .run import DigestRun, run_digest, window


@dataclass
class UpdateResult:
    fetched: FetchResult
    tagged: StoreTagResult
    digest: DigestRun


def update(db: str | os.PathLike, category: str, out_dir: str | os.PathLike, tagger: Tagger,
           taxonomy: Taxonomy, days: int | None = None, api_url: str | None = None,
           executor: Executor | None = None, today: dt.date | None = None,
           on_wait: Callable[[], None] | None = None) -> UpdateResult:
    """Fetch ``category`` into the store since the last fetch, tag, write the digest of the
    last ``days`` days into ``out_dir``."""
    fetched = fetch_arxiv(db, category, until=today, api_url=api_url, on_wait=on_wait)
    tagged = tag_store(db, tagger, executor, progress=False)
    span = window(None, today, days)
    return UpdateResult(fetched, tagged, run_digest(db, out_dir, tagger.model.card, taxonomy, span))
