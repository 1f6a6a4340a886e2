"""What `taxonomy report` does: gather tagged papers (tagging raw dumps on the fly, or from a
paper store), then build and write the coverage report."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DumpError, OutputError, TaxonomyError
from ..io.readers import ReadLog, check_inputs
from ..io.readlog import _listed
from ..io.writers import TABLE_FORMATS, read_table, refuse_inputs, table_format
from ..labels.categories import Taxonomy
from ..labels.indicator import split_labels
from ..tagging.tagger import Tagger
from .figures import Report, _score_columns, build_report, texts
from .render import write_report


@dataclass
class CoverageRun:
    report: Report
    files: list[Path]
    log: ReadLog
    notes: list[str]


def is_tagged_table(path: str | os.PathLike) -> bool:
    """True for a table written by `taxonomy tag` (it has labels and score columns)."""
    if Path(path).suffix.lower() not in TABLE_FORMATS + (".json",) or not Path(path).is_file():
        return False
    try:
        first = next(iter(read_table(path, chunksize=5)), None)
    except Exception:  # not a table at all: it is a raw dump
        return False
    return first is not None and "labels" in first.columns and any(
        str(c).startswith("score_") for c in first.columns)


def load_tagged(tables: Sequence[str | os.PathLike], raw: Sequence[str | os.PathLike],
                tagger: Tagger, taxonomy: Taxonomy, log: ReadLog, encoding: str | None,
                notes: list[str]) -> pd.DataFrame:
    """Tagged ``tables`` checked row by row (see ``checked_table``) and ``raw`` dumps tagged
    now, as one table. A paper in several inputs keeps the first input's row."""
    frames = [checked_table(p, taxonomy, log, notes) for p in tables]
    if raw:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "tags.parquet"
            try:
                result = tagger.run(raw, out, progress=False, encoding=encoding)
            except OutputError as exc:
                if exc.path != str(out):
                    raise
                reason = exc.message.split("; ")[0]
                raise OutputError(f"no room to tag the dumps for the report ({reason}); "
                                  "free space there or set TMPDIR to a folder with room",
                                  tempfile.gettempdir()) from None
            log.merge(result.log)
            frames.append(pd.concat(list(read_table(out)), ignore_index=True))
    frames = [f for f in frames if len(f)]
    if not frames:
        raise DumpError("no tagged papers in the inputs; give dumps or 'taxonomy tag' outputs")
    tagged = pd.concat(frames, ignore_index=True)
    repeated = tagged["id"].astype(str).duplicated(keep="first")
    if repeated.any():
        notes.append(f"{int(repeated.sum())} paper(s) appear in more than one input; the row "
                     "of the first input is kept")
    return tagged[~repeated].reset_index(drop=True)


# A date later than this many days after today is a typing slip, not a paper's date.
_FUTURE_DAYS = 2


