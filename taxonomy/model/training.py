"""Training, evaluating and reviewing labels: `taxonomy train`, `evaluate`, `labels suspects`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import cross_val_predict

from .. import paths
from ..errors import LabelsError, ModelError
from ..labels.categories import Taxonomy
from ..labels.labelfile import MIN_SUPPORT, LabeledPapers, load_labels, support
from .artifact import load_model, read_card, save_model, sha256_file
from .estimator import IMPLIED_PARAMS, EfficiencyClassifier
from .evaluation import FOLDS, REPEATS, Scores, cross_validate, holdout, methods, summarize
from .state import STATE_FORMAT, ScoringState
from .thresholds import stratified_folds

# The categories whose decision is corrected for their share on real listings (see
# ``EfficiencyClassifier.label_shares``): convergence speed is a third of the hand labels, a
# fifth of real listings; the held-out sets' other shares follow how the sets were designed.
SHIFTED = ("convergence_speed",)


def held_out_files() -> list[Path]:
    """The labeled sets never trained on that exist here: the stress and near-miss sets."""
    return [p for p in (paths.stress_file(), paths.near_miss_file()) if p.is_file()]


def real_shares(taxonomy: Taxonomy) -> tuple[dict[str, float], str] | None:
    """The share of each ``SHIFTED`` category in the held-out sets pooled (written to look like
    real listings), and where it comes from; None without held-out sets."""
    files = held_out_files()
    if not files:
        return None
    y = np.vstack([load_labels(p, taxonomy).indicator(taxonomy.ids) for p in files])
    shares = {c: round(float(y[:, taxonomy.ids.index(c)].mean()), 4) for c in SHIFTED
              if c in taxonomy.ids}
    source = " + ".join(paths.shown(p) for p in files) + f" ({len(y)} papers)"
    return shares, source


def shipped_model(taxonomy: Taxonomy) -> EfficiencyClassifier:
    """The estimator the shipped model is: default parameters, the contrastive examples
    (``labels/contrastive.csv``, if any), and convergence speed's decision corrected for its
    share on real listings."""
    path = paths.contrastive_file()
    shares = real_shares(taxonomy)
    return EfficiencyClassifier(taxonomy=taxonomy,
                                contrastive=load_labels(path, taxonomy) if path.is_file() else None,
                                label_shares=None if shares is None else shares[0])


def ablations(taxonomy: Taxonomy) -> dict[str, EfficiencyClassifier]:
    """The shipped estimator and the variants without each addition aimed at convergence
    speed's precision, by name."""
    shipped = shipped_model(taxonomy)
    return {
        "shipped": shipped,
        "without contrastive examples": clone(shipped).set_params(contrastive=None),
        "without the prior shift": clone(shipped).set_params(label_shares=None),
        "without both": clone(shipped).set_params(contrastive=None, label_shares=None),
    }


def evaluate_all(papers: LabeledPapers, taxonomy: Taxonomy, folds: int = FOLDS,
                 repeats: int = REPEATS, model: EfficiencyClassifier | None = None,
                 baselines: bool = True) -> list[Scores]:
    """Cross-validated scores of the model and, side by side, of both baselines."""
    model = model or shipped_model(taxonomy)
    return cross_validate(papers.frame(), papers.indicator(taxonomy.ids), taxonomy.ids,
                          methods(taxonomy, model, baselines), folds=folds, repeats=repeats)


def holdout_all(papers: LabeledPapers, tests: Sequence[LabeledPapers], taxonomy: Taxonomy,
                model: EfficiencyClassifier | None = None,
                baselines: bool = True) -> list[list[Scores]]:
    """The model and both baselines fitted once on ``papers``, scored on each separate
    labeled set: per set, the model's scores first."""
    model = model or shipped_model(taxonomy)
    return holdout(papers.frame(), papers.indicator(taxonomy.ids),
                   [(test.frame(), test.indicator(taxonomy.ids)) for test in tests],
                   taxonomy.ids, methods(taxonomy, model, baselines))


def held_out_metrics(state: ScoringState, taxonomy: Taxonomy, path: Path) -> dict | None:
    """The fitted model scored on a held-out set, for the card; None without the file."""
    if not path.is_file():
        return None
    test = load_labels(path, taxonomy)
    scores = state.scores(test.titles, test.abstracts)
    predicted = (scores >= state.thresholds).astype(np.int8)
    result = summarize("model", test.indicator(taxonomy.ids), [predicted], taxonomy.ids, [scores])
    return {"file": paths.shown(path), "sha256": sha256_file(path), "papers": len(test),
            "metrics": result.to_dict()}


@dataclass
class TrainResult:
    card: dict
    previous_macro_f1: float | None
    # True when the labels, taxonomy and settings are those of the current model and the new
    # fit is equivalent to it: the files were left untouched.
    unchanged: bool = False


