"""SIGTERM and SIGHUP unwind a run like Ctrl-C does, except inside a section that must not be
cut in two (starting worker processes): there the signal waits for the section's end."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator

HANDLED = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
_deferring = 0
_pending: list[int] = []


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived (from timeout, Slurm, docker stop, a closed terminal): the
    run unwinds like Ctrl-C, so temp files are removed and workers stopped."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def terminate(signum: int, frame: object) -> None:
    """The handler for SIGTERM and SIGHUP."""
    if _deferring:
        _pending.append(signum)
        return
    signal.signal(signum, signal.SIG_IGN)  # a second signal must not cut the clean-up short
    raise Terminated(signum)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGTERM and SIGHUP until the block ends, then act on them."""
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
