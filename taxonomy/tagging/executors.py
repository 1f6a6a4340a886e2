"""Where chunks are scored: in this process, in worker processes (loky's pool, through
joblib), or on a dask cluster; in input order, so the output is the same whichever runs."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import re
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, Protocol

import numpy as np

from .._signals import deferred
from ..errors import TaxonomyError
from ..model.artifact import LoadedModel
from .scoring import Chunk, score_chunk, score_in_worker

Scored = tuple[np.ndarray, list[str]]


class Executor(Protocol):
    """Scores chunks and yields their results in input order. It may also have
    ``expect(chunks: int)``: a guess of how many chunks ``map`` will get, given before it."""

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
    """Scores the first ``warmup`` chunks here (workers take a second to start), the rest on
    a :class:`WorkerPool` (at once if more are expected); ``close`` stops it. ``jobs``
    workers if positive (at most the cores), else cores + 1 + ``jobs``."""

    def __init__(self, jobs: int = -1, warmup: int = 4):
        cores = os.cpu_count() or 1
        self.jobs = max(1, cores + 1 + jobs if jobs < 0 else min(jobs, cores))
        self.warmup = warmup
        self._pool: Any = None

    def expect(self, chunks: int) -> None:
        if chunks > self.warmup:
            self.warmup = 0

    def map(self, model: LoadedModel, chunks: Iterable[Chunk]) -> Iterator[Scored]:
        chunks = iter(chunks)
        for _ in range(self.warmup):
            chunk = next(chunks, None)
            if chunk is None:
                return
            yield from InProcess().map(model, [chunk])
        if self.jobs == 1 or model.path is None:
            yield from InProcess().map(model, chunks)
            return
        if self._pool is None:  # started before the next chunk is read; one for every map
            with deferred():
                self._pool = WorkerPool(self.jobs)
        path, sha = str(model.path), model.card["joblib_sha256"]
        pending: deque = deque()
        for chunk in chunks:
            pending.append(self._pool.submit(score_in_worker, path, sha, *chunk))
            if len(pending) >= 2 * self.jobs:
                yield self._pool.result(pending.popleft())
        while pending:
            yield self._pool.result(pending.popleft())

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None


_PR_SET_PDEATHSIG = 1


class WorkerPool:
    """``processes`` workers, all started at once, that die with this process and never litter
    the terminal; make it inside ``_signals.deferred()`` (a SIGTERM would half start one)."""

    def __init__(self, processes: int):
        from joblib.externals.loky import ProcessPoolExecutor  # half a second to import

        # The workers inherit SIGINT ignored and stderr on the null device, so a Ctrl-C or a
        # parent dying while one boots cannot make it print a traceback.
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main_thread else None
        sys.stderr.flush()
        saved = os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        try:
            self._executor = ProcessPoolExecutor(processes, initializer=_start,
                                                 initargs=(os.getpid(),))
            self._executor.submit(int)  # the first task, doing nothing, starts every worker
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            os.close(null)
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        with _one_line_if_a_worker_died():
            return self._executor.submit(fn, *args)

    @staticmethod
    def result(future: Future) -> Any:
        with _one_line_if_a_worker_died():
            return future.result()

    def terminate(self) -> None:
        """Stop every worker now, running tasks included, and wait until they are gone."""
        self._executor.shutdown(wait=True, kill_workers=True)


@contextlib.contextmanager
def _one_line_if_a_worker_died() -> Iterator[None]:
    from joblib.externals.loky import BrokenProcessPool

    try:
        yield
    except BrokenProcessPool:
        raise TaxonomyError("a worker process died (killed by the system, out of memory?); "
                            "run again, with --jobs 1 or more memory") from None


def _start(parent: int) -> None:
    """A parent killed by SIGKILL cannot stop its workers, so each asks the kernel to kill it
    when its parent dies (Linux ``PR_SET_PDEATHSIG``) and, everywhere, exits once it is gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), daemon=True).start()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


class Dask:
    """Scores on a dask.distributed cluster: 'local' starts a LocalCluster here, an address
    (tcp://host:8786) joins a running one. Needs the ``[dask]`` extra."""

    def __init__(self, scheduler: str):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise TaxonomyError("--scheduler needs dask: pip install "
                                "'efficiency-taxonomy[dask]'") from None
        self.cluster: Any = None
        if scheduler == "local":
            # silence_logs: workers stopped with the run would each log their cancelled task.
            self.cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1,
                                        processes=True, dashboard_address=None,
                                        silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        else:
            self.client = _connect(Client, scheduler)

    def map(self, model: LoadedModel, chunks: Iterable[Chunk]) -> Iterator[Scored]:
        state = self.client.scatter(model.state, broadcast=True)
        window = 2 * max(1, len(self.client.scheduler_info().get("workers", {})))
        pending: deque = deque()
        for chunk in chunks:
            pending.append(self.client.submit(score_chunk, state, *chunk, pure=False))
            if len(pending) >= window:
                yield pending.popleft().result()  # a future dropped is released
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


_ADDRESS = re.compile(r"^(?:(tcp|tls)://)?(\[[0-9a-fA-F:]+\]|[^:/\s]+):(\d{1,5})$")
# How long a scheduler may take to answer: one that does not speak first within this time is
# not a dask scheduler (an HTTP server, say, waits for a request forever).
_HANDSHAKE_SECONDS = 5.0
_CONNECT_SECONDS = 20.0


def _connect(client: Any, address: str) -> Any:
    """A dask Client for ``address``, or a one-line error saying what is wrong with it."""
    match = _ADDRESS.match(address.strip())
    if match is None:
        raise TaxonomyError(f"--scheduler {address!r} is not 'local' or an address like "
                            "tcp://host:8786")
    if match[1] != "tls":
        _probe(match[2].strip("[]"), int(match[3]), address)
    found: dict[str, Any] = {}

    def connect() -> None:
        try:
            found["client"] = client(address, timeout=f"{_CONNECT_SECONDS:g}s")
        except Exception as exc:  # dask raises many types for a peer that is not a scheduler
            found["error"] = exc

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(_CONNECT_SECONDS + 5)
    if "client" in found:
        return found["client"]
    why = type(found["error"]).__name__ if "error" in found else "no answer"
    raise TaxonomyError(f"no dask scheduler answers at {address} ({why}); check the address, "
                        "or use --scheduler local")


def _probe(host: str, port: int, address: str) -> None:
    """Fail fast when nothing listens at the address or what listens is not a scheduler."""
    try:
        with socket.create_connection((host, port), timeout=_CONNECT_SECONDS) as sock:
            sock.settimeout(_HANDSHAKE_SECONDS)
            try:
                sock.recv(1)
            except TimeoutError:
                raise TaxonomyError(
                    f"{address} answers but is not a dask scheduler (it sent no handshake "
                    f"within {_HANDSHAKE_SECONDS:g} s); check the port, or use --scheduler "
                    "local") from None
    except OSError as exc:
        raise TaxonomyError(f"cannot reach the dask scheduler at {address} "
                            f"({exc.strerror or type(exc).__name__}); check the address, or "
                            "use --scheduler local") from None
