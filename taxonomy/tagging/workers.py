"""Worker processes that die with their parent.

A tagging run killed by SIGKILL (or the OOM killer) cannot stop its workers, so each worker
asks the kernel to kill it when its parent dies (Linux ``PR_SET_PDEATHSIG``) and, everywhere,
watches its parent and exits once it is gone. Workers ignore Ctrl-C: the parent handles it and
stops them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import sys
import threading
import time
from typing import Any

_PR_SET_PDEATHSIG = 1


def pool(processes: int) -> Any:
    """A process pool (spawned, so no lock or thread of the parent is copied) whose workers
    die with this process."""
    context = multiprocessing.get_context("spawn")
    return context.Pool(processes, initializer=_start, initargs=(os.getpid(),))


def _start(parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
