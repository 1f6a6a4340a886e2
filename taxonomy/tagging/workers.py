"""Worker processes that die with their parent and never litter the terminal.

A tagging run killed by SIGKILL (or the OOM killer) cannot stop its workers, so each worker
asks the kernel to kill it when its parent dies (Linux ``PR_SET_PDEATHSIG``) and, everywhere,
watches its parent and exits once it is gone. Workers ignore Ctrl-C (the parent handles it
and stops them) and write nothing to the terminal: a task's error travels back to the parent,
and a worker that dies makes the pool fail with one clear error instead of hanging.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import process as futures_process
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..errors import TaxonomyError

_PR_SET_PDEATHSIG = 1


class WorkerPool:
    """``processes`` spawned workers (no lock or thread of the parent is copied), all started
    at once; call inside ``_signals.deferred()``, since a SIGTERM while a worker starts would
    leave it reading half its start-up data."""

    def __init__(self, processes: int):
        with _quiet_children():
            self._executor = ProcessPoolExecutor(
                processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start, initargs=(os.getpid(),))
            for _ in range(processes):  # each submit starts a worker, inside this section
                self._executor.submit(_ready)

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        return self._executor.submit(fn, *args)

    @staticmethod
    def result(future: Future) -> Any:
        try:
            return future.result()
        except BrokenProcessPool:
            raise TaxonomyError("a worker process died (killed by the system, out of memory?); "
                                "run again, with --jobs 1 or more memory") from None

    def terminate(self) -> None:
        """Stop every worker now, running tasks included."""
        processes = list(getattr(self._executor, "_processes", {}).values())
        # Taken before shutdown(), which drops the executor's reference to it.
        manager = getattr(self._executor, "_executor_manager_thread", None)
        self._executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # the executor has no public way to stop running tasks
            process.terminate()
        for process in processes:
            process.join(5)
        # Let the executor's manager thread finish closing its wake-up pipe now: left running,
        # it can close the pipe while the interpreter's exit hook writes to it (EBADF, printed
        # as a traceback on the way out). And take this finished pool off the hook's list, in
        # case the thread outlasts the wait (a large chunk still being flushed).
        if manager is not None:
            manager.join(5)
            wakeups = getattr(futures_process, "_threads_wakeups", None)
            if wakeups is not None:
                wakeups.pop(manager, None)


def _ready() -> None:
    """A first task that only makes the pool start its workers."""


@contextlib.contextmanager
def _quiet_children() -> Iterator[None]:
    """Processes started in this block inherit SIGINT ignored (a new Python keeps that) and
    stderr on the null device, so a Ctrl-C or a parent that dies while a worker boots cannot
    make it print a traceback."""
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
