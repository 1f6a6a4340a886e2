"""`taxonomy train`, `evaluate` and `explain`: the model."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

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
        "train", train, help="fit the model on the hand labels and save it",
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

    p = sub.add_parser(
        "evaluate", evaluate,
        help="quality of the model next to two baselines: cross-validated and on the stress set",
        description="Repeated multilabel-stratified k-fold cross-validation of the model, the "
                    "keyword rules and the plain TF-IDF + logistic pipeline on the hand labels, "
                    "then all three fitted on every hand label and scored on each held-out "
                    "labeled file (the stress set, labels/stress.csv, and the near-miss set, "
                    "labels/near-miss.csv, unless --holdout names another). "
                    "Shows precision / recall / F1 per category, labels per paper (predicted / "
                    "gold), the share of papers about no lever that got a label, the held-out "
                    "papers by kind, and a reliability table of the model's scores."
                    "\n\nexamples:\n  taxonomy evaluate\n"
                    "  taxonomy evaluate --holdout my-checked-papers.csv --markdown\n"
                    "  taxonomy evaluate --ablations --folds 5 --repeats 1")
    p.add_argument("--labels", help=LABELS_HELP)
    p.add_argument("--folds", type=positive, default=5)
    p.add_argument("--repeats", type=positive, default=3)
    held = p.add_mutually_exclusive_group()
    held.add_argument("--holdout", metavar="LABELS_CSV",
                      help="the held-out labeled file (default: the stress and near-miss sets)")
    held.add_argument("--no-holdout", action="store_true", help="cross-validation only")
    p.add_argument("--no-cv", action="store_true", help="the held-out files only")
    p.add_argument("--ablations", action="store_true",
                   help="the shipped model next to its variants without the contrastive "
                        "examples and without the prior shift, on every check")
    p.add_argument("--markdown", action="store_true",
                   help="print the tables as Markdown (what the README shows)")

    p = sub.add_parser(
        "explain", explain, help="each category's score for one paper and the terms behind it",
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
    from ..labels.labelfile import load_labels, read_column
    from ..model.evaluation import format_modes, format_reliability, format_table
    from ..model.training import evaluate_all, held_out_files, holdout_all

    taxonomy, papers = taxonomy_and_labels(args.labels)
    holdouts = [] if args.no_holdout else (
        [Path(args.holdout)] if args.holdout else held_out_files())
    if args.no_cv and not holdouts:
        raise TaxonomyError("--no-cv with --no-holdout leaves nothing to evaluate")
    show = _markdown if args.markdown else (lambda text: text)
    if args.ablations:
        print(f"Ablations: {args.repeats} x {args.folds}-fold cross-validation on the hand "
              "labels, and each held-out set scored by a fit on all hand labels; conv. = "
              "convergence_speed")
        print(show(_ablations(args, taxonomy, papers, holdouts)))
        return 0
    reliability = {}
    if not args.no_cv:
        results = evaluate_all(papers, taxonomy, args.folds, args.repeats)
        shown = paths.shown(paths.labels_file(args.labels))
        print(f"Seed labels: {args.repeats} x {args.folds}-fold multilabel-stratified "
              f"cross-validation on {len(papers)} papers of {shown} (mean over repeats; ± is "
              "the spread)")
        print(show(format_table(results, taxonomy.ids)))
        if results[0].reliability:
            reliability["seed CV"] = results[0].reliability
    tests = [load_labels(holdout, taxonomy) for holdout in holdouts]
    held_out = holdout_all(papers, tests, taxonomy)
    for n, (holdout, test, results) in enumerate(zip(holdouts, tests, held_out, strict=True)):
        print(("" if args.no_cv and not n else "\n")
              + f"Held out: fitted on all {len(papers)} labeled papers, scored on the "
              f"{len(test)} papers of {paths.shown(holdout)} (never trained on)")
        print(show(format_table(results, taxonomy.ids)))
        modes = read_column(holdout, "mode")
        if modes:
            print("\nHeld-out papers by kind (the file's 'mode' column), model:")
            print(show(format_modes(test.indicator(taxonomy.ids), results[0].runs[0],
                                    [modes.get(i, "") for i in test.ids])))
        if results[0].reliability:
            reliability[f"held out: {holdout.stem}"] = results[0].reliability
    if reliability:
        print("\nReliability of the model's scores (papers x categories per score bin; "
              "calibrated scores keep 'mean score' close to 'observed'):")
        print(show(format_reliability(reliability)))
    return 0


def _ablations(args: argparse.Namespace, taxonomy: Any, papers: Any,
               holdouts: list[Path]) -> str:
    """The shipped model next to its variants without each addition aimed at convergence speed:
    macro-F1 and convergence speed's precision / recall on seed CV and every held-out set."""
    from ..labels.labelfile import load_labels
    from ..model.training import SHIFTED, ablations, evaluate_all, holdout_all

    (conv,) = SHIFTED  # the category the additions aim at
    tests = [load_labels(holdout, taxonomy) for holdout in holdouts]
    sets = ([] if args.no_cv else ["seed CV"]) + [holdout.stem for holdout in holdouts]
    rows = [["variant"] + [f"{name} {what}" for name in sets
                           for what in ("macro-F1", "conv. P / R")]]
    for name, model in ablations(taxonomy).items():
        found = [] if args.no_cv else [evaluate_all(papers, taxonomy, args.folds, args.repeats,
                                                    model, baselines=False)[0]]
        found += [per_set[0] for per_set in holdout_all(papers, tests, taxonomy, model,
                                                         baselines=False)]
        rows.append([name] + [cell for scores in found for cell in (
            f"{scores.macro_f1[0]:.3f}",
            f"{scores.precision[conv]:.2f} / {scores.recall[conv]:.2f}")])
    widths = [max(map(len, column)) for column in zip(*rows, strict=True)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def _markdown(table: str) -> str:
    """A terminal table (columns separated by two or more spaces) as a Markdown table."""
    rows = [([""] if line[:1].isspace() else []) + re.split(r"\s{2,}", line.strip())
            for line in table.splitlines() if line.strip()]
    width = max(len(r) for r in rows)
    lines = ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows]
    return "\n".join([lines[0], "|" + "---|" * width, *lines[1:]])


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
