"""`python -m taxonomy` and the `taxonomy` command's entry point.

The signal handlers go in before the command line's imports (scikit-learn, pandas, pyarrow:
about a second), so that a Ctrl-C or SIGTERM in that second ends the run with its one line
and exit code, not a traceback or a bare kill.
"""

import signal
import sys

from taxonomy._signals import HANDLED, Terminated, stopped, terminate


def main() -> int:
    for signum in HANDLED:
        signal.signal(signum, terminate)
    try:
        from taxonomy.cli import main as run
    except (KeyboardInterrupt, Terminated) as exc:
        return stopped(exc)
    return run()


if __name__ == "__main__":  # worker processes re-import this module; only the parent runs
    sys.exit(main())
