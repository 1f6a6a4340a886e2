"""What every command shares: common options, the --version action, loading the model and
the hand labels in use, and printing summaries."""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import sys
from collections.abc import Callable
from typing import Any

from .. import paths
from ..errors import TaxonomyError

FORMATTER = argparse.RawDescriptionHelpFormatter
MODEL_HELP = ("model file (default: $TAXONOMY_HOME/models/efficiency.joblib when it exists, "
              "else the shipped model)")
LABELS_DEFAULT = ("(default: $TAXONOMY_HOME/labels/seed.csv when it exists, else the shipped "
                  "hand labels)")
LABELS_HELP = f"labels CSV {LABELS_DEFAULT}"


class Subparsers:
    """Adds sub-commands, each with the option all commands share (-q/--quiet) and the
    handler that runs it."""

    def __init__(self, action: Any):
        self._action = action

    def add_parser(self, name: str, handler: Callable[[argparse.Namespace], int] | None = None,
                   **kwargs: Any) -> argparse.ArgumentParser:
        parser = self._action.add_parser(name, formatter_class=FORMATTER, **kwargs)
        parser.add_argument("-q", "--quiet", action="store_true",
                            help="print no progress bar and no summary; errors and warnings "
                                 "still go to stderr")
        parser.set_defaults(handler=handler)
        return parser

    def group(self, name: str, metavar: str, **kwargs: Any) -> Subparsers:
        """A command whose actions are sub-commands (`taxonomy labels check`): their adder."""
        actions = self.add_parser(name, **kwargs).add_subparsers(required=True, metavar=metavar)
        return Subparsers(actions)


class Version(argparse.Action):
    """--version (with nargs=0): the package's version and where it runs from, and the
    default model's."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from .. import __version__
        from ..model.artifact import read_card

        try:
            path = paths.model_file()
            card = read_card(path) or {}
            model = f"model {card['name']} {card['version']} ({paths.shown(path)})"
        except (TaxonomyError, KeyError) as exc:
            model = f"model: none usable ({exc})"
        print(f"taxonomy {__version__} ({paths.package_dir()})\n{model}")
        parser.exit()


def date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-22") from None


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_read_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reference-date", type=date, metavar="YYYY-MM-DD",
        help="resolve dates shown without a year ('Mar 19') to the latest such day on or "
             "before this date (default: today)")
    parser.add_argument("--format", dest="fmt", choices=("listing", "jsonl", "csv"),
                        help="input format (default: recognised from each file's content)")
    parser.add_argument("--encoding", metavar="NAME",
                        help="text encoding of the inputs, e.g. latin-1 or cp1252 (default: "
                             "UTF-8, or UTF-16/UTF-32 when the file starts with their mark)")


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help=MODEL_HELP)
    parser.add_argument("--labels", help=f"hand labels that win over the model {LABELS_DEFAULT}")
    parser.add_argument("--no-hand-labels", "--model-only", action="store_true",
                        help="ignore hand labels: every row's labels come from the model")


def taxonomy_and_labels(path: str | None) -> tuple[Any, Any]:
    """The taxonomy in use and a labels file (``path``, else the hand labels in use)."""
    from ..labels.categories import load_taxonomy
    from ..labels.labelfile import load_labels

    taxonomy = load_taxonomy()
    return taxonomy, load_labels(paths.labels_file(path), taxonomy)


def load_model(path: str | None) -> Any:
    from ..labels.categories import load_taxonomy
    from ..model.artifact import load_model as load

    return load(paths.model_file(path), load_taxonomy().ids)


def tagger(args: argparse.Namespace) -> Any:
    """A Tagger for --model, --labels and --no-hand-labels."""
    from ..tagging.tagger import Tagger

    return Tagger.load(args.model, args.labels, hand_labels=not args.no_hand_labels)


def waiting_for(path: str) -> Callable[[], None]:
    """What to print when another run holds the file this one wants to write."""
    return functools.partial(print, f"taxonomy: waiting for another run that is writing "
                             f"{path} ...", file=sys.stderr)


def say(args: argparse.Namespace, text: str) -> None:
    """Print a summary unless -q/--quiet."""
    if not args.quiet:
        print(text)


def report_skipped(log: Any) -> None:
    for note in log.notes:
        print(f"warning: {note}", file=sys.stderr)
    if summary := log.summary():  # skipped records, cut ones, or both
        print(f"warning: {summary}", file=sys.stderr)
