"""`taxonomy parse`, `tag` and `report`: abstract dumps into one table of unique papers, into
a table of their tags, and into the coverage report; `tag` and `report` also into and from a
paper store (--db)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from .. import paths
from ..errors import TaxonomyError
from ._common import (
    Subparsers,
    add_model_options,
    add_read_options,
    positive,
    report_skipped,
    say,
    tagger,
    taxonomy_and_labels,
    waiting_for,
)

if TYPE_CHECKING:
    from ..tagging.executors import Executor


def register_parse(sub: Subparsers) -> None:
    p = sub.add_parser(
        "parse", parse, help="read abstract dumps into one table of unique papers",
        description="Read abstract dumps (listing pages, JSONL, CSV, gzipped or not) and write "
                    "one row per unique paper.\n\nexample:\n"
                    "  taxonomy parse data/dumps/*.txt -o papers.jsonl")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", help="write .csv, .jsonl or .parquet (default: a table "
                                          "on the terminal)")
    add_read_options(p)


def parse(args: argparse.Namespace) -> int:
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


def register_tag(sub: Subparsers) -> None:
    p = sub.add_parser(
        "tag", tag, help="tag abstract dumps with their categories",
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
    p.add_argument("--db", metavar="FILE",
                   help="a paper store (SQLite, see 'taxonomy fetch'): INPUTs are added to it, "
                        "then every paper it holds without tags from the model in use is "
                        "tagged in it")
    p.add_argument("--retag", action="store_true",
                   help="with --db, tag every paper again (e.g. after a change of hand labels)")


def tag(args: argparse.Namespace) -> int:
    from ..io.writers import table_format

    if args.db:  # tag [INPUT...] --db FILE
        from ..io.readlog import ReadLog
        from ..store.ingest import ingest
        from ..store.tagging import tag_store

        if args.output or args.only_new:
            raise TaxonomyError("--db tags into the store; drop -o/--only-new, or drop --db")
        log = ReadLog()
        tagging = tagger(args)
        if args.inputs:
            stored = ingest(args.db, args.inputs, log, reference_date=args.reference_date,
                            fmt=args.fmt, encoding=args.encoding)
            say(args, f"stored {stored.new} new papers and {stored.updated} new versions in "
                f"{args.db}")
        result = tag_store(args.db, tagging, _executor(args), retag=args.retag,
                           progress=False if args.quiet else None)
        model = tagging.model
        say(args, f"tagged {result.papers} papers in {args.db} ({result.by_hand} by hand "
            f"label, {result.papers - result.by_hand} by model {model.name} {model.version})")
        if result.papers:
            say(args, "per category: " + ", ".join(f"{c} {n}" for c, n in result.counts.items()))
        report_skipped(log)
        return 0
    if not args.inputs:
        raise TaxonomyError("give the INPUT files to tag, or a store with --db FILE")
    out = args.output or args.only_new
    if out is None:
        raise TaxonomyError("say where to write: -o OUT, or --only-new EXISTING")
    if args.output and args.only_new and os.path.abspath(args.output) != os.path.abspath(
            args.only_new):
        raise TaxonomyError("--only-new appends to EXISTING itself; drop -o or make it the same")
    table_format(out)
    tagging = tagger(args)
    result = tagging.run(args.inputs, out, executor=_executor(args), only_new=bool(args.only_new),
                         allow_mixed_models=args.allow_mixed_models,
                         progress=False if args.quiet else None, on_wait=waiting_for(out),
                         reference_date=args.reference_date, fmt=args.fmt,
                         encoding=args.encoding)
    model = tagging.model
    say(args, f"tagged {result.papers} papers ({result.by_hand} by hand label, "
        f"{result.papers - result.by_hand} by model {model.name} {model.version}) into "
        f"{out}" + (f"; {result.already} were already there" if result.already else ""))
    say(args, "per category: " + ", ".join(f"{c} {n}" for c, n in result.counts.items()))
    report_skipped(result.log)
    return 0


def _executor(args: argparse.Namespace) -> Executor:
    """Where --scheduler and --jobs say to score."""
    from ..tagging.executors import Dask, Processes

    return Dask(args.scheduler) if args.scheduler else Processes(args.jobs)


def register_report(sub: Subparsers) -> None:
    p = sub.add_parser(
        "report", report, help="coverage report per category",
        description="Summarize coverage per category: counts and shares, hand vs model, "
                    "uncovered and uncertain papers, co-occurrence, coverage by month, label "
                    "support and reading lists. Writes coverage.md, CSV tables and a "
                    "self-contained coverage.html into DIR. INPUTs are 'taxonomy tag' outputs "
                    "or raw dumps (tagged on the fly); without INPUT, the bundled dumps."
                    "\n\nexamples:\n  taxonomy report\n"
                    "  taxonomy report tags.csv -o reports/ --compare tags-last-month.csv\n"
                    "  taxonomy report papers.db")
    p.add_argument("inputs", nargs="*", metavar="INPUT")
    p.add_argument("-o", "--output", metavar="DIR", help="output directory (default: reports/)")
    p.add_argument("--compare", metavar="OLD", help="an older tagged file to compare with")
    p.add_argument("--encoding", metavar="NAME",
                   help="text encoding of raw dumps among the INPUTs, e.g. latin-1")
    p.add_argument("--review", type=positive, default=50, metavar="N",
                   help="list at most N uncertain papers, the most worth a hand label "
                        "(default: %(default)s)")
    add_model_options(p)


def report(args: argparse.Namespace) -> int:
    from ..labels.categories import load_taxonomy
    from ..labels.labelfile import support
    from ..report.render import summary_table
    from ..report.run import run_report, run_store_report
    from ..store.schema import is_sqlite
    from ..tagging.hand import HandLabels
    from ..tagging.tagger import Tagger

    in_store = any(is_sqlite(i) for i in args.inputs)
    if in_store and len(args.inputs) > 1:
        raise TaxonomyError("give a paper store alone (taxonomy report papers.db)")
    taxonomy = load_taxonomy()
    inputs = args.inputs or paths.bundled_dumps()
    if not inputs:
        raise TaxonomyError(f"no INPUT given and no bundled dumps in {paths.dumps_dir()}")
    labeled = None if args.no_hand_labels else taxonomy_and_labels(args.labels)[1]
    out_dir = args.output or paths.reports_dir()
    tagging = Tagger(paths.model_file(args.model), HandLabels.from_papers(labeled))
    label_support = support(labeled, taxonomy) if labeled else None
    untagged, written = 0, ""
    if in_store:
        run, untagged = run_store_report(inputs[0], out_dir, tagging, taxonomy,
                                         label_support=label_support, compare=args.compare,
                                         review=args.review)
    else:
        run = run_report(inputs, out_dir, tagging, taxonomy, label_support=label_support,
                         compare=args.compare, encoding=args.encoding, review=args.review)
        written = (": " + ", ".join(f.name for f in run.files if f.suffix in (".md", ".html"))
                   + f" and {sum(f.suffix == '.csv' for f in run.files)} CSV tables")
    say(args, summary_table(run.report))
    say(args, f"wrote {len(run.files)} files to {out_dir}{written}")
    if untagged:
        say(args, f"note: {untagged} papers of the store have no tags yet; run taxonomy tag "
            f"--db {inputs[0]}")
    report_skipped(run.log)
    for note in run.notes:
        print(f"warning: {note}", file=sys.stderr)
    return 0
