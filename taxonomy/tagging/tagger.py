"""Tagging papers with the model: one :class:`Tagger` for papers in memory and for dumps of
any size, one row per paper (categories, scores, terms behind them, hand or model)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import paths
from ..errors import OutputError
from ..io.atomic import exclusive
from ..io.fields import from_fields
from ..io.papers import chunked, learn_repeats
from ..io.readers import check_inputs, read_papers
from ..io.readlog import ReadLog
from ..io.records import Deduplicator, Paper, arxiv_id, own_id, title_key
from ..io.writers import TableWriter, refuse_inputs
from ..labels.categories import load_taxonomy
from ..labels.indicator import from_indicator, join_labels
from ..labels.labelfile import load_labels
from ..model.artifact import LoadedModel, load_model
from .executors import Executor, Processes
from .hand import HandLabels
from .scoring import Chunk, score_chunk

if TYPE_CHECKING:
    import pandas as pd

    from ..model.estimator import EfficiencyClassifier

# Papers scored at a time. Per-chunk work (each distinct word's tokens and n-grams) shrinks
# per paper as chunks grow, but at 200k abstracts on 2 cores 4,000 took 2% less CPU than
# 2,000 (within the noise) for 150 MB more in the process tree (855 MB against 701).
CHUNK = 2_000
# About how many bytes one paper takes in a dump (arXiv's metadata snapshot as JSON Lines).
_BYTES_PER_PAPER = 1_600
# The fields of a paper a tagged row shows or is scored from.
_TAGGED = ("id", "title", "abstract", "date", "url")


def tag_columns(category_ids: Sequence[str]) -> list[str]:
    """Columns of a tagged table, in order."""
    return ["id", "title", "date", "labels", *[f"score_{c}" for c in category_ids],
            "top_terms", "source", "url", "model", "model_version"]


@dataclass
class TagResult:
    """What a run tagged: papers, how many by hand label, per-category counts, skips."""

    papers: int = 0
    by_hand: int = 0
    already: int = 0
    log: ReadLog = field(default_factory=ReadLog)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, rows: dict[str, Any]) -> None:
        """Count tagged rows that were written (columns by name)."""
        self.papers += len(rows["id"])
        self.by_hand += rows["source"].count("hand")
        # A chunk holds few distinct label sets: each is split once.
        for labels, times in Counter(rows["labels"]).items():
            for label in labels.split(";") if labels else ():
                self.counts[label] = self.counts.get(label, 0) + times


class Existing:
    """What an ``--only-new`` target holds (learned while the writer copies it), checked to
    come from this model; its rows take the metadata this run's repeats bring."""

    def __init__(self, path: str | os.PathLike, model: LoadedModel, allow_mixed_models: bool,
                 dedupe: Deduplicator):
        self.path, self.model, self.allow_mixed = path, model, allow_mixed_models
        self.columns = tag_columns(model.state.category_ids)
        self.ids: set[str] = set()
        self.titles: set[str] = set()
        self.dedupe = dedupe

    def holds(self, paper: Paper) -> bool:
        """Whether the table holds this paper: one of its arXiv ids, or one of its titles."""
        return (paper.id in self.ids and bool(arxiv_id(paper.id))) or (
            bool(self.titles) and title_key(paper.title) in self.titles)

    def __call__(self, columns: list[str], rows: list[dict]) -> dict[int, dict]:
        if columns != self.columns:
            raise OutputError(_schema_problem(columns, self.columns), self.path)
        for row in rows:
            key = title_key(str(row.get("title") or ""))
            self.ids.add(str(row.get("id")))
            if key:
                self.titles.add(key)
        if not self.allow_mixed:
            versions = {str(v) for row in rows
                        if (v := row.get("model_version")) is not None} - {"", self.model.version}
            if versions:
                raise OutputError(
                    f"holds rows tagged by model version {sorted(versions)[0]}, but this run "
                    f"uses {self.model.name} {self.model.version}; tag into a new file with "
                    "-o, or pass --allow-mixed-models to append anyway", self.path)
        return {i: fixed for i, row in enumerate(rows)
                if (fixed := self.dedupe.updated(row)) is not row}


