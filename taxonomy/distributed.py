"""Tagging on a dask.distributed cluster, for dumps too large for one machine.

The same model is applied partition by partition with dask.dataframe; each partition goes
through the same record normalization and scoring as the in-process path, so the tags are
identical. Needs the optional extra: ``pip install 'efficiency-taxonomy[dask]'``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from .errors import DumpError, TaxonomyError
from .io.fields import from_fields as paper_from_fields
from .io.jsonl import read_jsonl as read_json_lines
from .io.readlog import ReadLog
from .io.sniff import gzip_compressed, sniff_format
from .io.writers import TableWriter
from .model.artifact import LoadedModel
from .scoring import score_in_worker
from .tagging import Existing, HandLabels, TagResult, _frame, tag_columns

BLOCKSIZE = "64MB"


def _dask():
    try:
        import dask.dataframe as dd
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise TaxonomyError("--scheduler needs dask: pip install 'efficiency-taxonomy[dask]'"
                            ) from None
    return dd, Client, LocalCluster


def partitions(path: str | os.PathLike) -> list:
    """Delayed partitions of one input: lists of lines for JSONL, DataFrames for CSV/Parquet.

    JSON Lines are read as text (dask.bag) and parsed line by line inside the partition, so a
    malformed line is skipped and reported like in the in-process path instead of failing
    the whole partition, as dask.dataframe.read_json would.
    """
    dd, _, _ = _dask()
    import dask.bag as db

    path = Path(path)
    kind = sniff_format(path)
    compression = "gzip" if gzip_compressed(path) else None
    blocksize = None if compression else BLOCKSIZE
    if kind == "jsonl":
        return db.read_text(str(path), blocksize=blocksize, compression=compression,
                            encoding="utf-8", errors="replace").to_delayed()
    if kind == "csv":
        return dd.read_csv(str(path), blocksize=blocksize, compression=compression, dtype=str,
                           keep_default_na=False, on_bad_lines="skip").to_delayed()
    if kind == "parquet":
        return dd.read_parquet(str(path)).to_delayed()
    raise DumpError("the dask path reads JSONL, CSV or Parquet; convert listing pages first "
                    "with 'taxonomy parse IN -o papers.jsonl'", path)


def _tag_partition(part, source: str, model_path: str, sha256: str, hand: HandLabels,
                   skip: frozenset, meta: LoadedModel) -> tuple[pd.DataFrame, list]:
    """Normalize and tag one partition exactly as the in-process path does."""
    log = ReadLog()
    if isinstance(part, pd.DataFrame):
        rows = part.to_dict(orient="records")
        found = (paper_from_fields(row, source, i + 1, log) for i, row in enumerate(rows))
    else:
        found = read_json_lines(enumerate((line.rstrip("\n") for line in part), 1), source, log)
    papers = [p for p in found if p is not None and p.id not in skip]
    if not papers:
        return pd.DataFrame(columns=tag_columns(meta.state.category_ids)), log.skipped
    rows = [hand.get(p) for p in papers]
    scores, terms = score_in_worker(model_path, sha256, [p.title for p in papers],
                                    [p.abstract for p in papers], rows)
    return _frame(papers, scores, terms, rows, meta), log.skipped


def tag_with_dask(inputs: list[str | os.PathLike], out: str | os.PathLike, model: LoadedModel,
                  hand: HandLabels, scheduler: str, *, only_new: bool = False,
                  allow_mixed_models: bool = False) -> TagResult:
    """Tag ``inputs`` on a dask cluster ('local' or an address) and write ``out`` atomically.

    Partitions are computed in parallel on the cluster and written in input order; a paper
    whose id was already written is dropped, as in the in-process path.
    """
    _, Client, LocalCluster = _dask()
    from dask import delayed

    result = TagResult(counts=dict.fromkeys(model.state.category_ids, 0))
    if scheduler == "local":
        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        client = Client(cluster)
    else:
        cluster = None
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise TaxonomyError(f"cannot reach the dask scheduler at {scheduler} ({exc}); "
                                "check the address or use --scheduler local") from None
    try:
        columns = tag_columns(model.state.category_ids)
        existing = Existing(out, model, allow_mixed_models)
        with TableWriter(out, append_to=out if only_new else None, on_copy=existing) as writer:
            skip = frozenset(existing.ids)
            tasks = []
            for path in inputs:
                parts = partitions(path)
                for i, part in enumerate(parts):
                    # Line numbers in skip reports count from the start of each block.
                    where = str(path) if len(parts) == 1 else f"{path} (block {i + 1})"
                    tasks.append(delayed(_tag_partition)(part, where, str(model.path),
                                                         model.card["joblib_sha256"], hand,
                                                         skip, model))
            seen: set[str] = set()
            for future in client.compute(tasks):
                part, skipped = future.result()
                future.release()
                result.log.skipped.extend(skipped)
                part = part[~part["id"].isin(seen)].drop_duplicates("id")
                seen.update(part["id"])
                writer.write(part[columns])
                result.add(part)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return result
