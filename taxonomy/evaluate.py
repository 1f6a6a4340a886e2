"""Honest quality figures: repeated multilabel-stratified cross-validation, side by side with
two baselines (keyword rules from the taxonomy terms, and the plain TF-IDF + logistic pipeline).

Every score of a paper comes from a model fitted without it; the shipped model's thresholds are
tuned inside each training fold, so the test fold never influences them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline

from . import model as model_mod
from .folds import stratified_folds
from .labels.categories import Taxonomy

# A predictor is fitted on (titles, abstracts, y) and returns a function that predicts 0/1 rows.
Predictor = Callable[[list[str], list[str], np.ndarray], Callable[[list[str], list[str]],
                                                                    np.ndarray]]


@dataclass
class Scores:
    """Metrics of one method: per-category means and the spread of micro/macro F1."""

    name: str
    precision: dict[str, float]
    recall: dict[str, float]
    f1: dict[str, float]
    micro_f1: tuple[float, float]  # (mean, std over repeats)
    macro_f1: tuple[float, float]

    def to_dict(self) -> dict:
        return {
            "precision": _rounded(self.precision), "recall": _rounded(self.recall),
            "f1": _rounded(self.f1),
            "micro_f1": {"mean": round(self.micro_f1[0], 4), "std": round(self.micro_f1[1], 4)},
            "macro_f1": {"mean": round(self.macro_f1[0], 4), "std": round(self.macro_f1[1], 4)},
        }


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in values.items()}


def shipped_model(taxonomy: Taxonomy, config: model_mod.ModelConfig | None = None) -> Predictor:
    def fit(titles, abstracts, y):
        fitted = model_mod.fit(titles, abstracts, y, taxonomy, config)
        return fitted.predict
    return fit


def plain_pipeline(taxonomy: Taxonomy) -> Predictor:
    """TfidfVectorizer(1-2 grams) + balanced LogisticRegression, default 0.5 threshold."""
    def fit(titles, abstracts, y):
        pipeline = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2)),
            OneVsRestClassifier(LogisticRegression(class_weight="balanced", max_iter=1000)),
        )
        pipeline.fit([f"{t} {a}" for t, a in zip(titles, abstracts, strict=True)], y)
        return lambda ts, abs_: pipeline.predict(
            [f"{t} {a}" for t, a in zip(ts, abs_, strict=True)])
    return fit


def keyword_rules(taxonomy: Taxonomy) -> Predictor:
    """A category is assigned when any of its indicative terms occurs (no learning at all)."""
    patterns = [re.compile(r"\b(?:" + "|".join(re.escape(t) for t in c.terms) + r")\b",
                           re.IGNORECASE) if c.terms else None for c in taxonomy.categories]

    def predict(titles, abstracts):
        return np.array([[int(bool(p and p.search(f"{t} {a}"))) for p in patterns]
                         for t, a in zip(titles, abstracts, strict=True)], dtype=np.int8)
    return lambda titles, abstracts, y: predict


def cross_validate(
    titles: Sequence[str],
    abstracts: Sequence[str],
    y: np.ndarray,
    category_ids: Sequence[str],
    methods: dict[str, Predictor],
    folds: int = 5,
    repeats: int = 3,
    seed: int = 0,
) -> list[Scores]:
    """Each method's out-of-fold predictions on the same repeated stratified folds."""
    titles, abstracts, y = list(titles), list(abstracts), np.asarray(y)
    predictions = {name: [] for name in methods}
    for repeat in range(repeats):
        splits = stratified_folds(y, folds, seed + repeat)
        for name, method in methods.items():
            predicted = np.zeros_like(y)
            for train, test in splits:
                predict = method([titles[i] for i in train], [abstracts[i] for i in train],
                                 y[train])
                predicted[test] = predict([titles[i] for i in test],
                                          [abstracts[i] for i in test])
            predictions[name].append(predicted)
    return [summarize(name, y, runs, category_ids) for name, runs in predictions.items()]


def holdout(titles, abstracts, y, test_titles, test_abstracts, test_y, category_ids,
            methods: dict[str, Predictor]) -> list[Scores]:
    """Each method fitted on all labeled papers and scored on a separate labeled set."""
    results = []
    for name, method in methods.items():
        predict = method(list(titles), list(abstracts), np.asarray(y))
        predicted = predict(list(test_titles), list(test_abstracts))
        results.append(summarize(name, np.asarray(test_y), [predicted], category_ids))
    return results


def summarize(name: str, y: np.ndarray, runs: list[np.ndarray],
              category_ids: Sequence[str]) -> Scores:
    per_run = [_metrics(y, p) for p in runs]
    mean = lambda key: {cid: float(np.mean([r[key][j] for r in per_run]))  # noqa: E731
                        for j, cid in enumerate(category_ids)}
    micro = [r["micro"] for r in per_run]
    macro = [float(np.mean(r["f1"])) for r in per_run]
    return Scores(name, mean("precision"), mean("recall"), mean("f1"),
                  (float(np.mean(micro)), float(np.std(micro))),
                  (float(np.mean(macro)), float(np.std(macro))))


def _metrics(y: np.ndarray, predicted: np.ndarray) -> dict:
    truth, guess = y.astype(bool), predicted.astype(bool)
    tp = (truth & guess).sum(axis=0).astype(float)
    fp = (~truth & guess).sum(axis=0).astype(float)
    fn = (truth & ~guess).sum(axis=0).astype(float)
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    recall = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=(tp + fn) > 0)
    f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=(2 * tp + fp + fn) > 0)
    total = 2 * tp.sum() + fp.sum() + fn.sum()
    micro = float(2 * tp.sum() / total) if total else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "micro": micro}


def format_table(results: list[Scores], category_ids: Sequence[str]) -> str:
    """Methods side by side: per-category P / R / F1, then micro and macro F1 with spread."""
    width = max(15, *(len(r.name) for r in results))
    head = f"{'category':<20}" + "".join(f"{r.name:>{width + 2}}" for r in results)
    lines = [head, f"{'':<20}" + "".join(f"{'P / R / F1':>{width + 2}}" for _ in results)]
    for cid in category_ids:
        cells = "".join(
            f"{f'{r.precision[cid]:.2f}/{r.recall[cid]:.2f}/{r.f1[cid]:.2f}':>{width + 2}}"
            for r in results)
        lines.append(f"{cid:<20}{cells}")
    for label, key in (("micro F1", "micro_f1"), ("macro F1", "macro_f1")):
        cells = "".join(f"{f'{getattr(r, key)[0]:.3f} ± {getattr(r, key)[1]:.3f}':>{width + 2}}"
                        for r in results)
        lines.append(f"{label:<20}{cells}")
    return "\n".join(lines)
