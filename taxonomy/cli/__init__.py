"""The `taxonomy` command: parses arguments, calls the library, prints. Nothing else.

Each command group registers its sub-commands and handlers in its own module (parse, tag,
report, model, labels); ``_common`` holds what they share.
"""

from __future__ import annotations

import argparse
import sys

from .. import paths
from ..errors import TaxonomyError
from . import labels, model, parse, report, tag
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
    parser.add_argument("--version", action=Version,
                        help="show the version, where it runs from and the default model")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true",
                        help="print no progress bar and no summary; errors and warnings "
                             "still go to stderr")
    sub = Subparsers(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"),
                     common)
    parse.register(sub)
    labels.register(sub, common)
    model.register(sub)
    tag.register(sub)
    report.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except TaxonomyError as exc:
        print(f"taxonomy: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("taxonomy: interrupted; existing outputs were left as they were", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