def train(papers: LabeledPapers, labels_path: str | os.PathLike, taxonomy: Taxonomy,
          model_path: str | os.PathLike, force: bool = False, folds: int = FOLDS,
          repeats: int = REPEATS, model: EfficiencyClassifier | None = None) -> TrainResult:
    """Fit on every labeled paper, cross-validate, and write the model and its card; keeps an
    equivalent one of the same inputs, raises ModelError over a better one unless ``force``."""
    hand = support(papers, taxonomy)
    unlabeled = [cid for cid, n in hand.items() if n == 0]
    if unlabeled:
        raise LabelsError(f"cannot train: no paper is labeled {', '.join(unlabeled)}; label "
                          f"papers for every category (at least {MIN_SUPPORT} each)",
                          labels_path)
    model = model or shipped_model(taxonomy)
    model_path = Path(model_path)
    state = clone(model).fit(papers.frame(), papers.indicator(taxonomy.ids)).export()
    labels_sha256 = sha256_file(labels_path)
    previous = read_card(model_path) if model_path.exists() else None
    previous_f1 = None
    if previous is not None:
        previous_f1 = previous.get("metrics", {}).get("model", {}).get("macro_f1", {}).get("mean")
        if _same_model(model_path, previous, state, labels_sha256, taxonomy):
            return TrainResult(previous, previous_f1, unchanged=True)
    scores = evaluate_all(papers, taxonomy, folds, repeats, model)
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
        "support": hand,
        "evaluation": {"method": "repeated multilabel-stratified k-fold (iterative "
                                 "stratification); thresholds tuned inside each training fold",
                       "folds": folds, "repeats": repeats},
        "metrics": {s.name: s.to_dict() for s in scores},
    }
    if model.contrastive is not None:
        card["contrastive_examples"] = {
            "file": paths.shown(paths.contrastive_file()), "papers": len(model.contrastive),
            "sha256": sha256_file(paths.contrastive_file()),
            "weight": model.contrastive_weight}
    if model.label_shares:
        shares = real_shares(taxonomy)  # where the shares come from
        card["label_shares"] = {
            "rule": "the decision of each category listed is moved by the log-odds of its "
                    "share in the hand labels minus those of its share on real listings",
            "source": shares[1] if shares is not None else "given",
            **{cid: {"real": share, "hand_labels": round(hand[cid] / len(papers), 4)}
               for cid, share in model.label_shares.items()}}
    held_out = {key: held_out_metrics(state, taxonomy, path) for key, path in
                (("near_miss", paths.near_miss_file()), ("stress", paths.stress_file()))}
    card.update({key: found for key, found in held_out.items() if found is not None})
    if held_out["stress"] is not None:
        # What to expect on a real dump: the stress set is the check closest to one.
        metrics = held_out["stress"]["metrics"]
        card["expected"] = {"source": "stress set", "precision": metrics["precision"],
                            "recall": metrics["recall"]}
    return TrainResult(save_model(state, model_path, card), previous_f1)


def _same_model(path: Path, card: dict, state: ScoringState, labels_sha256: str,
                taxonomy: Taxonomy) -> bool:
    """Whether the model at ``path`` came from the same inputs, equals ``state`` and is stored
    in the current layout (an older layout is rewritten, same fit)."""
    if card.get("labels_sha256") != labels_sha256 or \
            card.get("taxonomy_sha256") != taxonomy.sha256 or \
            card.get("format") != STATE_FORMAT:
        return False
    try:
        current = load_model(path, taxonomy.ids)
    except ModelError:
        return False  # a damaged or foreign model is replaced, never kept
    current.state.params = {**IMPLIED_PARAMS, **current.state.params}
    return state.equivalent(current.state)


@dataclass
class Suspect:
    id: str
    title: str
    hand: list[str]
    predicted: list[str]
    strength: float  # how far the out-of-fold scores are from the hand label, 0 to 1


def suspects(papers: LabeledPapers, taxonomy: Taxonomy,
             model: EfficiencyClassifier | None = None, folds: int = FOLDS,
             seed: int = 0) -> list[Suspect]:
    """Papers whose out-of-fold prediction disagrees with their hand label, most first."""
    model = model or shipped_model(taxonomy)
    X, y = papers.frame(), papers.indicator(taxonomy.ids)
    t = clone(model).fit(X, y).thresholds_
    untuned = clone(model).set_params(threshold_folds=0)
    scores = cross_val_predict(untuned, X, y, cv=stratified_folds(y, folds, seed),
                               method="predict_proba")
    predicted = scores >= t
    # Distance from the wrong side of the threshold t, scaled to 0..1 per direction.
    missed = np.where((y == 1) & ~predicted, (t - scores) / t, 0.0)
    extra = np.where((y == 0) & predicted, (scores - t) / (1 - t), 0.0)
    strength = np.maximum(missed, extra).max(axis=1)
    order = np.argsort(-strength, kind="stable")
    return [Suspect(papers.ids[i], papers.titles[i], papers.labels[i],
                    [cid for j, cid in enumerate(taxonomy.ids) if predicted[i, j]],
                    float(strength[i]))
            for i in order if strength[i] > 0]


def format_suspects(found: list[Suspect], total: int, top: int) -> str:
    """The ``top`` strongest suspects as a terminal table."""
    lines = [f"{len(found)} of {total} papers disagree with their out-of-fold prediction; the "
             f"{min(top, len(found))} strongest:",
             f"{'strength':>8}  {'id':<14} {'hand label':<32} {'predicted':<32} title"]
    for s in found[:top]:
        lines.append(f"{s.strength:>8.2f}  {s.id:<14} {';'.join(s.hand) or '(none)':<32} "
                     f"{';'.join(s.predicted) or '(none)':<32} "
                     f"{s.title if len(s.title) <= 60 else s.title[:59] + '…'}")
    return "\n".join(lines)
