"""Honest quality figures: repeated multilabel-stratified cross-validation, side by side with
two baselines (keyword rules from the taxonomy terms, and the plain TF-IDF + logistic pipeline).

Every prediction of a paper comes from a model fitted without it (scikit-learn's
``cross_val_predict`` over iterative-stratification's ``RepeatedMultilabelStratifiedKFold``);
the model's thresholds are tuned inside each training fold, so the test fold never sees them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, precision_recall_fscore_support
from sklearn.model_selection import cross_val_predict
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from ..labels.categories import Taxonomy, load_taxonomy
from .estimator import EfficiencyClassifier, paper_texts

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "precision": _rounded(self.precision), "recall": _rounded(self.recall),
            "f1": _rounded(self.f1),
            "micro_f1": {"mean": round(self.micro_f1[0], 4), "std": round(self.micro_f1[1], 4)},
            "macro_f1": {"mean": round(self.macro_f1[0], 4), "std": round(self.macro_f1[1], 4)},
        }


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in values.items()}


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
        titles, abstracts = paper_texts(X)
        return np.array([[int(bool(p and p.search(f"{t} {a}"))) for p in self.patterns_]
                         for t, a in zip(titles, abstracts, strict=True)],
                        dtype=np.int8).reshape(len(titles), len(self.patterns_))


def _joined(X: Any) -> list[str]:
    titles, abstracts = paper_texts(X)
    return [f"{t} {a}" for t, a in zip(titles, abstracts, strict=True)]


def plain_pipeline() -> Any:
    """TfidfVectorizer(1-2 grams) + balanced LogisticRegression, default 0.5 threshold."""
    return make_pipeline(
        FunctionTransformer(_joined),
        TfidfVectorizer(ngram_range=(1, 2)),
        OneVsRestClassifier(LogisticRegression(class_weight="balanced", max_iter=1000)),
    )


def methods(taxonomy: Taxonomy, model: EfficiencyClassifier | None = None,
            baselines: bool = True) -> dict[str, Any]:
    """The estimators ``taxonomy evaluate`` compares, by name."""
    found: dict[str, Any] = {"model": model or EfficiencyClassifier(taxonomy=taxonomy)}
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
    runs: dict[str, list[np.ndarray]] = {name: [] for name in estimators}
    for repeat in range(repeats):
        cv = splits[repeat * folds:(repeat + 1) * folds]
        for name, estimator in estimators.items():
            runs[name].append(cross_val_predict(estimator, X, Y, cv=cv))
    return [summarize(name, Y, predicted, category_ids) for name, predicted in runs.items()]


def holdout(X: pd.DataFrame, Y: np.ndarray, test_X: pd.DataFrame, test_Y: np.ndarray,
            category_ids: Sequence[str], estimators: dict[str, Any]) -> list[Scores]:
    """Each estimator fitted on all labeled papers and scored on a separate labeled set."""
    from sklearn.base import clone

    return [summarize(name, np.asarray(test_Y),
                      [clone(estimator).fit(X, np.asarray(Y)).predict(test_X)], category_ids)
            for name, estimator in estimators.items()]


def summarize(name: str, Y: np.ndarray, runs: list[np.ndarray],
              category_ids: Sequence[str]) -> Scores:
    """Per-category precision, recall and F1 (mean over runs), micro and macro F1 with their
    spread over runs."""
    per_run = [precision_recall_fscore_support(Y, p, average=None, zero_division=0)
               for p in runs]

    def mean(index: int) -> dict[str, float]:
        return {cid: float(np.mean([r[index][j] for r in per_run]))
                for j, cid in enumerate(category_ids)}

    micro = [float(f1_score(Y, p, average="micro", zero_division=0)) for p in runs]
    macro = [float(np.mean(r[2])) for r in per_run]
    return Scores(name, mean(0), mean(1), mean(2),
                  (float(np.mean(micro)), float(np.std(micro))),
                  (float(np.mean(macro)), float(np.std(macro))))


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
