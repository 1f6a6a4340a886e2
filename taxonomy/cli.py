"""The `taxonomy` command: parses arguments, calls the library, prints. Nothing else."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable

from . import paths
from .errors import TaxonomyError

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def _command(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    _COMMANDS[func.__name__.removeprefix("cmd_")] = func
    return func


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-22") from None


def _add_read_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reference-date", type=_date, metavar="YYYY-MM-DD",
        help="resolve dates shown without a year ('Mar 19') to the latest such day on or "
             "before this date (default: today)")
    parser.add_argument("--format", dest="fmt", choices=("listing", "jsonl", "csv"),
                        help="input format (default: recognised from each file's content)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taxonomy",
        description="Tag machine-learning papers with the training-efficiency categories "
                    "they contribute to, and report coverage per category.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser(
        "parse", formatter_class=fmt, help="read abstract dumps into one table of unique papers",
        description="Read abstract dumps (listing pages, JSONL, CSV, gzipped or not) and write "
                    "one row per unique paper.\n\nexample:\n"
                    "  taxonomy parse data/dumps/*.txt -o papers.jsonl")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", help="write .csv, .jsonl or .parquet (default: a table "
                                          "on the terminal)")
    _add_read_options(p)
    return parser


@_command
def cmd_parse(args: argparse.Namespace) -> int:
    from .parse import parse_papers, parse_to_file

    if args.output:
        log = parse_to_file(args.inputs, args.output, reference_date=args.reference_date,
                            fmt=args.fmt)
        print(f"wrote {log.papers} papers to {args.output}"
              + (f" ({log.repeats} repeats merged)" if log.repeats else ""))
    else:
        papers, log = parse_papers(args.inputs, reference_date=args.reference_date, fmt=args.fmt)
        print(f"{'id':<14} {'date':<10} title")
        for paper in papers:
            print(f"{paper.id:<14} {paper.date or '-':<10} {_clip(paper.title, 70)}")
        print(f"{len(papers)} papers" + (f" ({log.repeats} repeats merged)" if log.repeats
                                         else ""))
    _report_skipped(log)
    return 0


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _report_skipped(log) -> None:
    if log.skipped:
        print(f"warning: {log.summary()}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _COMMANDS[args.command.replace("-", "_")](args)
    except TaxonomyError as exc:
        print(f"taxonomy: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("taxonomy: interrupted; existing outputs were left as they were", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0


_ = paths  # default locations are read by the commands that need them
