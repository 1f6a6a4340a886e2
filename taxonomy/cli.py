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

    p = sub.add_parser("labels", help="check and review hand labels")
    labels = p.add_subparsers(dest="labels_command", required=True, metavar="ACTION")
    q = labels.add_parser(
        "check", formatter_class=fmt, help="validate a labels file and print category support",
        description="Validate a labels file against the taxonomy and print per-category "
                    "support.\n\nexample:\n  taxonomy labels check labels/seed.csv")
    q.add_argument("path", nargs="?", help="labels CSV (default: labels/seed.csv)")
    q = labels.add_parser(
        "agree", formatter_class=fmt, help="inter-annotator agreement of two label passes",
        description="Per-category Cohen's kappa between two annotators' passes, and every "
                    "paper they disagree on.\n\nexample:\n  taxonomy labels agree "
                    "labels/passes/first_pass.csv labels/passes/second_pass.csv")
    q.add_argument("first")
    q.add_argument("second")
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


@_command
def cmd_labels(args: argparse.Namespace) -> int:
    from .categories import load_taxonomy
    from .labels import MIN_SUPPORT, agreement, check_labels, read_label_column, support

    taxonomy = load_taxonomy()
    if args.labels_command == "agree":
        result = agreement(read_label_column(args.first, taxonomy),
                           read_label_column(args.second, taxonomy), taxonomy)
        print(f"{result.papers} papers labeled twice")
        print(f"{'category':<20} {'first':>6} {'second':>6} {'kappa':>6}")
        for cid in taxonomy.ids:
            a, b = result.positives[cid]
            print(f"{cid:<20} {a:>6} {b:>6} {result.kappa[cid]:>6.3f}")
        print(f"{len(result.disagreements)} papers differ:")
        for paper_id, first, second in result.disagreements:
            print(f"  {paper_id}: {';'.join(first) or '(none)'} | {';'.join(second) or '(none)'}")
        return 0
    path = args.path or paths.labels_file()
    papers, problems = check_labels(path, taxonomy)
    for problem in problems:
        print(problem, file=sys.stderr)
    counts = support(papers, taxonomy)
    print(f"{len(papers)} labeled papers in {path}")
    print(f"{'category':<20} {'papers':>6}")
    for cid, n in counts.items():
        flag = f"  (fewer than {MIN_SUPPORT}: too few to train reliably)" if n < MIN_SUPPORT else ""
        print(f"{cid:<20} {n:>6}{flag}")
    none = sum(1 for labels in papers.labels if not labels)
    print(f"{'(none of these)':<20} {none:>6}")
    if problems:
        print(f"taxonomy: error: {len(problems)} problem(s) in {path}; fix the lines above",
              file=sys.stderr)
        return 1
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
