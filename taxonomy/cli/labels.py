"""`taxonomy labels check | agree | suspects | merge`: hand labels."""

from __future__ import annotations

import argparse
import sys

from .. import paths
from ._common import LABELS_HELP, Subparsers, say, taxonomy_and_labels


def register(sub: Subparsers) -> None:
    actions = sub.group("labels", "labels_command", "ACTION",
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
    from .review import register_merge

    register_merge(actions)


def check(args: argparse.Namespace) -> int:
    from ..labels.categories import load_taxonomy
    from ..labels.labelfile import check_labels, format_support

    taxonomy = load_taxonomy()
    path = paths.labels_file(args.path)
    papers, problems = check_labels(path, taxonomy)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:  # support of a file that does not load would mislead
        print(f"taxonomy: error: {len(problems)} problem(s) in {path}; fix the lines above",
              file=sys.stderr)
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
