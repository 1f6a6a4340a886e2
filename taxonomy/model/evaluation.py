"""Quality figures from repeated multilabel-stratified cross-validation and held-out labeled
sets, beside two baselines; every prediction comes from a model fitted without the paper."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from ..labels.categories import Taxonomy, load_taxonomy
from .estimator import EfficiencyClassifier, paper_texts
from .state import calibrated

FOLDS, REPEATS = 5, 3


@dataclass
class Scores:
    """Metrics of one method: per-category means and the spread of micro/macro F1."""

    name: str
    precision: dict[str, float]
    recall: dict[str, float]
    f1: dict[str, float]
    micro_f1: tuple[float, float]  # (mean, std over repeats)
    macro_f1: tuple[float, float]
    labels_per_paper: tuple[float, float] = (0.0, 0.0)  # (predicted, gold)
    # Share of the papers labeled none that got at least one label (None: no such paper).
    none_tagged: float | None = None
    reliability: list[Bin] | None = None
    # The labels of each run (papers x categories), e.g. for a breakdown by kind of paper.
    runs: list[np.ndarray] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {key: {cid: round(v, 4) for cid, v in getattr(self, key).items()}
                                 for key in ("precision", "recall", "f1")}
        for key, names in (("micro_f1", ("mean", "std")), ("macro_f1", ("mean", "std")),
                           ("labels_per_paper", ("predicted", "gold"))):
            found[key] = dict(zip(names, (round(v, 4) for v in getattr(self, key)), strict=True))
        found["none_tagged"] = None if self.none_tagged is None else round(self.none_tagged, 4)
        if self.reliability is not None:
            found["reliability"] = [b.to_dict() for b in self.reliability]
        return found


@dataclass
class Bin:
    """Papers x categories whose calibrated score fell in [low, high): how many, their mean
    score, and the share that truly had the category. Calibrated scores keep the two close."""

    low: float
    high: float
    count: int
    mean_score: float
    observed: float

    def to_dict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "count": self.count,
                "mean_score": round(self.mean_score, 4), "observed": round(self.observed, 4)}


def reliability(Y: np.ndarray, scores: np.ndarray, bins: int = 10) -> list[Bin]:
    """The reliability table of calibrated scores, pooled over categories."""
    y, s = np.asarray(Y, dtype=float).ravel(), np.asarray(scores, dtype=float).ravel()
    which = np.minimum((s * bins).astype(int), bins - 1)
    return [Bin(round(b / bins, 2), round((b + 1) / bins, 2), int(inside.sum()),
                float(s[inside].mean()), float(y[inside].mean()))
            for b in range(bins) if (inside := which == b).any()]


# -- the baselines ---------------------------------------------------------------------------

class KeywordRules(ClassifierMixin, BaseEstimator):
    """A category is assigned when any of its taxonomy terms occurs (no learning at all)."""

    def __init__(self, taxonomy: Taxonomy | None = None):
        self.taxonomy = taxonomy

    def fit(self, X: Any, y: Any = None) -> KeywordRules:
        taxonomy = self.taxonomy if self.taxonomy is not None else load_taxonomy()
        self.patterns_ = [re.compile(r"\b(?:" + "|".join(re.escape(t) for t in c.terms) + r")\b",
                                     re.IGNORECASE) if c.terms else None
                          for c in taxonomy.categories]
        self.classes_ = np.asarray(taxonomy.ids, dtype=object)
        return self

    def predict(self, X: Any) -> np.ndarray:
        texts = _joined(X)
        return np.array([[int(bool(p and p.search(text))) for p in self.patterns_]
                         for text in texts], dtype=np.int8).reshape(len(texts), len(self.patterns_))


def _joined(X: Any) -> list[str]:
    """Each paper's title and abstract as one text."""
    titles, abstracts = paper_texts(X)
    return [f"{t} {a}" for t, a in zip(titles, abstracts, strict=True)]


def plain_pipeline() -> Any:
    """TfidfVectorizer(1-2 grams) + balanced LogisticRegression, default 0.5 threshold."""
    return make_pipeline(
        FunctionTransformer(_joined),
        TfidfVectorizer(ngram_range=(1, 2)),
        OneVsRestClassifier(LogisticRegression(class_weight="balanced", max_iter=1000)),
    )


