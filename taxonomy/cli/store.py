"""The store (--db) as input and output of `taxonomy tag` and `report`: each
handler parses nothing itself, calls the library and prints."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import report_skipped, say, tagger


def add_store_options(p: argparse.ArgumentParser, tag: bool = False) -> None:
    p.add_argument("--db", metavar="FILE",
                   help="a paper store (SQLite, see 'taxonomy fetch')"
                   + (": INPUTs are added to it, then every paper it holds without tags "
                      "from the model in use is tagged in it" if tag else ""))
    if tag:
        p.add_argument("--retag", action="store_true",
                       help="with --db, tag every paper again (e.g. after a change of hand "
                            "labels)")


def tag(args: argparse.Namespace) -> int:
    """`taxonomy tag [INPUT...] --db FILE`."""
    from ..io.readlog import ReadLog
    from ..store.ingest import ingest
    from ..store.tagging import tag_store
    from ..tagging.executors import Dask, Executor, Processes

    log = ReadLog()
    tagging = tagger(args)
    if args.inputs:
        stored = ingest(args.db, args.inputs, log, reference_date=args.reference_date,
                        fmt=args.fmt, encoding=args.encoding)
        say(args, f"stored {stored.new} new papers and {stored.updated} new versions in "
            f"{args.db}")
    executor: Executor = Dask(args.scheduler) if args.scheduler else Processes(args.jobs)
    result = tag_store(args.db, tagging, executor, retag=args.retag,
                       progress=False if args.quiet else None)
    model = tagging.model
    say(args, f"tagged {result.papers} papers in {args.db} ({result.by_hand} by hand label, "
        f"{result.papers - result.by_hand} by model {model.name} {model.version})")
    if result.papers:
        say(args, "per category: " + ", ".join(f"{c} {n}" for c, n in result.counts.items()))
    report_skipped(log)
    return 0


def report(args: argparse.Namespace, out_dir: str | Path, tagging: Any, taxonomy: Any,
           label_support: Any) -> Any:
    """`taxonomy report papers.db`, with what `report` loaded; the run, whose warnings
    `report` prints."""
    from ..report.render import summary_table
    from ..report.run import run_store_report

    run, untagged = run_store_report(args.inputs[0], out_dir, tagging, taxonomy,
                                     label_support=label_support, compare=args.compare,
                                     review=args.review)
    say(args, summary_table(run.report))
    say(args, f"wrote {len(run.files)} files to {out_dir}")
    if untagged:
        say(args, f"note: {untagged} papers of the store have no tags yet; run taxonomy tag "
            f"--db {args.inputs[0]}")
    return run
