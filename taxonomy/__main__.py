"""`python -m taxonomy` and the `taxonomy` command's entry point. The signal handlers go in
before the CLI's imports (about a second): a Ctrl-C or SIGTERM then ends in one line, too."""

import signal
import sys

from taxonomy._signals import HANDLED, Terminated, deferred, stopped, terminate


def main() -> int:
    for signum in HANDLED:
        signal.signal(signum, terminate)
    try:
        with deferred():  # a signal in these imports acts once they are done
            from taxonomy.cli import main as run
    except (KeyboardInterrupt, Terminated) as exc:
        return stopped(exc)
    return run()


if __name__ == "__main__":  # worker processes re-import this module; only the parent runs
    sys.exit(main())