def methods(taxonomy: Taxonomy, model: EfficiencyClassifier,
            baselines: bool = True) -> dict[str, Any]:
    """The estimators ``taxonomy evaluate`` compares, by name: ``model`` and the baselines."""
    found: dict[str, Any] = {"model": model}
    if baselines:
        found["keyword rules"] = KeywordRules(taxonomy)
        found["plain pipeline"] = plain_pipeline()
    return found


# -- evaluating ----------------------------------------------------------------------------------

def cross_validate(X: pd.DataFrame, Y: np.ndarray, category_ids: Sequence[str],
                   estimators: dict[str, Any], folds: int = FOLDS, repeats: int = REPEATS,
                   seed: int = 0) -> list[Scores]:
    """Each estimator's out-of-fold predictions on the same repeated stratified folds; the
    spread is over repeats (each repeat predicts every paper once)."""
    from iterstrat.ml_stratifiers import RepeatedMultilabelStratifiedKFold

    Y = np.asarray(Y)
    splitter = RepeatedMultilabelStratifiedKFold(n_splits=folds, n_repeats=repeats,
                                                 random_state=seed)
    splits = list(splitter.split(np.zeros(len(Y)), Y))
    found = []
    for name, estimator in estimators.items():
        runs, scores = [], []
        for repeat in range(repeats):
            predicted, proba = np.zeros(Y.shape, dtype=np.int8), np.zeros(Y.shape)
            for train, test in splits[repeat * folds:(repeat + 1) * folds]:
                fitted = clone(estimator).fit(X.iloc[train], Y[train])
                predicted[test], fold_proba = _labeled(fitted, X.iloc[test])
                if fold_proba is not None:
                    proba[test] = fold_proba
            runs.append(predicted)
            if isinstance(estimator, EfficiencyClassifier):
                scores.append(proba)
        found.append(summarize(name, Y, runs, category_ids, scores or None))
    return found


