"""Worker processes (loky's pool, through joblib) that die with their parent and never
litter the terminal.

A parent killed by SIGKILL cannot stop its workers, so each asks the kernel to kill it when
its parent dies (Linux ``PR_SET_PDEATHSIG``) and, everywhere, exits once its parent is gone.
Workers ignore Ctrl-C (the parent stops them) and write nothing to the terminal.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

from joblib.externals.loky import BrokenProcessPool, ProcessPoolExecutor

from ..errors import TaxonomyError

_PR_SET_PDEATHSIG = 1


class WorkerPool:
    """``processes`` workers, all started at once; call inside ``_signals.deferred()``, since
    a SIGTERM while a worker starts would leave it reading half its start-up data."""

    def __init__(self, processes: int):
        with _quiet_children():
            self._executor = ProcessPoolExecutor(processes, initializer=_start,
                                                 initargs=(os.getpid(),))
            self._executor.submit(_ready)  # the first task starts every worker

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
    try:
        yield
    except BrokenProcessPool:
        raise TaxonomyError("a worker process died (killed by the system, out of memory?); "
                            "run again, with --jobs 1 or more memory") from None


def _ready() -> None:
    """A first task that only makes the pool start its workers."""


@contextlib.contextmanager
def _quiet_children() -> Iterator[None]:
    """Processes started in this block inherit SIGINT ignored and stderr on the null device,
    so a Ctrl-C or a parent dying while a worker boots cannot make it print a traceback."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main_thread else None
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _start(parent: int) -> None:
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
