"""`taxonomy tag`: tag abstract dumps into a table."""

from __future__ import annotations

import argparse
import os

from ..errors import TaxonomyError
from . import store
from ._common import (
    Subparsers,
    add_model_options,
    add_read_options,
    report_skipped,
    say,
    tagger,
    waiting_for,
)
from .store import add_store_options


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "tag", run, help="tag abstract dumps with their categories",
        description="Tag every unique paper of the inputs (listing pages, JSONL, CSV, Parquet,"
                    " gzipped or not). Hand-labeled papers keep their hand labels.\n\n"
                    "examples:\n  taxonomy tag data/dumps/*.txt -o tags.csv\n"
                    "  taxonomy tag new-listing.txt --only-new tags.csv\n"
                    "  taxonomy tag arxiv.jsonl.gz -o tags.parquet --scheduler local\n"
                    "  taxonomy tag --db papers.db\n"
                    "  taxonomy tag new-listing.txt --db papers.db")
    p.add_argument("inputs", nargs="*", metavar="INPUT")
    p.add_argument("-o", "--output", help="write .csv, .jsonl or .parquet")
    p.add_argument("--only-new", metavar="EXISTING",
                   help="tag only papers whose ids are not in EXISTING and append them to it")
    p.add_argument("--allow-mixed-models", action="store_true",
                   help="with --only-new, append even if EXISTING was tagged by another model "
                        "version")
    add_model_options(p)
    p.add_argument("--jobs", type=int, default=-1, help="processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="score on dask: 'local' starts a local cluster, tcp://host:8786 joins "
                        "one (needs the [dask] extra)")
    add_read_options(p)
    add_store_options(p, tag=True)


def run(args: argparse.Namespace) -> int:
    from ..io.writers import table_format

    if args.db:
        if args.output or args.only_new:
            raise TaxonomyError("--db tags into the store; drop -o/--only-new, or drop --db")
        return store.tag(args)
    if not args.inputs:
        raise TaxonomyError("give the INPUT files to tag, or a store with --db FILE")
    out = args.output or args.only_new
    if out is None:
        raise TaxonomyError("say where to write: -o OUT, or --only-new EXISTING")
    if args.output and args.only_new and os.path.abspath(args.output) != os.path.abspath(
            args.only_new):
        raise TaxonomyError("--only-new appends to EXISTING itself; drop -o or make it the same")
    table_format(out)
    tag = tagger(args)
    from ..tagging.executors import Dask, Executor, Processes

    executor: Executor = Dask(args.scheduler) if args.scheduler else Processes(args.jobs)
    result = tag.run(args.inputs, out, executor=executor, only_new=bool(args.only_new),
                     allow_mixed_models=args.allow_mixed_models,
                     progress=False if args.quiet else None, on_wait=waiting_for(out),
                     reference_date=args.reference_date, fmt=args.fmt, encoding=args.encoding)
    model = tag.model
    counts = ", ".join(f"{cid} {n}" for cid, n in result.counts.items())
    say(args, f"tagged {result.papers} papers ({result.by_hand} by hand label, "
        f"{result.papers - result.by_hand} by model {model.name} {model.version}) into "
        f"{out}" + (f"; {result.already} were already there" if result.already else ""))
    say(args, f"per category: {counts}")
    report_skipped(result.log)
    return 0
