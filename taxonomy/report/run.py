"""What `taxonomy report` does: gather tagged papers (tagging raw dumps on the fly), then
build and write the coverage report."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import DumpError
from ..io.readers import ReadLog, check_inputs
from ..io.writers import TABLE_FORMATS, read_table, refuse_inputs
from ..labels.categories import Taxonomy
from ..tagging.tagger import Tagger
from .figures import Report, build_report
from .render import write_report


@dataclass
class CoverageRun:
    report: Report
    files: list[Path]
    log: ReadLog


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


def load_tagged(inputs: Sequence[str | os.PathLike], tagger: Tagger, log: ReadLog,
                encoding: str | None = None) -> pd.DataFrame:
    """Tagged rows of every input: tagged tables as they are, raw dumps tagged now."""
    tables = [p for p in inputs if is_tagged_table(p)]
    raw = [p for p in inputs if p not in tables]
    frames = [pd.concat(list(read_table(p)), ignore_index=True) for p in tables]
    if raw:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "tags.parquet"
            result = tagger.run(raw, out, progress=False, encoding=encoding)
            log.skipped.extend(result.log.skipped)
            log.repeats += result.log.repeats
            frames.append(pd.concat(list(read_table(out)), ignore_index=True))
    frames = [f for f in frames if len(f)]
    if not frames:
        raise DumpError("no tagged papers in the inputs; give dumps or 'taxonomy tag' outputs")
    tagged = pd.concat(frames, ignore_index=True)
    return tagged.drop_duplicates("id", keep="first").reset_index(drop=True)


def run_report(inputs: Sequence[str | os.PathLike], out_dir: str | os.PathLike,
               tagger: Tagger, taxonomy: Taxonomy,
               label_support: dict[str, int] | None = None,
               compare: str | os.PathLike | None = None,
               encoding: str | None = None, review: int = 50) -> CoverageRun:
    """Tag (when needed), summarize and write the report files into ``out_dir``.

    Every input (and the --compare table) is checked before any tagging starts, and
    ``out_dir`` must not hold any of them.
    """
    given = [*inputs, *([compare] if compare is not None else [])]
    for path in given:
        if not Path(path).exists():
            raise DumpError("no such file; check the path", path)
    if compare is not None and not is_tagged_table(compare):
        raise DumpError("is not a table written by 'taxonomy tag' (.csv, .jsonl or "
                        ".parquet with labels and score columns); give an older tags file",
                        compare)
    check_inputs([p for p in inputs if not is_tagged_table(p)], encoding=encoding)
    refuse_inputs(out_dir, given)
    log = ReadLog()
    tagged = load_tagged(inputs, tagger, log, encoding)
    older = pd.concat(list(read_table(compare)), ignore_index=True) if compare else None
    report = build_report(tagged, taxonomy, tagger.model.card["thresholds"],
                          label_support=label_support, compare=older, uncertain_top=review)
    return CoverageRun(report, write_report(report, out_dir), log)