def _schema_problem(found: list[str], expected: list[str]) -> str:
    """Why a table's columns cannot take this model's rows, and what to do."""
    if "labels" not in found:
        return ("is not a table written by 'taxonomy tag' (it has no 'labels' column); give a "
                "tags file, or tag into a new file with -o")
    extra = [c for c in found if c not in expected]
    lacking = [c for c in expected if c not in found]
    parts = ([f"it has {', '.join(extra)}"] if extra else []) + (
        [f"it lacks {', '.join(lacking)}"] if lacking else [])
    detail = "; ".join(parts) or "its columns are in another order"
    return (f"has other columns than this model writes ({detail}), as after a change of "
            "categories; tag into a new file with -o (or re-tag its papers)")


class Tagger:
    """Tags papers with a model; hand labels, where a paper has one, win over the model.
    ``tag`` tags papers in memory; ``run`` tags dumps into a table in constant memory."""

    def __init__(self, model: str | os.PathLike | LoadedModel | EfficiencyClassifier,
                 hand: HandLabels | None = None):
        """``model``: a model file's path, a loaded model, or a fitted EfficiencyClassifier."""
        if isinstance(model, LoadedModel):
            self.model = model
        elif isinstance(model, str | os.PathLike):
            self.model = load_model(model, load_taxonomy().ids)
        elif callable(getattr(model, "export", None)):  # without importing scikit-learn here
            state = model.export()  # a fitted EfficiencyClassifier: a model without a file
            digest = hashlib.sha256()
            for array in (state.coef, state.intercept, state.cutoffs, state.calibration):
                digest.update(np.ascontiguousarray(array, dtype=np.float64).tobytes())
            version = digest.hexdigest()[:12]
            thresholds = dict(zip(state.category_ids, map(float, state.thresholds), strict=True))
            self.model = LoadedModel(state, {"name": "in-memory", "version": version,
                                             "thresholds": thresholds}, None)
        else:
            raise TypeError(f"Tagger needs a model file's path, a loaded model or a fitted "
                            f"EfficiencyClassifier, not {type(model).__name__}")
        self.hand = hand if hand is not None else HandLabels()

    @classmethod
    def load(cls, model: str | os.PathLike | None = None,
             labels: str | os.PathLike | None = None, hand_labels: bool = True) -> Tagger:
        """A model file and a labels file, each resolved as ``taxonomy.paths`` says; without
        arguments, the shipped (or ``$TAXONOMY_HOME``) model and hand labels."""
        taxonomy = load_taxonomy()
        loaded = load_model(paths.model_file(model), taxonomy.ids)
        labeled = load_labels(paths.labels_file(labels), taxonomy) if hand_labels else None
        return cls(loaded, HandLabels.from_papers(labeled))

    default = load

    @property
    def columns(self) -> list[str]:
        return tag_columns(self.model.state.category_ids)

    def tag(self, papers: pd.DataFrame | Iterable[dict[str, Any]] | Iterable[Paper]
            ) -> pd.DataFrame:
        """One tagged row per paper, in order, from a DataFrame with 'title' and 'abstract'
        columns, such dicts or :class:`Paper` records; a DataFrame's index is kept."""
        import pandas as pd

        listed = _as_papers(papers)
        columns = {name: [getattr(p, name) for p in listed] for name in _TAGGED}
        hand_rows = self.hand.lookup(columns["id"], columns["title"])
        scores, terms = score_chunk(self.model.state, columns["title"], columns["abstract"],
                                    hand_rows, self.model.feature_names)
        tagged = pd.DataFrame(self.rows(columns, scores, terms, hand_rows))  # in column order
        if isinstance(papers, pd.DataFrame):
            tagged.index = papers.index
        return tagged

    def rows(self, papers: dict[str, list], scores: np.ndarray, terms: list[str],
             hand_rows: list[list[str] | None]) -> dict[str, Any]:
        """The tagged rows of scored papers (both as columns by name)."""
        state = self.model.state
        ids = state.category_ids
        labels = _label_texts(ids, scores >= state.thresholds)
        for i, hand in enumerate(hand_rows):
            if hand is not None:
                labels[i] = join_labels(hand)
        n = len(hand_rows)
        return {
            "id": papers["id"],
            "title": papers["title"],
            "date": papers["date"],
            "labels": labels,
            # k / 10000 is the double nearest to the 4-decimal value, so every format writes
            # it the same way (np.round can land one ulp off, e.g. 0.08750000000000001).
            **{f"score_{cid}": np.rint(scores[:, j] * 10_000) / 10_000
               for j, cid in enumerate(ids)},
            "top_terms": terms,
            "source": ["hand" if h is not None else "model" for h in hand_rows],
            "url": papers["url"],
            "model": [self.model.name] * n,
            "model_version": [self.model.version] * n,
        }

    def run(
        self,
        inputs: str | os.PathLike | Sequence[str | os.PathLike],
        out: str | os.PathLike,
        *,
        executor: Executor | None = None,
        only_new: bool = False,
        allow_mixed_models: bool = False,
        progress: bool | None = None,
        reference_date: dt.date | None = None,
        fmt: str | None = None,
        encoding: str | None = None,
        chunk_size: int = CHUNK,
        on_wait: Callable[[], None] | None = None,
    ) -> TagResult:
        """Tag every unique paper in ``inputs`` (repeats once, with every copy's metadata) into
        ``out``, replaced atomically; with ``only_new``, append the papers it lacks, if its rows
        come from this model version (unless ``allow_mixed_models``). ``executor`` (default:
        worker processes) scores the chunks; runs writing one ``out`` take turns (``on_wait``)."""
        if isinstance(inputs, str | bytes | os.PathLike):
            inputs = [os.fsdecode(inputs)]
        sources = check_inputs(inputs, fmt=fmt, encoding=encoding)
        refuse_inputs(out, inputs)
        executor = executor if executor is not None else Processes()
        expect = getattr(executor, "expect", None)  # optional for executors written elsewhere
        if expect is not None:  # papers guessed from the inputs' sizes (gzip: 4 times its bytes)
            size = 0
            for source in sources:
                with contextlib.suppress(OSError):
                    size += os.path.getsize(source.path) * (4 if source.gzip else 1)
            expect(size // _BYTES_PER_PAPER // chunk_size)
        log = ReadLog()
        bar = progress_bar(progress)

        def write(dedupe: Deduplicator) -> TagResult:
            """Tag the inputs into ``out``; :class:`_Late` (and ``out`` untouched) when a repeat
            brought metadata to a row already written. ``log`` gets only the first read's skips."""
            result = TagResult(counts=dict.fromkeys(self.model.state.category_ids, 0), log=log)
            papers = read_papers(sources, log=ReadLog() if dedupe.learned else log,
                                 reference_date=reference_date, dedupe=dedupe)
            existing = Existing(out, self.model, allow_mixed_models, dedupe)
            pending: list[tuple[dict[str, list], list[list[str] | None]]] = []

            def fresh() -> Iterator[Paper]:
                for paper in papers:
                    if existing.holds(paper):
                        result.already += 1
                        continue
                    if paper.id in existing.ids:  # a different paper under an id the table holds
                        new = own_id(paper, existing.ids.__contains__)
                        log.notes.append(f"{paper.source}: id {paper.id} is also the id of a "
                                         f"different paper in {out} (another title); this one "
                                         f"is kept as {new}")
                        paper = replace(paper, id=new)
                    yield paper

            def chunks() -> Iterator[Chunk]:
                for batch in chunked(fresh(), chunk_size):
                    chunk = {name: [getattr(p, name) for p in batch] for name in _TAGGED}
                    rows = self.hand.lookup(chunk["id"], chunk["title"])
                    pending.append((chunk, rows))
                    yield (*chunk_texts(chunk["title"], chunk["abstract"]), rows)

            with TableWriter(out, append_to=out if only_new else None,
                             on_copy=existing) as writer:
                for scores, terms in executor.map(self.model, chunks()):
                    chunk, hand_rows = pending.pop(0)
                    rows = self.rows(chunk, scores, terms, hand_rows)
                    dedupe.fill(rows)
                    writer.write(rows)
                    result.add(rows)
                    if bar is not None:
                        bar.update(len(hand_rows))
                if dedupe.late:
                    raise _Late
            return result

        try:
            with exclusive(out, on_wait):
                # Write once. --only-new copies the old rows first, so what repeats bring
                # them is learned by a first read. Otherwise one read: a chunk's rows take what
                # repeats read so far brought; should a repeat bring something to a row
                # already written (rare), the file is dropped unread and tagged again with
                # everything learned.
                dedupe = learn_repeats(sources, log, reference_date) if only_new \
                    else Deduplicator()
                try:
                    result = write(dedupe)
                except _Late:
                    if bar is not None:
                        bar.reset()
                    result = write(Deduplicator(learned=dedupe))  # and the key set goes
        finally:
            executor.close()
            if bar is not None:
                bar.close()
        return result


class _Late(Exception):
    """A repeat brought metadata to a row already written."""


def _label_texts(ids: Sequence[str], assigned: np.ndarray) -> list[str]:
    """Each row's assigned categories (a papers x categories boolean matrix) joined as the
    labels column writes them; each distinct row (a chunk holds few) is joined once."""
    # Rows packed into bytes and compared as one value each: np.unique(axis=0) sorts them as
    # records of one field per category, about ten times slower per chunk.
    packed = np.ascontiguousarray(np.packbits(assigned, axis=1))
    rows = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, which = np.unique(rows, return_index=True, return_inverse=True)
    texts = [join_labels(labels) for labels in from_indicator(assigned[first], ids)]
    return [texts[k] for k in which.ravel().tolist()]


# From this many papers a chunk goes to scoring as Arrow arrays; a daily listing stays in
# lists, since loading pyarrow would cost more than it saves.
ARROW_FROM = 256


def chunk_texts(titles: list[str], abstracts: list[str]) -> tuple[Any, Any]:
    """A chunk's titles and abstracts as scoring gets them: a large chunk as two Arrow arrays
    (two buffers to pickle, not a string per paper), else (or with a lone surrogate) lists."""
    if len(titles) < ARROW_FROM:
        return titles, abstracts
    import pyarrow as pa

    try:
        return pa.array(titles, type=pa.string()), pa.array(abstracts, type=pa.string())
    except (UnicodeEncodeError, pa.ArrowException):
        return titles, abstracts


def _as_papers(papers: pd.DataFrame | Iterable[dict[str, Any]] | Iterable[Paper]
               ) -> list[Paper]:
    """Papers from a DataFrame, dicts or Paper records, normalized as the readers do."""
    import pandas as pd

    records = papers.to_dict(orient="records") if isinstance(papers, pd.DataFrame) else papers
    out: list[Paper] = []
    log = ReadLog()
    for i, record in enumerate(records, 1):
        if not isinstance(record, Paper | dict):
            raise TypeError(f"row {i} is a {type(record).__name__}; give a DataFrame, dicts "
                            "with 'title' and 'abstract', or Paper records")
        paper = record if isinstance(record, Paper) else from_fields(record, "papers", i, log)
        if paper is None:
            _, line, reason = log.skipped[-1]
            raise ValueError(f"row {line} has {reason}; every paper needs a title and an "
                             "abstract")
        out.append(paper)
    return out


def progress_bar(progress: bool | None) -> Any:
    """A tqdm bar on stderr when ``progress`` (None: when stderr is a terminal), else None."""
    if not (sys.stderr.isatty() if progress is None else progress):
        return None
    from tqdm import tqdm

    return tqdm(unit=" papers", file=sys.stderr, desc="tagging", dynamic_ncols=True)
