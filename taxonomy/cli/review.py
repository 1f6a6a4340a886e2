"""`taxonomy labels check | agree | suspects | merge` and `taxonomy review`: the hand labels
and the loop that grows them."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import paths
from ..errors import TaxonomyError
from ._common import (
    LABELS_HELP,
    MODEL_HELP,
    Subparsers,
    add_read_options,
    positive,
    report_skipped,
    say,
    taxonomy_and_labels,
    waiting_for,
)


def register_labels(sub: Subparsers) -> None:
    actions = sub.group("labels", "ACTION",
                        help="check and review hand labels",
                        description="Check and review hand labels.\n\nexample:\n"
                                    "  taxonomy labels check")
    q = actions.add_parser(
        "check", check, help="validate a labels file and print category support",
        description="Validate a labels file against the taxonomy and print per-category "
                    "support.\n\nexamples:\n  taxonomy labels check\n"
                    "  taxonomy labels check my-labels.csv")
    q.add_argument("path", nargs="?", help=LABELS_HELP)
    q = actions.add_parser(
        "agree", agree, help="inter-annotator agreement of two label passes",
        description="Per-category Cohen's kappa between two annotators' passes, and every "
                    "paper they disagree on.\n\nexample:\n  taxonomy labels agree "
                    "labels/passes/first_pass.csv labels/passes/second_pass.csv")
    q.add_argument("first")
    q.add_argument("second")
    q = actions.add_parser(
        "suspects", suspects,
        help="papers whose cross-validated prediction disagrees with their hand label",
        description="List hand-labeled papers whose out-of-fold prediction disagrees most "
                    "with their label, most suspicious first.\n\nexample:\n"
                    "  taxonomy labels suspects --top 20")
    q.add_argument("path", nargs="?", help=LABELS_HELP)
    q.add_argument("--top", type=int, default=20, help="how many to list (default: 20)")
    q = actions.add_parser(
        "merge", merge, help="merge a reviewed queue into the hand labels",
        description="Validate a queue written by 'taxonomy review' whose 'labels' cells were "
                    "filled in, and append its reviewed rows to the labels file. Rows still "
                    "'?' are skipped; a paper the labels file holds already is never "
                    "overwritten (other labels are reported as a conflict, and the exit "
                    "status is 1). Then retrain: scripts/retrain in a clone, or 'taxonomy "
                    "train --labels FILE -o DIR'.\n\nexamples:\n"
                    "  taxonomy labels merge queue.csv\n"
                    "  taxonomy labels merge queue.csv --into my-labels.csv")
    q.add_argument("queue")
    q.add_argument("--into", metavar="LABELS_CSV", help=LABELS_HELP)


def check(args: argparse.Namespace) -> int:
    from ..labels.categories import load_taxonomy
    from ..labels.labelfile import check_labels, format_support

    taxonomy = load_taxonomy()
    path = paths.labels_file(args.path)
    papers, problems = check_labels(path, taxonomy)
    if problems:  # support of a file that does not load would mislead
        print(*problems, f"taxonomy: error: {len(problems)} problem(s) in {path}; fix the lines "
              "above", sep="\n", file=sys.stderr)
        return 2
    say(args, format_support(papers, taxonomy, paths.shown(path)))
    return 0


def agree(args: argparse.Namespace) -> int:
    from ..labels.agreement import agreement, format_agreement
    from ..labels.categories import load_taxonomy
    from ..labels.labelfile import read_label_column

    taxonomy = load_taxonomy()
    result = agreement(read_label_column(args.first, taxonomy),
                       read_label_column(args.second, taxonomy), taxonomy)
    print(format_agreement(result, taxonomy))
    return 0


def suspects(args: argparse.Namespace) -> int:
    from ..model.training import format_suspects
    from ..model.training import suspects as find_suspects

    taxonomy, papers = taxonomy_and_labels(args.path)
    print(format_suspects(find_suspects(papers, taxonomy), len(papers), args.top))
    return 0


def register_review(sub: Subparsers) -> None:
    p = sub.add_parser(
        "review", review, help="the papers whose hand labels would teach the model most",
        description="Pick at most --top papers of the inputs that the model is least sure "
                    "about (closest to a threshold, torn between two categories), diverse, "
                    "and write them in the labels-file format: fill in each 'labels' cell "
                    "(';'-separated categories, or 'none'; leave '?' to skip), then merge "
                    "with 'taxonomy labels merge' and retrain. Hand-labeled papers are never "
                    "queued. A tags table ('taxonomy tag' output) narrows the queue to its "
                    "papers; their text comes from the dumps given with it.\n\nexamples:\n"
                    "  taxonomy review data/dumps/*.txt --top 30 -o queue.csv\n"
                    "  taxonomy review tags.csv new-listing.txt -o queue.csv\n"
                    "  taxonomy review --db papers.db -o queue.csv")
    p.add_argument("inputs", nargs="*", metavar="DUMP_OR_TAGS")
    p.add_argument("--db", metavar="FILE", help="queue from the papers of this store")
    p.add_argument("--top", type=positive, default=50,
                   help="at most this many papers (default: %(default)s)")
    p.add_argument("-o", "--output", default="queue.csv",
                   help="the queue CSV to write (default: %(default)s)")
    p.add_argument("--model", help=MODEL_HELP)
    p.add_argument("--labels", help="hand labels: their papers are never queued (default: "
                                    "the hand labels in use)")
    add_read_options(p)


def review(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..io.readers import check_inputs, read_papers
    from ..io.readlog import ReadLog
    from ..io.writers import read_table, refuse_inputs, write_frame
    from ..report.run import is_tagged_table
    from ..tagging.review import queue_papers
    from ..tagging.tagger import Tagger

    log = ReadLog()
    if args.db:
        from ..store.frame import stored_papers

        if args.inputs:
            raise TaxonomyError("give DUMP_OR_TAGS or --db, not both")
        check_queue_name(args.output)
        tagging = Tagger.load(args.model, args.labels)
        papers, wanted = stored_papers(args.db), None
    else:
        if not args.inputs:
            raise TaxonomyError("give the dumps to review, or a store with --db FILE")
        tagging = Tagger.load(args.model, args.labels)
        # A tags table ('taxonomy tag' output) narrows the queue to its ids.
        tables = [i for i in dict.fromkeys(args.inputs) if is_tagged_table(i)]
        dumps = [i for i in dict.fromkeys(args.inputs) if i not in tables]
        wanted = ({str(i) for table in tables for chunk in read_table(table) for i in chunk["id"]}
                  if tables else None)
        if not dumps:
            raise TaxonomyError("a tags table holds no abstracts to review; give the dumps it "
                                "was tagged from too (taxonomy review tags.csv DUMP...)")
        refuse_inputs(args.output, args.inputs)
        check_queue_name(args.output)
        papers = read_papers(check_inputs(dumps, fmt=args.fmt, encoding=args.encoding), log=log)
    queue = queue_papers(papers, tagging.model, tagging.hand, args.top, wanted)
    # The queue in the labels-file format.
    write_frame(args.output, pd.DataFrame({
        "id": [q.paper.id for q in queue],
        "title": [q.paper.title for q in queue],
        "abstract": [q.paper.abstract for q in queue],
        "labels": "?",
        "note": "",
        "suggested": [";".join(q.suggested) or "none" for q in queue],
        "scores": ["; ".join(f"{c} {s:.2f}" for c, s in q.scores.items()) for q in queue],
        "terms": [q.terms for q in queue],
        "informativeness": [round(q.value, 3) for q in queue],
        "url": [q.paper.url for q in queue],
    }))
    say(args, f"wrote {len(queue)} papers to review into {args.output} (most informative "
        "first); fill in each 'labels' cell, then: taxonomy labels merge "
        f"{args.output}")
    report_skipped(log)
    return 0


def check_queue_name(output: str) -> None:
    if not output.endswith(".csv"):
        raise TaxonomyError(f"{output}: the queue is a labels file; name it .csv")


def merge(args: argparse.Namespace) -> int:
    from ..labels.categories import load_taxonomy
    from ..labels.merge import format_conflicts, merge_queue

    taxonomy = load_taxonomy()
    into = paths.labels_file(args.into)
    if paths.is_shipped(into):
        raise TaxonomyError(f"{into} ships with the package and is never changed; merge into "
                            "your own file with --into my-labels.csv (or set TAXONOMY_HOME "
                            "to a project directory holding labels/seed.csv)")
    if not os.path.exists(args.queue):
        raise TaxonomyError(f"{args.queue}: no such file; give the queue 'taxonomy review' wrote")
    if Path(args.queue).resolve() == into.resolve():
        raise TaxonomyError(f"{args.queue} is the labels file itself; give the queue")
    result = merge_queue(args.queue, into, taxonomy, on_wait=waiting_for(str(into)))
    say(args, f"merged {len(result.added)} reviewed papers into {paths.shown(into)}"
        + (f"; {result.already} were there already with the same labels"
           if result.already else "")
        + (f"; {result.unreviewed} still '?' were left out" if result.unreviewed else ""))
    if result.conflicts:
        print(format_conflicts(result, args.queue), file=sys.stderr)
        return 1
    if result.added:
        say(args, "now retrain: scripts/retrain (in a clone), or taxonomy train --labels "
            f"{paths.shown(into)} -o DIR")
    return 0
