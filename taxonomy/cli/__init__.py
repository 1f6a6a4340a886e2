"""The `taxonomy` command: parses arguments, calls the library, prints. Nothing else. Each
command group registers its sub-commands in its own module; ``_common`` holds what they share."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading

from .. import paths
from .._signals import HANDLED, Terminated, stopped, terminate
from ..errors import TaxonomyError
from . import digest, fetch, model, review, tag
from ._common import Subparsers, Version


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taxonomy",
        description="Tag machine-learning papers with the training-efficiency categories "
                    "they contribute to, and report coverage per category.",
        epilog=f"Defaults: the shipped model, hand labels and bundled dumps; a project "
               f"directory in ${paths.HOME_VARIABLE} (holding models/, labels/) overrides "
               f"them, and --model / --labels override both.",
    )
    parser.add_argument("--version", action=Version, nargs=0,
                        help="show the version, where it runs from and the default model")
    sub = Subparsers(parser.add_subparsers(required=True, metavar="COMMAND"))
    for register in (tag.register_parse, review.register_labels, model.register,
                     tag.register_tag, tag.register_report, review.register_review,
                     fetch.register, digest.register):
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Arrow's default allocator keeps memory it freed: with the system one a large tagging
    # run's process tree peaks about 90 MB lower, as fast. Worker processes inherit it.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, terminate) for s in HANDLED} if in_main_thread else {}
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except TaxonomyError as exc:
        print(f"taxonomy: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except (KeyboardInterrupt, Terminated) as exc:
        return stopped(exc)
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except OSError as exc:  # anything the library did not turn into a TaxonomyError
        where = f"{exc.filename}: " if exc.filename else ""
        advice = _ADVICE.get(exc.errno or 0, "check the file and the disk, then run again")
        print(f"taxonomy: error: {where}{(exc.strerror or str(exc)).lower()}; {advice}",
              file=sys.stderr)
        return 2
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


_ADVICE = {
    errno.ENOSPC: "free space or write elsewhere", errno.EDQUOT: "free space or write elsewhere",
    errno.EFBIG: "the file grew past a size limit; write elsewhere or raise the limit",
    errno.EACCES: "choose a location you may write, or fix its permissions",
    errno.EPERM: "choose a location you may write, or fix its permissions",
    errno.EROFS: "the file system is read-only; write elsewhere",
    errno.ENOENT: "check the path", errno.EISDIR: "give a file, not a folder",
    errno.ENOTDIR: "check the path",
}
