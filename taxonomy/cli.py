"""The `taxonomy` command: parses arguments, calls the library, prints. Nothing else."""

from __future__ import annotations

import argparse
import datetime as dt
import os
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


class _Version(argparse.Action):
    """--version: the package's version and where it runs from, and the default model's."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from . import __version__
        from .model.artifact import read_card

        try:
            path = paths.model_file()
            card = read_card(path) or {}
            model = f"model {card['name']} {card['version']} ({paths.shown(path)})"
        except (TaxonomyError, KeyError) as exc:
            model = f"model: none usable ({exc})"
        print(f"taxonomy {__version__} ({paths.package_dir()})\n{model}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taxonomy",
        description="Tag machine-learning papers with the training-efficiency categories "
                    "they contribute to, and report coverage per category.",
        epilog=f"Defaults: the shipped model, hand labels and bundled dumps; a project "
               f"directory in ${paths.HOME_VARIABLE} (holding models/, labels/) overrides "
               f"them, and --model / --labels override both.",
    )
    parser.add_argument("--version", action=_Version,
                        help="show the version, where it runs from and the default model")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true",
                        help="print no progress bar and no summary; errors and warnings "
                             "still go to stderr")
    sub = _Subparsers(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"),
                      common)
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
    labels = _Subparsers(p.add_subparsers(dest="labels_command", required=True,
                                          metavar="ACTION"), common)
    q = labels.add_parser(
        "check", formatter_class=fmt, help="validate a labels file and print category support",
        description="Validate a labels file against the taxonomy and print per-category "
                    "support.\n\nexamples:\n  taxonomy labels check\n"
                    "  taxonomy labels check my-labels.csv")
    q.add_argument("path", nargs="?", help=_LABELS_HELP)
    q = labels.add_parser(
        "agree", formatter_class=fmt, help="inter-annotator agreement of two label passes",
        description="Per-category Cohen's kappa between two annotators' passes, and every "
                    "paper they disagree on.\n\nexample:\n  taxonomy labels agree "
                    "labels/passes/first_pass.csv labels/passes/second_pass.csv")
    q.add_argument("first")
    q.add_argument("second")
    q = labels.add_parser(
        "suspects", formatter_class=fmt,
        help="papers whose cross-validated prediction disagrees with their hand label",
        description="List hand-labeled papers whose out-of-fold prediction disagrees most "
                    "with their label, most suspicious first.\n\nexample:\n"
                    "  taxonomy labels suspects --top 20")
    q.add_argument("path", nargs="?", help=_LABELS_HELP)
    q.add_argument("--top", type=int, default=20, help="how many to list (default: 20)")

    p = sub.add_parser(
        "train", formatter_class=fmt, help="fit the model on the hand labels and save it",
        description="Fit on every hand-labeled paper, cross-validate, and write "
                    "DIR/<name>.joblib with its model card DIR/<name>.json. Leaves an "
                    "equivalent model trained on the same labels untouched, and refuses to "
                    "replace a model with a better cross-validated macro-F1 unless --force."
                    "\n\nexample:\n  taxonomy train --labels my-labels.csv -o my-model/\n"
                    "  taxonomy tag dump.jsonl -o tags.csv --model my-model/efficiency.joblib")
    _add_train_options(p)

    p = sub.add_parser(
        "evaluate", formatter_class=fmt,
        help="cross-validated quality of the model next to two baselines",
        description="Repeated multilabel-stratified k-fold cross-validation of the model, the "
                    "keyword rules and the plain TF-IDF + logistic pipeline, side by side. "
                    "With --holdout, all three are fitted on the labels and scored on a "
                    "separate labeled file instead.\n\nexample:\n"
                    "  taxonomy evaluate --folds 5 --repeats 3")
    p.add_argument("--labels", help=_LABELS_HELP)
    p.add_argument("--folds", type=_positive, default=5)
    p.add_argument("--repeats", type=_positive, default=3)
    p.add_argument("--holdout", metavar="LABELS_CSV",
                   help="score on this separately labeled file instead of cross-validating")

    p = sub.add_parser(
        "explain", formatter_class=fmt,
        help="each category's score for one paper and the terms behind it",
        description="Show a paper's score per category, the threshold, and the terms that "
                    "pushed each score up most.\n\nexamples:\n"
                    "  taxonomy explain 7b4c1f0a9e21 --input data/dumps/*.txt\n"
                    "  taxonomy explain --title 'ZeRO-Offload' --abstract 'We offload ...'")
    p.add_argument("paper_id", nargs="?", help="id of a paper in --input")
    p.add_argument("--input", nargs="+", default=[], metavar="DUMP")
    p.add_argument("--title")
    p.add_argument("--abstract")
    p.add_argument("--model", help=_MODEL_HELP)
    p.add_argument("--terms", type=_positive, default=8, help="terms per category")

    p = sub.add_parser(
        "tag", formatter_class=fmt, help="tag abstract dumps with their categories",
        description="Tag every unique paper of the inputs (listing pages, JSONL, CSV, Parquet,"
                    " gzipped or not). Hand-labeled papers keep their hand labels.\n\n"
                    "examples:\n  taxonomy tag data/dumps/*.txt -o tags.csv\n"
                    "  taxonomy tag new-listing.txt --only-new tags.csv\n"
                    "  taxonomy tag arxiv.jsonl.gz -o tags.parquet --scheduler local")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", help="write .csv, .jsonl or .parquet")
    p.add_argument("--only-new", metavar="EXISTING",
                   help="tag only papers whose ids are not in EXISTING and append them to it")
    p.add_argument("--allow-mixed-models", action="store_true",
                   help="with --only-new, append even if EXISTING was tagged by another model "
                        "version")
    _add_model_options(p)
    p.add_argument("--jobs", type=int, default=-1, help="processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="tag on dask: 'local' starts a local cluster, tcp://host:8786 joins "
                        "one (needs the [dask] extra; JSONL, CSV or Parquet inputs)")
    _add_read_options(p)

    p = sub.add_parser(
        "report", formatter_class=fmt, help="coverage report per category",
        description="Summarize coverage per category: counts and shares, hand vs model, "
                    "uncovered and uncertain papers, co-occurrence, coverage by month, label "
                    "support and reading lists. Writes coverage.md, CSV tables and a "
                    "self-contained coverage.html into DIR. INPUTs are 'taxonomy tag' outputs "
                    "or raw dumps (tagged on the fly); without INPUT, the bundled dumps."
                    "\n\nexamples:\n  taxonomy report\n"
                    "  taxonomy report tags.csv -o reports/ --compare tags-last-month.csv")
    p.add_argument("inputs", nargs="*", metavar="INPUT")
    p.add_argument("-o", "--output", metavar="DIR", help="output directory (default: reports/)")
    p.add_argument("--compare", metavar="OLD", help="an older tagged file to compare with")
    _add_model_options(p)
    return parser


_MODEL_HELP = ("model file (default: $TAXONOMY_HOME/models/efficiency.joblib when it exists, "
               "else the shipped model)")
_LABELS_HELP = ("labels CSV (default: $TAXONOMY_HOME/labels/seed.csv when it exists, else the "
                "shipped hand labels)")


class _Subparsers:
    """Adds every sub-command with the options all commands share (-q/--quiet)."""

    def __init__(self, action, common: argparse.ArgumentParser):
        self._action, self._common = action, common

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        return self._action.add_parser(name, parents=[self._common], **kwargs)


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help=_MODEL_HELP)
    p.add_argument("--labels", help="hand labels that win over the model (default: "
                                    "$TAXONOMY_HOME/labels/seed.csv when it exists, else the "
                                    "shipped hand labels)")
    p.add_argument("--no-hand-labels", "--model-only", dest="no_hand_labels",
                   action="store_true",
                   help="ignore hand labels: every row's labels come from the model")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _add_train_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--labels", help=_LABELS_HELP)
    p.add_argument("--name", default=paths.MODEL_NAME, help="model name (default: %(default)s)")
    p.add_argument("-o", "--output", "--models-dir", dest="output", metavar="DIR",
                   help="where to write (default: $TAXONOMY_HOME/models when set, else "
                        "./models)")
    p.add_argument("--force", action="store_true",
                   help="replace the current model even if it scores better")
    p.add_argument("--folds", type=_positive, default=5)
    p.add_argument("--repeats", type=_positive, default=3)


@_command
def cmd_parse(args: argparse.Namespace) -> int:
    from .io.papers import parse_papers, parse_to_file

    if args.output:
        log = parse_to_file(args.inputs, args.output, reference_date=args.reference_date,
                            fmt=args.fmt)
        _say(args, f"wrote {log.papers} papers to {args.output}"
             + (f" ({log.repeats} repeats merged)" if log.repeats else ""))
    else:
        papers, log = parse_papers(args.inputs, reference_date=args.reference_date, fmt=args.fmt)
        print(f"{'id':<14} {'date':<10} title")
        for paper in papers:
            print(f"{paper.id:<14} {paper.date or '-':<10} {_clip(paper.title, 70)}")
        _say(args, f"{len(papers)} papers" + (f" ({log.repeats} repeats merged)"
                                              if log.repeats else ""))
    _report_skipped(log)
    return 0


def _taxonomy_and_labels(path):
    from .labels.categories import load_taxonomy
    from .labels.labelfile import load_labels

    taxonomy = load_taxonomy()
    return taxonomy, load_labels(paths.labels_file(path), taxonomy)


@_command
def cmd_train(args: argparse.Namespace) -> int:
    from .model.training import train

    taxonomy, papers = _taxonomy_and_labels(args.labels)
    target = paths.models_out_dir(args.output) / f"{args.name}.joblib"
    if paths.is_shipped(target):
        raise TaxonomyError(f"{target} ships with the package and is never overwritten; "
                            "write elsewhere with -o DIR")
    result = train(papers, paths.labels_file(args.labels), taxonomy, target,
                   force=args.force, folds=args.folds, repeats=args.repeats)
    metrics = result.card["metrics"]["model"]
    if result.unchanged:
        print(f"{target} is unchanged (version {result.card['version']}): same labels, "
              "taxonomy and settings, and the refitted model is equivalent; its files were "
              "left as they were")
        return 0
    print(f"wrote {target} (version {result.card['version']}) and its card")
    _say(args, f"cross-validated macro-F1 {metrics['macro_f1']['mean']:.3f} ± "
         f"{metrics['macro_f1']['std']:.3f}, micro-F1 {metrics['micro_f1']['mean']:.3f}"
         + (f" (previous model: {result.previous_macro_f1:.3f})"
            if result.previous_macro_f1 is not None else ""))
    if paths.model_file().resolve() != target.resolve():
        _say(args, f"use it with --model {target}")
    return 0


@_command
def cmd_evaluate(args: argparse.Namespace) -> int:
    from .labels.labelfile import load_labels
    from .model.evaluation import format_table
    from .model.training import evaluate_all, holdout_all

    taxonomy, papers = _taxonomy_and_labels(args.labels)
    if args.holdout:
        test = load_labels(args.holdout, taxonomy)
        results = holdout_all(papers, test, taxonomy)
        _say(args, f"fitted on {len(papers)} labeled papers, scored on {len(test)} papers of "
             f"{args.holdout}")
    else:
        results = evaluate_all(papers, taxonomy, args.folds, args.repeats)
        _say(args, f"{args.repeats} x {args.folds}-fold multilabel-stratified cross-validation "
             f"on {len(papers)} labeled papers (mean over repeats; ± is the spread)")
    print(format_table(results, taxonomy.ids))
    return 0


@_command
def cmd_explain(args: argparse.Namespace) -> int:
    from .tagging.explain import explain, find_paper

    model = _load_model(args.model)
    if args.paper_id:
        if not args.input:
            raise TaxonomyError("give --input DUMP... to find the paper id in")
        paper = find_paper(args.paper_id, args.input)
    elif args.title and args.abstract:
        from .io.records import Paper, paper_id

        paper = Paper(id=paper_id("", args.title), title=args.title, abstract=args.abstract)
    else:
        raise TaxonomyError("give a paper id with --input, or both --title and --abstract")
    print(explain(paper, model, args.terms))
    return 0


def _load_model(path):
    from .labels.categories import load_taxonomy
    from .model.artifact import load_model

    return load_model(paths.model_file(path), load_taxonomy().ids)


def _hand_labels(args: argparse.Namespace):
    from .tagging.hand import HandLabels

    return HandLabels.from_papers(_labeled_papers(args))


def _labeled_papers(args: argparse.Namespace):
    """The hand labels that win over the model (see ``paths.labels_file``), or None with
    --no-hand-labels."""
    from .labels.categories import load_taxonomy
    from .labels.labelfile import load_labels

    if args.no_hand_labels:
        return None
    return load_labels(paths.labels_file(args.labels), load_taxonomy())


@_command
def cmd_tag(args: argparse.Namespace) -> int:
    out = args.output or args.only_new
    if out is None:
        raise TaxonomyError("say where to write: -o OUT, or --only-new EXISTING")
    if args.output and args.only_new and os.path.abspath(args.output) != os.path.abspath(
            args.only_new):
        raise TaxonomyError("--only-new appends to EXISTING itself; drop -o or make it the same")
    from .io.writers import table_format

    table_format(out)
    from .tagging.tagger import Tagger

    tagger = Tagger(_load_model(args.model), _hand_labels(args))
    if args.scheduler:
        from .tagging.executors import Dask

        executor = Dask(args.scheduler)
    else:
        from .tagging.executors import Processes

        executor = Processes(args.jobs)
    result = tagger.run(args.inputs, out, executor=executor, only_new=bool(args.only_new),
                        allow_mixed_models=args.allow_mixed_models,
                        progress=False if args.quiet else None,
                        reference_date=args.reference_date, fmt=args.fmt)
    model = tagger.model
    counts = ", ".join(f"{cid} {n}" for cid, n in result.counts.items())
    _say(args, f"tagged {result.papers} papers ({result.by_hand} by hand label, "
         f"{result.papers - result.by_hand} by model {model.name} {model.version}) into "
         f"{out}" + (f"; {result.already} were already there" if result.already else ""))
    _say(args, f"per category: {counts}")
    _report_skipped(result.log)
    return 0


@_command
def cmd_report(args: argparse.Namespace) -> int:
    from .labels.categories import load_taxonomy
    from .labels.labelfile import support
    from .report.render import summary_table
    from .report.run import run_report
    from .tagging.hand import HandLabels
    from .tagging.tagger import Tagger

    taxonomy = load_taxonomy()
    inputs = args.inputs or paths.bundled_dumps()
    if not inputs:
        raise TaxonomyError(f"no INPUT given and no bundled dumps in {paths.dumps_dir()}")
    model = _load_model(args.model)
    labeled = _labeled_papers(args)
    out_dir = args.output or paths.reports_dir()
    run = run_report(inputs, out_dir, Tagger(model, HandLabels.from_papers(labeled)), taxonomy,
                     label_support=support(labeled, taxonomy) if labeled else None,
                     compare=args.compare)
    _say(args, summary_table(run.report))
    _say(args, f"wrote {len(run.files)} files to {out_dir}: "
         + ", ".join(f.name for f in run.files if f.suffix in (".md", ".html")) + " and "
         + f"{sum(f.suffix == '.csv' for f in run.files)} CSV tables")
    _report_skipped(run.log)
    return 0


@_command
def cmd_labels(args: argparse.Namespace) -> int:
    from .labels.agreement import agreement
    from .labels.categories import load_taxonomy
    from .labels.labelfile import MIN_SUPPORT, check_labels, read_label_column, support

    taxonomy = load_taxonomy()
    if args.labels_command == "suspects":
        from .labels.labelfile import load_labels
        from .model.training import suspects

        papers = load_labels(paths.labels_file(args.path), taxonomy)
        found = suspects(papers, taxonomy)
        print(f"{len(found)} of {len(papers)} papers disagree with their out-of-fold "
              f"prediction; the {min(args.top, len(found))} strongest:")
        print(f"{'strength':>8}  {'id':<14} {'hand label':<32} {'predicted':<32} title")
        for s in found[: args.top]:
            print(f"{s.strength:>8.2f}  {s.id:<14} {';'.join(s.hand) or '(none)':<32} "
                  f"{';'.join(s.predicted) or '(none)':<32} {_clip(s.title, 60)}")
        return 0
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
    path = paths.labels_file(args.path)
    papers, problems = check_labels(path, taxonomy)
    for problem in problems:
        print(problem, file=sys.stderr)
    counts = support(papers, taxonomy)
    lines = [f"{len(papers)} labeled papers in {paths.shown(path)}",
             f"{'category':<20} {'papers':>6}"]
    for cid, n in counts.items():
        flag = f"  (fewer than {MIN_SUPPORT}: too few to train reliably)" if n < MIN_SUPPORT else ""
        lines.append(f"{cid:<20} {n:>6}{flag}")
    none = sum(1 for labels in papers.labels if not labels)
    lines.append(f"{'(none of these)':<20} {none:>6}")
    _say(args, "\n".join(lines))
    if problems:
        print(f"taxonomy: error: {len(problems)} problem(s) in {path}; fix the lines above",
              file=sys.stderr)
        return 1
    return 0


def _say(args: argparse.Namespace, text: str) -> None:
    """Print a summary line unless -q/--quiet."""
    if not args.quiet:
        print(text)


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


