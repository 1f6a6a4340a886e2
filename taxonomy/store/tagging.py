"""Tagging the store's papers: read in batches (keyset pagination on rowid), score through an
executor so every core works, write each batch's tags in one transaction. Memory stays flat
whatever the store's size: only the batches in flight are held."""

from __future__ import annotations

import os
import sqlite3
from collections import deque
from collections.abc import Callable, Iterator

from ..tagging.executors import Executor, Processes
from ..tagging.scoring import Chunk
from ..tagging.tagger import Tagger, TagResult, chunk_texts, progress_bar
from .papers import now
from .schema import connect, guard, score_columns, transaction

BATCH = 4_000


StoreTagResult = TagResult  # what a run tagged: papers, by hand label, per category


def _candidates(retag: bool) -> str:
    """Papers to tag: those without a fresh tag from the model in use; with ``retag``, all
    (after a change of hand labels, which leaves the model version as it was)."""
    if retag:
        return "p.rowid > ?"
    return ("p.rowid > ? AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.paper_id = p.id "
            "AND t.model_version = ? AND t.stale = 0)")


def count_untagged(conn: sqlite3.Connection, model_version: str) -> int:
    """Papers that have no fresh tag from model version ``model_version``."""
    return conn.execute(f"SELECT count(*) FROM papers p WHERE {_candidates(False)}",
                        (0, model_version)).fetchone()[0]


def _batches(conn: sqlite3.Connection, version: str, retag: bool, size: int
             ) -> Iterator[tuple[list[str], list[str], list[str]]]:
    query = (f"SELECT p.rowid, p.id, p.title, p.abstract FROM papers p "
             f"WHERE {_candidates(retag)} ORDER BY p.rowid LIMIT ?")
    last = 0
    while True:
        rows = conn.execute(query, (last, size) if retag else (last, version, size)).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]


def tag_store(db: str | os.PathLike, tagger: Tagger, executor: Executor | None = None,
              retag: bool = False, batch: int = BATCH, progress: bool | None = None,
              on_batch: Callable[[StoreTagResult], None] | None = None) -> StoreTagResult:
    """Tag the store's papers that lack a fresh tag from ``tagger``'s model (every paper
    with ``retag``); hand labels win over the model."""
    model = tagger.model
    ids_ = model.state.category_ids
    executor = executor if executor is not None else Processes()
    result = StoreTagResult(counts=dict.fromkeys(ids_, 0))
    conn = connect(db, create=False)
    bar = progress_bar(progress)
    try:
        with guard(db):
            with transaction(conn):
                scores_at = score_columns(conn, ids_)
            expect = getattr(executor, "expect", None)
            if expect is not None:
                total = conn.execute("SELECT count(*) FROM papers").fetchone()[0]
                expect(total // batch)
            columns = ["paper_id", "model", "model_version", "labels", "top_terms", "source",
                       "tagged_at", "stale", *scores_at]
            insert = (f"INSERT OR REPLACE INTO tags ({', '.join(columns)}) "
                      f"VALUES ({', '.join('?' * len(columns))})")
            pending: deque = deque()

            def chunks() -> Iterator[Chunk]:
                for ids, titles, abstracts in _batches(conn, model.version, retag, batch):
                    hand = tagger.hand.lookup(ids, titles)
                    pending.append((ids, titles, hand))
                    yield (*chunk_texts(titles, abstracts), hand)

            for scores, terms in executor.map(model, chunks()):
                ids, titles, hand = pending.popleft()
                n = len(ids)
                rows = tagger.rows({"id": ids, "title": titles, "date": [""] * n,
                                    "url": [""] * n}, scores, terms, hand)
                stamp = now()
                values = zip(ids, [model.name] * n, [model.version] * n, rows["labels"],
                             rows["top_terms"], rows["source"], [stamp] * n, [0] * n,
                             *(rows[c].tolist() for c in scores_at), strict=True)
                with transaction(conn):
                    conn.executemany(insert, values)
                result.add(rows)
                if bar is not None:
                    bar.update(n)
                if on_batch is not None:
                    on_batch(result)
    finally:
        executor.close()
        conn.close()
        if bar is not None:
            bar.close()
    return result
