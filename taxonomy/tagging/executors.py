"""Where chunks are scored: in this process, in worker processes (joblib), or on a dask
cluster. Every executor returns results in input order, so reading, deduplication, hand
labels and writing stay in one flow (``Tagger.run``) and the output is the same whichever runs.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import numpy as np

from ..errors import TaxonomyError
from ..model.artifact import LoadedModel
from .scoring import Chunk, score_chunk, score_in_worker

Scored = tuple[np.ndarray, list[str]]


class Executor(Protocol):
    """Scores chunks and yields their results in input order."""

    def map(self, model: LoadedModel, chunks: Iterable[Chunk]) -> Iterator[Scored]: ...

    def close(self) -> None: ...


class InProcess:
    """Scores every chunk in this process."""

    def map(self, model: LoadedModel, chunks: Iterable[Chunk]) -> Iterator[Scored]:
        for titles, abstracts, hand in chunks:
            yield score_chunk(model.state, titles, abstracts, hand, model.feature_names)

    def close(self) -> None:
        pass


class Processes:
    """Scores in this process first, then across worker processes (joblib) once the input
    has more than ``warmup`` chunks: starting workers costs about a second, which only pays
    off on larger inputs. Workers load the model file once and check its sha256."""

    def __init__(self, jobs: int = -1, warmup: int = 8):
        self.jobs, self.warmup = jobs, warmup

    def map(self, model: LoadedModel, chunks: Iterable[Chunk]) -> Iterator[Scored]:
        chunks = iter(chunks)
        here = InProcess()
        for _ in range(self.warmup):
            chunk = next(chunks, None)
            if chunk is None:
                return
            yield from here.map(model, [chunk])
        n_jobs = resolve_jobs(self.jobs)
        if n_jobs == 1 or model.path is None:
            yield from here.map(model, chunks)
            return
        from joblib import Parallel, delayed

        path, sha = str(model.path), model.card["joblib_sha256"]
        parallel = Parallel(n_jobs=n_jobs, return_as="generator", pre_dispatch="2*n_jobs")
        yield from parallel(delayed(score_in_worker)(path, sha, *chunk) for chunk in chunks)

    def close(self) -> None:
        pass


def resolve_jobs(jobs: int) -> int:
    """Worker count: ``jobs`` if positive (at most the cores), else cores + 1 + jobs."""
    cores = os.cpu_count() or 1
    return max(1, cores + 1 + jobs if jobs < 0 else min(jobs, cores))


class Dask:
    """Scores on a dask.distributed cluster: 'local' starts a LocalCluster here, an address
    (tcp://host:8786) joins a running one. The model's scoring state is sent to every worker
    once; chunks are submitted a few at a time per worker. Needs the ``[dask]`` extra."""

    def __init__(self, scheduler: str):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise TaxonomyError("--scheduler needs dask: pip install "
                                "'efficiency-taxonomy[dask]'") from None
        self.cluster: Any = None
        if scheduler == "local":
            self.cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1,
                                        processes=True, dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            try:
                self.client = Client(scheduler, timeout="20s")
            except OSError as exc:
                raise TaxonomyError(f"cannot reach the dask scheduler at {scheduler} ({exc}); "
                                    "check the address or use --scheduler local") from None

    def map(self, model: LoadedModel, chunks: Iterable[Chunk]) -> Iterator[Scored]:
        state = self.client.scatter(model.state, broadcast=True)
        window = 2 * max(1, len(self.client.scheduler_info().get("workers", {})))
        pending: deque = deque()
        for chunk in chunks:
            pending.append(self.client.submit(score_chunk, state, *chunk, pure=False))
            if len(pending) >= window:
                yield _result(pending.popleft())
        while pending:
            yield _result(pending.popleft())

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _result(future: Any) -> Scored:
    scores, terms = future.result()
    future.release()
    return scores, terms
