"""`taxonomy report`: the coverage report."""

from __future__ import annotations

import argparse
import sys

from .. import paths
from ..errors import TaxonomyError
from . import store
from ._common import (
    Subparsers,
    add_model_options,
    load_model,
    positive,
    report_skipped,
    say,
    taxonomy_and_labels,
)


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "report", run, help="coverage report per category",
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


def run(args: argparse.Namespace) -> int:
    from ..labels.categories import load_taxonomy
    from ..labels.labelfile import support
    from ..report.render import summary_table
    from ..report.run import run_report
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
    tagging = Tagger(load_model(args.model), HandLabels.from_papers(labeled))
    label_support = support(labeled, taxonomy) if labeled else None
    if in_store:
        run = store.report(args, out_dir, tagging, taxonomy, label_support)
    else:
        run = run_report(inputs, out_dir, tagging, taxonomy, label_support=label_support,
                         compare=args.compare, encoding=args.encoding, review=args.review)
        say(args, summary_table(run.report))
        say(args, f"wrote {len(run.files)} files to {out_dir}: "
            + ", ".join(f.name for f in run.files if f.suffix in (".md", ".html")) + " and "
            + f"{sum(f.suffix == '.csv' for f in run.files)} CSV tables")
    report_skipped(run.log)
    for note in run.notes:
        print(f"warning: {note}", file=sys.stderr)
    return 0
