"""`taxonomy train`, `evaluate` and `explain`: the model."""

from __future__ import annotations

import argparse

from .. import paths
from ..errors import TaxonomyError
from ._common import (
    LABELS_HELP,
    MODEL_HELP,
    Subparsers,
    load_model,
    positive,
    say,
    taxonomy_and_labels,
)


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "train", help="fit the model on the hand labels and save it",
        description="Fit on every hand-labeled paper, cross-validate, and write "
                    "DIR/<name>.joblib with its model card DIR/<name>.json. Leaves an "
                    "equivalent model trained on the same labels untouched, and refuses to "
                    "replace a model with a better cross-validated macro-F1 unless --force."
                    "\n\nexample:\n  taxonomy train --labels my-labels.csv -o my-model/\n"
                    "  taxonomy tag dump.jsonl -o tags.csv --model my-model/efficiency.joblib")
    p.add_argument("--labels", help=LABELS_HELP)
    p.add_argument("--name", default=paths.MODEL_NAME, help="model name (default: %(default)s)")
    p.add_argument("-o", "--output", "--models-dir", dest="output", metavar="DIR",
                   help="where to write (default: $TAXONOMY_HOME/models when set, else "
                        "./models)")
    p.add_argument("--force", action="store_true",
                   help="replace the current model even if it scores better")
    p.add_argument("--folds", type=positive, default=5)
    p.add_argument("--repeats", type=positive, default=3)
    p.set_defaults(handler=train)

    p = sub.add_parser(
        "evaluate", help="cross-validated quality of the model next to two baselines",
        description="Repeated multilabel-stratified k-fold cross-validation of the model, the "
                    "keyword rules and the plain TF-IDF + logistic pipeline, side by side. "
                    "With --holdout, all three are fitted on the labels and scored on a "
                    "separate labeled file instead.\n\nexample:\n"
                    "  taxonomy evaluate --folds 5 --repeats 3")
    p.add_argument("--labels", help=LABELS_HELP)
    p.add_argument("--folds", type=positive, default=5)
    p.add_argument("--repeats", type=positive, default=3)
    p.add_argument("--holdout", metavar="LABELS_CSV",
                   help="score on this separately labeled file instead of cross-validating")
    p.set_defaults(handler=evaluate)

    p = sub.add_parser(
        "explain", help="each category's score for one paper and the terms behind it",
        description="Show a paper's score per category, the threshold, and the terms that "
                    "pushed each score up most.\n\nexamples:\n"
                    "  taxonomy explain 7b4c1f0a9e21 --input data/dumps/*.txt\n"
                    "  taxonomy explain --title 'ZeRO-Offload' --abstract 'We offload ...'")
    p.add_argument("paper_id", nargs="?", help="id of a paper in --input")
    p.add_argument("--input", nargs="+", default=[], metavar="DUMP")
    p.add_argument("--title")
    p.add_argument("--abstract")
    p.add_argument("--model", help=MODEL_HELP)
    p.add_argument("--terms", type=positive, default=8, help="terms per category")
    p.set_defaults(handler=explain)


def train(args: argparse.Namespace) -> int:
    from ..model.training import train as fit_and_save

    taxonomy, papers = taxonomy_and_labels(args.labels)
    target = paths.models_out_dir(args.output) / f"{args.name}.joblib"
    if paths.is_shipped(target):
        raise TaxonomyError(f"{target} ships with the package and is never overwritten; "
                            "write elsewhere with -o DIR")
    result = fit_and_save(papers, paths.labels_file(args.labels), taxonomy, target,
                          force=args.force, folds=args.folds, repeats=args.repeats)
    metrics = result.card["metrics"]["model"]
    if result.unchanged:
        print(f"{target} is unchanged (version {result.card['version']}): same labels, "
              "taxonomy and settings, and the refitted model is equivalent; its files were "
              "left as they were")
        return 0
    print(f"wrote {target} (version {result.card['version']}) and its card")
    say(args, f"cross-validated macro-F1 {metrics['macro_f1']['mean']:.3f} ± "
        f"{metrics['macro_f1']['std']:.3f}, micro-F1 {metrics['micro_f1']['mean']:.3f}"
        + (f" (previous model: {result.previous_macro_f1:.3f})"
           if result.previous_macro_f1 is not None else ""))
    if paths.model_file().resolve() != target.resolve():
        say(args, f"use it with --model {target}")
    return 0


def evaluate(args: argparse.Namespace) -> int:
    from ..labels.labelfile import load_labels
    from ..model.evaluation import format_table
    from ..model.training import evaluate_all, holdout_all

    taxonomy, papers = taxonomy_and_labels(args.labels)
    if args.holdout:
        test = load_labels(args.holdout, taxonomy)
        results = holdout_all(papers, test, taxonomy)
        say(args, f"fitted on {len(papers)} labeled papers, scored on {len(test)} papers of "
            f"{args.holdout}")
    else:
        results = evaluate_all(papers, taxonomy, args.folds, args.repeats)
        say(args, f"{args.repeats} x {args.folds}-fold multilabel-stratified cross-validation "
            f"on {len(papers)} labeled papers (mean over repeats; ± is the spread)")
    print(format_table(results, taxonomy.ids))
    return 0


def explain(args: argparse.Namespace) -> int:
    from ..io.records import Paper, paper_id
    from ..tagging.explain import explain as explain_paper
    from ..tagging.explain import find_paper

    model = load_model(args.model)
    if args.paper_id:
        if not args.input:
            raise TaxonomyError("give --input DUMP... to find the paper id in")
        paper = find_paper(args.paper_id, args.input)
    elif args.title and args.abstract:
        paper = Paper(id=paper_id("", args.title), title=args.title, abstract=args.abstract)
    else:
        raise TaxonomyError("give a paper id with --input, or both --title and --abstract")
    print(explain_paper(paper, model, args.terms))
    return 0