def _labeled(fitted: Any, test_X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
    """A fitted estimator's labels of ``test_X`` and, for the model, the calibrated scores
    from the same margins (None for the baselines)."""
    if not isinstance(fitted, EfficiencyClassifier):
        return fitted.predict(test_X), None
    margin = fitted.decision_function(test_X)
    return (margin >= 0).astype(np.int8), calibrated(margin, fitted.calibration_)


def holdout(X: pd.DataFrame, Y: np.ndarray, tests: Sequence[tuple[pd.DataFrame, np.ndarray]],
            category_ids: Sequence[str], estimators: dict[str, Any]) -> list[list[Scores]]:
    """Each estimator fitted once on all labeled papers and scored on each separate labeled
    set (``tests``: papers and labels): per set, the estimators' scores in order."""
    if not tests:
        return []  # no fit for nothing to score
    found: list[list[Scores]] = [[] for _ in tests]
    for name, estimator in estimators.items():
        fitted = clone(estimator).fit(X, np.asarray(Y))
        for scores, (test_X, test_Y) in zip(found, tests, strict=True):
            predicted, proba = _labeled(fitted, test_X)
            scores.append(summarize(name, np.asarray(test_Y), [predicted], category_ids,
                                    None if proba is None else [proba]))
    return found


def format_modes(Y: np.ndarray, predicted: np.ndarray, modes: Sequence[str]) -> str:
    """Per kind of paper: labels per paper, exact matches (predicted labels equal the gold
    ones) and errors."""
    Y, predicted, modes_ = np.asarray(Y), np.asarray(predicted), np.asarray(modes, dtype=object)
    lines = [f"{'kind of paper':<20}{'papers':>7}{'labels/paper':>16}{'exact':>8}"
             f"{'false +':>9}{'false -':>9}",
             f"{'':<20}{'':>7}{'pred / gold':>16}"]
    for mode in dict.fromkeys(modes):
        rows = modes_ == mode
        y, p = Y[rows], predicted[rows]
        per_paper = f"{p.sum(axis=1).mean():.2f} / {y.sum(axis=1).mean():.2f}"
        lines.append(f"{mode:<20}{rows.sum():>7}{per_paper:>16}{(y == p).all(axis=1).mean():>8.2f}"
                     f"{((p == 1) & (y == 0)).sum():>9}{((p == 0) & (y == 1)).sum():>9}")
    return "\n".join(lines)


def format_reliability(tables: dict[str, list[Bin]]) -> str:
    """Reliability tables side by side: per score bin, papers x categories, mean calibrated
    score and the observed share of true labels."""
    # Each column at least two spaces wider than its heading, so no two headings touch.
    widths = {name: max(16, len(name) + 5) for name in tables}
    lines = [f"{'score':<9}" + "".join(
        f"{name + ': n':>{widths[name]}}{'mean score':>12}{'observed':>10}" for name in tables)]
    found = {name: {(b.low, b.high): b for b in t} for name, t in tables.items()}
    for low, high in sorted(set().union(*found.values())):
        cells = "".join(
            f"{b.count:>{widths[name]}}{b.mean_score:>12.2f}{b.observed:>10.2f}"
            if (b := bins.get((low, high))) else f"{'-':>{widths[name]}}{'-':>12}{'-':>10}"
            for name, bins in found.items())
        lines.append(f"{f'{low:.1f}-{high:.1f}':<9}{cells}")
    return "\n".join(lines)


def summarize(name: str, Y: np.ndarray, runs: list[np.ndarray],
              category_ids: Sequence[str], scores: list[np.ndarray] | None = None) -> Scores:
    """Per-category P/R/F1 (mean over runs), micro and macro F1 with their spread, labels per
    paper, the share of none papers tagged, and the reliability table of ``scores``."""
    per_run = [precision_recall_fscore_support(Y, p, average=None, zero_division=0)
               for p in runs]

    def mean(index: int) -> dict[str, float]:
        return {cid: float(np.mean([r[index][j] for r in per_run]))
                for j, cid in enumerate(category_ids)}

    micro = [float(f1_score(Y, p, average="micro", zero_division=0)) for p in runs]
    macro = [float(np.mean(r[2])) for r in per_run]
    none = Y.sum(axis=1) == 0
    predicted = float(np.mean([p.sum(axis=1).mean() for p in runs]))
    none_tagged = (float(np.mean([(p[none].sum(axis=1) > 0).mean() for p in runs]))
                   if none.any() else None)
    table = (reliability(np.concatenate([Y] * len(scores)), np.concatenate(scores))
             if scores else None)
    return Scores(name, mean(0), mean(1), mean(2),
                  (float(np.mean(micro)), float(np.std(micro))),
                  (float(np.mean(macro)), float(np.std(macro))),
                  (predicted, float(Y.sum(axis=1).mean())), none_tagged, table, runs)


def format_table(results: list[Scores], category_ids: Sequence[str]) -> str:
    """Methods side by side: per-category P / R / F1, then micro and macro F1 with spread."""
    width = max(15, *(len(r.name) for r in results)) + 2

    def row(label: str, cells: list[str]) -> str:
        return f"{label:<20}" + "".join(f"{cell:>{width}}" for cell in cells)

    lines = [row("category", [r.name for r in results]),
             row("", ["P / R / F1"] * len(results))]
    for cid in category_ids:
        lines.append(row(cid, [f"{r.precision[cid]:.2f}/{r.recall[cid]:.2f}/{r.f1[cid]:.2f}"
                               for r in results]))
    for label, key in (("micro F1", "micro_f1"), ("macro F1", "macro_f1")):
        lines.append(row(label, [f"{getattr(r, key)[0]:.3f} ± {getattr(r, key)[1]:.3f}"
                                 for r in results]))
    lines.append(row("labels/paper", [f"{r.labels_per_paper[0]:.2f} / "
                                      f"{r.labels_per_paper[1]:.2f}" for r in results]))
    if any(r.none_tagged is not None for r in results):
        lines.append(row("none papers tagged", ["-" if r.none_tagged is None
                                                else f"{r.none_tagged:.2f}" for r in results]))
    return "\n".join(lines)
