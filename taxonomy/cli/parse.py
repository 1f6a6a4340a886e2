"""`taxonomy parse`: normalize dumps into one table of unique papers."""

from __future__ import annotations

import argparse

from ._common import Subparsers, add_read_options, report_skipped, say


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "parse", run, help="read abstract dumps into one table of unique papers",
        description="Read abstract dumps (listing pages, JSONL, CSV, gzipped or not) and write "
                    "one row per unique paper.\n\nexample:\n"
                    "  taxonomy parse data/dumps/*.txt -o papers.jsonl")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", help="write .csv, .jsonl or .parquet (default: a table "
                                          "on the terminal)")
    add_read_options(p)


def run(args: argparse.Namespace) -> int:
    from ..io.papers import format_papers, parse_papers, parse_to_file

    if args.output:
        log = parse_to_file(args.inputs, args.output, reference_date=args.reference_date,
                            fmt=args.fmt, encoding=args.encoding)
        done = f"wrote {log.papers} papers to {args.output}"
    else:
        papers, log = parse_papers(args.inputs, reference_date=args.reference_date,
                                   fmt=args.fmt, encoding=args.encoding)
        print(format_papers(papers))
        done = f"{len(papers)} papers"
    say(args, done + (f" ({log.repeats} repeats merged)" if log.repeats else ""))
    report_skipped(log)
    return 0