def checked_table(path: str | os.PathLike, taxonomy: Taxonomy, log: ReadLog,
                  notes: list[str], strict: bool = True) -> pd.DataFrame:
    """A tagged table's trusted rows: a score outside 0..1 or a repeated id skips (and logs) the
    row, a bad or future date is blanked; an unknown category is a TaxonomyError if ``strict``."""
    frame = pd.concat(list(read_table(path)), ignore_index=True)
    first_line = 2 if table_format(path) == ".csv" else 1  # CSV data starts below the header
    lines = np.arange(len(frame)) + first_line
    bad = np.zeros(len(frame), dtype=bool)
    for column in (c for c in _score_columns(taxonomy) if c in frame.columns):
        values = pd.to_numeric(frame[column], errors="coerce")
        wrong = (values.isna() | (values < 0) | (values > 1)).to_numpy(bool) & ~bad
        for i in np.flatnonzero(wrong).tolist():
            value = frame[column].iloc[i]
            shown = "empty" if pd.isna(value) else f"{value!s:.40}".join("''")
            log.skip(str(path), int(lines[i]), f"{column} is {shown}, not a number from 0 to 1")
        bad |= wrong
        frame[column] = values
    if "id" in frame.columns:
        ids = texts(frame["id"])[~bad]
        repeats = ids.duplicated()
        first = {paper: lines[row] for row, paper in ids[~repeats].items()}
        for row, paper in ids[repeats].items():
            log.skip(str(path), int(lines[row]), f"id {paper!r} repeats line {first[paper]}")
        bad[ids[repeats].index] = True
    known = set(taxonomy.ids)
    for row, text in enumerate(texts(frame["labels"])):
        unknown = [c for c in split_labels(text) if c not in known]
        if unknown and strict and not bad[row]:
            raise TaxonomyError(f"unknown category {unknown[0]!r}; tag it again with the "
                                f"current taxonomy ({', '.join(taxonomy.ids)})", path,
                                int(lines[row]))
    if "date" in frame.columns:  # ISO dates kept; anything else, or a future date, blanked
        latest = dt.date.today() + dt.timedelta(days=_FUTURE_DAYS)
        frame["date"], problems = texts(frame["date"]), {}
        for row, value in frame["date"].items():
            try:
                late = bool(value) and dt.date.fromisoformat(value[:10]) > latest
                problem = "is in the future" if late else ""
            except ValueError:
                problem = "is not a date like 2024-03-15"
            if problem:
                problems[row] = f"{path}:{lines[row]} ({value!r} {problem})"
        if problems:
            frame.loc[list(problems), "date"] = ""
            notes.append(f"treated {len(problems)} date(s) as undated: "
                         f"{_listed(list(problems.values())[:3], len(problems))}")
    return frame[~bad].reset_index(drop=True)


def run_report(inputs: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
               tagger: Tagger, taxonomy: Taxonomy,
               label_support: dict[str, int] | None = None,
               compare: str | os.PathLike | None = None,
               encoding: str | None = None, review: int = 50) -> CoverageRun:
    """Tag (when needed), summarize and write the report files into ``out_dir``. Every input
    (and the --compare table) is checked before any tagging starts; ``out_dir`` holds none."""
    for path in inputs:
        if not Path(path).exists():
            raise DumpError("no such file; check the path", path)
    _check_compare(compare)
    tables = [p for p in inputs if is_tagged_table(p)]
    raw = [p for p in inputs if p not in tables]
    check_inputs(raw, encoding=encoding)
    refuse_inputs(out_dir, [*inputs, compare] if compare is not None else inputs)
    log, notes = ReadLog(), list[str]()
    tagged = load_tagged(tables, raw, tagger, taxonomy, log, encoding, notes)
    older = checked_table(compare, taxonomy, log, notes, strict=False) if compare else None
    report = build_report(tagged, taxonomy, tagger.model.card["thresholds"],
                          label_support=label_support, compare=older, uncertain_top=review)
    return CoverageRun(report, write_report(report, out_dir), log, notes)


def run_store_report(db: str | os.PathLike, out_dir: str | os.PathLike, tagger: Tagger,
                     taxonomy: Taxonomy, label_support: dict[str, int] | None = None,
                     compare: str | os.PathLike | None = None, review: int = 50
                     ) -> tuple[CoverageRun, int]:
    """The report of every tagged paper in the store (per paper, its tag from the model in
    use, else its latest); returns the run and how many papers have no tags yet."""
    from ..store.frame import counts, tagged_frame

    _check_compare(compare)
    tagged = tagged_frame(db, taxonomy.ids, tagger.model.version)
    if tagged.empty:
        raise TaxonomyError("holds no tagged papers; run taxonomy tag --db first", db)
    untagged = counts(db)["papers"] - len(tagged)
    log, notes = ReadLog(), list[str]()
    older = checked_table(compare, taxonomy, log, notes, strict=False) if compare else None
    report = build_report(tagged, taxonomy, tagger.model.card["thresholds"],
                          label_support=label_support, compare=older, uncertain_top=review)
    return CoverageRun(report, write_report(report, out_dir), log, notes), untagged


def _check_compare(compare: str | os.PathLike | None) -> None:
    """Refuse a --compare table that is missing or that 'taxonomy tag' did not write."""
    if compare is not None and not is_tagged_table(compare):
        raise DumpError("is not a table written by 'taxonomy tag' (.csv, .jsonl or .parquet "
                        "with labels and score columns); give an older tags file"
                        if Path(compare).exists() else "no such file; check the path", compare)
