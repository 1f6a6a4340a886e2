"""Tagging dumps with the model: in chunks, across cores, in constant memory.

One row per unique paper: its categories, a score per category, the terms behind each
assigned category, and whether the labels come from a hand label or from the model.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import OutputError
from .io.papers import chunked, patch_repeats
from .io.readers import ReadLog, read_papers
from .io.records import Deduplicator, Paper, title_hash
from .io.writers import TableWriter
from .labels.indicator import join_labels
from .labels.labelfile import LabeledPapers
from .model.artifact import LoadedModel
from .scoring import score_chunk, score_in_worker

CHUNK = 2_000


def tag_columns(category_ids: list[str]) -> list[str]:
    """Columns of a tagged table, in order."""
    return ["id", "title", "date", "labels", *[f"score_{c}" for c in category_ids],
            "top_terms", "source", "url", "model", "model_version"]


@dataclass
class HandLabels:
    """Hand labels looked up by paper id or, failing that, by normalized title."""

    by_id: dict[str, list[str]] = field(default_factory=dict)
    by_title: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_papers(cls, papers: LabeledPapers | None) -> HandLabels:
        if papers is None:
            return cls()
        return cls(dict(zip(papers.ids, papers.labels, strict=True)),
                   {title_hash(t): labels for t, labels in
                    zip(papers.titles, papers.labels, strict=True)})

    def get(self, paper: Paper) -> list[str] | None:
        found = self.by_id.get(paper.id)
        return found if found is not None else self.by_title.get(title_hash(paper.title))


def tag_papers(papers: list[Paper], model: LoadedModel, hand: HandLabels) -> pd.DataFrame:
    """Tag a list of papers in this process."""
    hand_rows = [hand.get(p) for p in papers]
    scores, terms = score_chunk(model, [p.title for p in papers], [p.abstract for p in papers],
                                hand_rows)
    return _frame(papers, scores, terms, hand_rows, model)


def _frame(papers: list[Paper], scores: np.ndarray, terms: list[str],
           hand_rows: list[list[str] | None], model: LoadedModel) -> pd.DataFrame:
    state = model.state
    ids = state.category_ids
    assigned = scores >= state.thresholds
    labels = [join_labels(h) if h is not None else
              join_labels(ids[j] for j in np.flatnonzero(row))
              for h, row in zip(hand_rows, assigned, strict=True)]
    return pd.DataFrame({
        "id": [p.id for p in papers],
        "title": [p.title for p in papers],
        "date": [p.date for p in papers],
        "labels": labels,
        # k / 10000 is the double nearest to the 4-decimal value, so every format writes it
        # the same way (np.round can land one ulp off, e.g. 0.08750000000000001).
        **{f"score_{cid}": np.rint(scores[:, j] * 10_000) / 10_000 for j, cid in enumerate(ids)},
        "top_terms": terms,
        "source": ["hand" if h is not None else "model" for h in hand_rows],
        "url": [p.url for p in papers],
        "model": model.name,
        "model_version": model.version,
    })


# -- the streaming driver -------------------------------------------------------------

@dataclass
class TagResult:
    papers: int = 0
    by_hand: int = 0
    already: int = 0
    log: ReadLog = field(default_factory=ReadLog)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, frame: pd.DataFrame) -> None:
        """Count a tagged frame that was written."""
        self.papers += len(frame)
        self.by_hand += int((frame["source"] == "hand").sum())
        for labels in frame["labels"]:
            for label in labels.split(";") if labels else ():
                self.counts[label] = self.counts.get(label, 0) + 1


class Existing:
    """What an ``--only-new`` target already holds, learned while the writer copies it: its
    ids, and a check that its rows come from the model tagging now (unless mixing is allowed).
    """

    def __init__(self, path: str | os.PathLike, model: LoadedModel,
                 allow_mixed_models: bool = False):
        self.path, self.model, self.allow_mixed = path, model, allow_mixed_models
        self.ids: set[str] = set()

    def __call__(self, chunk: pd.DataFrame) -> None:
        if "id" not in chunk.columns:
            raise OutputError("has no 'id' column; is it a table written by 'taxonomy tag'?",
                              self.path)
        self.ids.update(chunk["id"].astype(str))
        if self.allow_mixed or "model_version" not in chunk.columns:
            return
        versions = set(chunk["model_version"].dropna().astype(str)) - {"", self.model.version}
        if versions:
            raise OutputError(
                f"holds rows tagged by model version {sorted(versions)[0]}, but this run uses "
                f"{self.model.name} {self.model.version}; tag into a new file with -o, or pass "
                "--allow-mixed-models to append anyway", self.path)


def tag_files(
    inputs: list[str | os.PathLike],
    out: str | os.PathLike,
    model: LoadedModel,
    hand: HandLabels,
    *,
    jobs: int = -1,
    only_new: bool = False,
    allow_mixed_models: bool = False,
    progress: bool | None = None,
    reference_date=None,
    fmt: str | None = None,
    chunk_size: int = CHUNK,
) -> TagResult:
    """Tag every unique paper in ``inputs`` into ``out``; with ``only_new``, append to ``out``
    only the papers whose ids it does not hold yet (and only if its rows come from the same
    model version, unless ``allow_mixed_models``). ``out`` is replaced atomically."""
    result = TagResult(counts=dict.fromkeys(model.state.category_ids, 0))
    dedupe = Deduplicator()
    skip: set[str] = set()
    papers = read_papers(inputs, log=result.log, reference_date=reference_date, fmt=fmt,
                         dedupe=dedupe)

    def fresh() -> Iterator[Paper]:
        for paper in papers:
            if paper.id in skip:
                result.already += 1
                continue
            yield paper

    chunks = chunked(fresh(), chunk_size)
    bar = _progress_bar(progress)
    existing = Existing(out, model, allow_mixed_models)
    with TableWriter(out, append_to=out if only_new else None, on_copy=existing) as writer:
        skip.update(existing.ids)
        for frame in _tag_chunks(chunks, model, hand, jobs):
            writer.write(frame)
            result.add(frame)
            if bar is not None:
                bar.update(len(frame))
        if dedupe.updates:
            writer.patch(lambda chunk: patch_repeats(chunk, dedupe.updates))
    if bar is not None:
        bar.close()
    return result


# Chunks tagged in this process before worker processes are started: starting them costs
# about a second, which only pays off on inputs larger than this.
_IN_PROCESS_CHUNKS = 8


def _tag_chunks(chunks: Iterable[list[Paper]], model: LoadedModel, hand: HandLabels,
                jobs: int) -> Iterator[pd.DataFrame]:
    """Tagged frames in input order: in this process for small inputs, then in parallel."""
    chunks = iter(chunks)
    n_jobs = _resolve_jobs(jobs)
    for _ in range(_IN_PROCESS_CHUNKS):
        chunk = next(chunks, None)
        if chunk is None:
            return
        yield tag_papers(chunk, model, hand)
    if n_jobs == 1:
        for chunk in chunks:
            yield tag_papers(chunk, model, hand)
        return
    from joblib import Parallel, delayed

    path, sha = str(model.path), model.card["joblib_sha256"]
    pending: list[tuple[list[Paper], list]] = []

    def tasks():
        for chunk in chunks:
            rows = [hand.get(p) for p in chunk]
            pending.append((chunk, rows))
            yield delayed(score_in_worker)(path, sha, [p.title for p in chunk],
                                           [p.abstract for p in chunk], rows)

    parallel = Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch="2*n_jobs")
    for scores, terms in parallel(tasks()):
        chunk, rows = pending.pop(0)
        yield _frame(chunk, scores, terms, rows, model)


def _resolve_jobs(jobs: int) -> int:
    cores = os.cpu_count() or 1
    return max(1, cores + 1 + jobs if jobs < 0 else min(jobs, cores))


def _progress_bar(progress: bool | None):
    show = sys.stderr.isatty() if progress is None else progress
    if not show:
        return None
    from tqdm import tqdm

    return tqdm(unit=" papers", file=sys.stderr, desc="tagging", dynamic_ncols=True)
