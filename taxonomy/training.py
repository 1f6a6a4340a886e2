"""Training, evaluating and reviewing labels: `taxonomy train`, `evaluate`, `labels suspects`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import evaluate, paths
from .artifact import load_model, read_card, save_model, sha256_file
from .errors import ModelError
from .labels.categories import Taxonomy
from .labels.labelfile import LabeledPapers, support
from .model import ModelConfig, fit, out_of_fold_scores

FOLDS, REPEATS = 5, 3


def evaluate_all(papers: LabeledPapers, taxonomy: Taxonomy, folds: int = FOLDS,
                 repeats: int = REPEATS, config: ModelConfig | None = None,
                 baselines: bool = True) -> list[evaluate.Scores]:
    """Cross-validated scores of the model and, side by side, of both baselines."""
    methods = {"model": evaluate.shipped_model(taxonomy, config)}
    if baselines:
        methods["keyword rules"] = evaluate.keyword_rules(taxonomy)
        methods["plain pipeline"] = evaluate.plain_pipeline(taxonomy)
    return evaluate.cross_validate(papers.titles, papers.abstracts,
                                   papers.indicator(taxonomy.ids), taxonomy.ids, methods,
                                   folds=folds, repeats=repeats)


def holdout_all(papers: LabeledPapers, test: LabeledPapers, taxonomy: Taxonomy,
                config: ModelConfig | None = None) -> list[evaluate.Scores]:
    """The model and both baselines fitted on ``papers``, scored on a separate labeled set."""
    methods = {"model": evaluate.shipped_model(taxonomy, config),
               "keyword rules": evaluate.keyword_rules(taxonomy),
               "plain pipeline": evaluate.plain_pipeline(taxonomy)}
    return evaluate.holdout(papers.titles, papers.abstracts, papers.indicator(taxonomy.ids),
                            test.titles, test.abstracts, test.indicator(taxonomy.ids),
                            taxonomy.ids, methods)


@dataclass
class TrainResult:
    card: dict
    previous_macro_f1: float | None
    path: Path
    # True when the labels, taxonomy and settings are those of the current model and the new
    # fit is equivalent to it: the files were left untouched.
    unchanged: bool = False


def train(papers: LabeledPapers, labels_path: str | os.PathLike, taxonomy: Taxonomy,
          model_path: str | os.PathLike, force: bool = False, folds: int = FOLDS,
          repeats: int = REPEATS, config: ModelConfig | None = None) -> TrainResult:
    """Fit on every labeled paper, cross-validate, and write the model and its card.

    Leaves the current model untouched when it was trained on the same labels and taxonomy and
    the new fit is equivalent (see ``Classifier.equivalent``), so retraining on unchanged
    labels never churns the committed files. Refuses to replace a model whose cross-validated
    macro-F1 is higher, unless ``force``.
    """
    config = config or ModelConfig()
    model_path = Path(model_path)
    classifier = fit(papers.titles, papers.abstracts, papers.indicator(taxonomy.ids), taxonomy,
                     config)
    labels_sha256 = sha256_file(labels_path)
    previous = read_card(model_path) if model_path.exists() else None
    previous_f1 = None
    if previous is not None:
        previous_f1 = previous.get("metrics", {}).get("model", {}).get("macro_f1", {}).get("mean")
        if _same_model(model_path, previous, classifier, labels_sha256, taxonomy):
            return TrainResult(previous, previous_f1, model_path, unchanged=True)
    scores = evaluate_all(papers, taxonomy, folds, repeats, config)
    new_f1 = round(scores[0].macro_f1[0], 4)
    if previous_f1 is not None and new_f1 < previous_f1 and not force:
        raise ModelError(f"kept the current model: its cross-validated macro-F1 "
                         f"{previous_f1:.4f} beats the new one's {new_f1:.4f}; pass --force "
                         "to replace it anyway", model_path)
    card = {
        "labels_file": paths.shown(labels_path),
        "labels_sha256": labels_sha256,
        "taxonomy_sha256": taxonomy.sha256,
        "categories": taxonomy.ids,
        "training_papers": len(papers),
        "support": support(papers, taxonomy),
        "evaluation": {"method": "repeated multilabel-stratified k-fold (iterative "
                                 "stratification); thresholds tuned inside each training fold",
                       "folds": folds, "repeats": repeats},
        "metrics": {s.name: s.to_dict() for s in scores},
    }
    return TrainResult(save_model(classifier, model_path, card), previous_f1, model_path)


def _same_model(path: Path, card: dict, classifier, labels_sha256: str,
                taxonomy: Taxonomy) -> bool:
    """True when the model at ``path`` came from the same inputs and equals ``classifier``."""
    if card.get("labels_sha256") != labels_sha256 or \
            card.get("taxonomy_sha256") != taxonomy.sha256:
        return False
    try:
        current = load_model(path, taxonomy.ids)
    except ModelError:
        return False  # a damaged or foreign model is replaced, never kept
    return classifier.equivalent(current.classifier)


@dataclass
class Suspect:
    id: str
    title: str
    hand: list[str]
    predicted: list[str]
    strength: float  # how far the out-of-fold scores are from the hand label, 0 to 1


def suspects(papers: LabeledPapers, taxonomy: Taxonomy, config: ModelConfig | None = None,
             folds: int = FOLDS, seed: int = 0) -> list[Suspect]:
    """Papers whose out-of-fold prediction disagrees with their hand label, most first."""
    config = config or ModelConfig()
    y = papers.indicator(taxonomy.ids)
    classifier = fit(papers.titles, papers.abstracts, y, taxonomy, config)
    scores = out_of_fold_scores(papers.titles, papers.abstracts, y, taxonomy, config,
                                n_folds=folds, seed=seed)
    predicted = scores >= classifier.thresholds
    # Distance from the wrong side of the threshold, scaled to 0..1 per direction.
    t = classifier.thresholds
    missed = np.where((y == 1) & ~predicted, (t - scores) / t, 0.0)
    extra = np.where((y == 0) & predicted, (scores - t) / (1 - t), 0.0)
    strength = np.maximum(missed, extra).max(axis=1)
    order = np.argsort(-strength, kind="stable")
    return [Suspect(papers.ids[i], papers.titles[i], papers.labels[i],
                    [cid for j, cid in enumerate(taxonomy.ids) if predicted[i, j]],
                    float(strength[i]))
            for i in order if strength[i] > 0]
