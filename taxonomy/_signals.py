"""Ctrl-C, SIGTERM and SIGHUP unwind a run, except inside an import or a section that must not
be cut in two (starting worker processes): there the signal waits until it is over."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

HANDLED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name))
_deferring = 0
_pending: list[int] = []
_resending: set[int] = set()  # signals caught inside an import, to be sent again


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived (from timeout, Slurm, docker stop, a closed terminal): the
    run unwinds like Ctrl-C, so temp files are removed and workers stopped."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def terminate(signum: int, frame: FrameType | None) -> None:
    """The handler for SIGINT (KeyboardInterrupt), SIGTERM and SIGHUP (Terminated)."""
    if _deferring:
        _pending.append(signum)
        return
    if _importing(frame):
        # An extension module cut in the middle of its initialization can crash the
        # interpreter later (numpy's does, with a segfault at exit): send it again soon,
        # once however often it came, and not at all if the run ends first.
        if signum not in _resending:
            _resending.add(signum)
            timer = threading.Timer(0.05, _send_again, (signum,))
            timer.daemon = True
            timer.start()
        return
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    signal.signal(signum, signal.SIG_IGN)  # a second signal must not cut the clean-up short
    raise Terminated(signum)


def _send_again(signum: int) -> None:
    _resending.discard(signum)
    os.kill(os.getpid(), signum)


def _importing(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold the signals until the block ends, then act on them."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _pending:
            terminate(_pending.pop(), None)


def stopped(exc: KeyboardInterrupt | Terminated) -> int:
    """Say in one line that Ctrl-C or a signal stopped the run; its exit code."""
    if isinstance(exc, Terminated):
        what, code = f"stopped by {signal.Signals(exc.signum).name}", 128 + exc.signum
    else:
        what, code = "interrupted", 130
    print(f"taxonomy: {what}; existing outputs were left as they were", file=sys.stderr)
    return code
