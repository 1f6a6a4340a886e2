"""The classifier as a scikit-learn estimator (TF-IDF, a logistic regression and a threshold
per category); ``export()`` gives the plain scoring state tagging uses without scikit-learn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from ..labels.categories import Taxonomy, load_taxonomy
from ..labels.labelfile import LabeledPapers
from .features import Block, CharBlock, TermBlock, WordBlock, tokenized
from .state import ScoringState, calibrated, margins, sigmoid
from .text import compose
from .thresholds import GRID, best_thresholds, stratified_folds

# Threads BLAS may use while fitting. More threads sum floating point in another order, which
# moves the weights' last bits; one thread makes a fit the same on every machine.
BLAS_THREADS = 1
# Solvers of LogisticRegression that fit an L2 penalty with sample weights.
SOLVERS = ("liblinear", "lbfgs", "newton-cg", "newton-cholesky", "sag", "saga")
# Parameters added after model files were first written, with the value every file written
# before then was fitted with: a file without them is read as having them.
IMPLIED_PARAMS = {"solver": "liblinear"}


@dataclass(kw_only=True, eq=False, repr=False)
class EfficiencyClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label classifier of papers into the taxonomy's categories.

    ``X`` is a DataFrame with ``title`` and ``abstract`` columns (or ``(title, abstract)``
    pairs); ``y`` a 0/1 matrix with a column per category in the taxonomy's order. The
    defaults are the shipped model's.

    Parameters
    ----------
    taxonomy : Taxonomy, default=None
        The categories and their prior knowledge (None: the taxonomy file in use).
    title_repeats : int, default=2
        How often the title is repeated before the abstract, so its words weigh more.
    ngram_range, token_pattern, min_df, max_df, sublinear_tf, stop_words
        The word block, as in ``TfidfVectorizer`` (lower-cased; at most bigrams).
    char_ngram_range, char_min_df, char_max_df, char_weight
        The character block (``analyzer='char_wb'``) and its scale; a range of None leaves
        it out.
    term_weight : float, default=0.1
        Scale of the term block, log(1 + occurrences of each category's terms); 0 leaves it
        out.
    C, class_weight, max_iter, solver
        One L2-regularized ``LogisticRegression`` per category; the solver one of
        ``SOLVERS``.
    prior_weight : float, default=1.0
        Sample weight of the taxonomy file's definitions, rules and terms as labeled
        pseudo-documents (0 leaves them out); ``prior_examples``: its example abstracts too.
    contrastive, contrastive_weight : LabeledPapers or None, float
        Invented abstracts that teach a category's boundary, trained on as pseudo-documents
        of this weight; like the prior they never enter the inner folds.
    label_shares : dict or None, default=None
        Per category named, its share of papers where the model is used: its decision moves
        by the log-odds difference from the hand labels' share (a prior shift), and its
        calibration weighs the hand labels to that share.
    threshold_folds, threshold_grid, threshold_shrink
        Per category, the grid threshold with the best F1 on out-of-fold predictions of
        this many inner folds (0: 0.5, no calibration), moved this share of the way to 0.5
        (F1 on the seeds, all about efficiency, rewards thresholds too low for real dumps).
    relevance_gate : float or None, default=0.3
        The least probability of a binary "about any lever at all?" model for any category
        to be assigned; None leaves the gate out.
    random_state : int, default=0
        Seed of the inner folds and of liblinear.

    Attributes
    ----------
    blocks_, coef_, intercept_ : the feature blocks and each category's logistic regression
    gate_coef_, gate_intercept_, gate_cutoff_ : the gate's weights, intercept and cutoff on
        its logit (None without a gate)
    cutoffs_, calibration_, thresholds_ : each category's cutoff on its logit, score
        calibration (slope, offset on the margin) and the score at which it is assigned
    category_ids_, classes_ : the categories, in the columns' order
    """

    # Types, checked by scikit-learn when fitting. Value ranges are checked in
    # ``_check_values``: scikit-learn's Interval and StrOptions are in a private module.
    _parameter_constraints: ClassVar[dict] = {
        "taxonomy": [Taxonomy, None],
        "title_repeats": [Integral],
        "ngram_range": [tuple],
        "token_pattern": [str],
        "min_df": [Real],
        "max_df": [Real],
        "sublinear_tf": ["boolean"],
        "stop_words": [str, list, None],
        "char_ngram_range": [tuple, None],
        "char_min_df": [Real],
        "char_max_df": [Real],
        "char_weight": [Real],
        "term_weight": [Real],
        "C": [Real],
        "class_weight": [str, dict, None],
        "max_iter": [Integral],
        "solver": [str],
        "prior_weight": [Real],
        "prior_examples": ["boolean"],
        "contrastive": [LabeledPapers, None],
        "contrastive_weight": [Real],
        "label_shares": [dict, None],
        "threshold_folds": [Integral],
        "threshold_grid": ["array-like"],
        "threshold_shrink": [Real],
        "relevance_gate": [Real, None],
        "random_state": [Integral],
    }

    taxonomy: Taxonomy | None = None
    title_repeats: int = 2
    ngram_range: tuple[int, int] = (1, 2)
    token_pattern: str = r"(?u)\b\w\w+\b"
    min_df: int = 1
    max_df: float = 0.5
    sublinear_tf: bool = True
    stop_words: str | None = "english"
    char_ngram_range: tuple[int, int] | None = (3, 5)
    char_min_df: int = 2
    char_max_df: float = 0.5
    char_weight: float = 0.5
    term_weight: float = 0.1
    C: float = 10.0
    class_weight: str | None = "balanced"
    max_iter: int = 2000
    solver: str = "liblinear"
    prior_weight: float = 1.0
    prior_examples: bool = True
    contrastive: LabeledPapers | None = None
    contrastive_weight: float = 1.0
    label_shares: dict[str, float] | None = None
    threshold_folds: int = 5
    threshold_grid: tuple[float, ...] = GRID
    threshold_shrink: float = 0.5
    relevance_gate: float | None = 0.3
    random_state: int = 0

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.target_tags.required = True
        tags.target_tags.two_d_labels = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.classifier_tags.multi_label = True
        return tags

    # -- fitting ---------------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> EfficiencyClassifier:
        """Fit the blocks and per-category models, then calibration and thresholds on inner
        out-of-fold predictions; ``y`` may be a DataFrame with the category ids as columns."""
        self._validate_params()
        self._check_values()
        taxonomy = self.taxonomy if self.taxonomy is not None else load_taxonomy()
        Y = _indicator(y, list(taxonomy.ids))
        titles, abstracts = paper_texts(X)
        if len(titles) != len(Y):
            raise ValueError(f"X has {len(titles)} papers but y has {len(Y)} rows")
        if not titles:
            raise ValueError("X holds no papers; fitting needs at least one")
        with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
            self._fit(titles, abstracts, Y, taxonomy)
        return self

    def _check_values(self) -> None:
        problems = [
            (self.title_repeats >= 0, "title_repeats must be at least 0"),
            (1 <= self.ngram_range[0] <= self.ngram_range[1] <= 2,
             f"ngram_range {self.ngram_range} must lie within (1, 2)"),
            (self.C > 0, "C must be greater than 0"),
            (self.max_iter >= 1, "max_iter must be at least 1"),
            (self.solver in SOLVERS, f"solver must be one of {', '.join(SOLVERS)}"),
            (self.prior_weight >= 0, "prior_weight must be at least 0"),
            (self.contrastive_weight >= 0, "contrastive_weight must be at least 0"),
            (all(0 < v < 1 for v in (self.label_shares or {}).values()),
             "every share in label_shares must lie within (0, 1)"),
            (self.threshold_folds == 0 or self.threshold_folds >= 2,
             "threshold_folds must be 0 (no tuning) or at least 2"),
            (0 <= self.threshold_shrink <= 1, "threshold_shrink must lie within [0, 1]"),
            (self.relevance_gate is None or 0 < self.relevance_gate < 1,
             "relevance_gate must lie within (0, 1), or be None"),
            (self.char_weight >= 0 and self.term_weight >= 0,
             "char_weight and term_weight must be at least 0"),
        ]
        wrong = [message for ok, message in problems if not ok]
        if wrong:
            raise ValueError(f"{type(self).__name__}: {'; '.join(wrong)}")

    def _fit(self, titles: list[str], abstracts: list[str], Y: np.ndarray,
             taxonomy: Taxonomy) -> None:
        docs = compose(titles, abstracts, self.title_repeats)
        prior_docs, prior_y, prior_weights = self._prior(taxonomy)
        self.blocks_ = self._fit_blocks(docs + prior_docs, taxonomy)
        both = tokenized(docs + prior_docs, self.token_pattern)
        features = sparse.hstack([b.transform(both) for b in self.blocks_], format="csr")
        papers, prior = features[: len(docs)], features[len(docs):]
        n, gated = Y.shape[1], self.relevance_gate is not None
        coef, intercept = self._fit_linear(papers, Y, prior, prior_y, prior_weights)
        self.coef_, self.intercept_ = coef[:n], intercept[:n]
        self.gate_coef_: np.ndarray | None = coef[n] if gated else None
        self.gate_intercept_: float | None = float(intercept[n]) if gated else None
        self.gate_cutoff_ = (None if self.relevance_gate is None
                             else float(np.log(self.relevance_gate / (1 - self.relevance_gate))))
        self.category_ids_ = list(taxonomy.ids)
        self.classes_ = np.asarray(self.category_ids_, dtype=object)
        self.cutoffs_ = np.zeros(n)  # probability 0.5
        self.calibration_ = np.tile([1.0, 0.0], (n, 1))
        if self.threshold_folds > 0:
            oof = np.zeros((len(Y), len(coef)))
            for train, test in stratified_folds(Y, self.threshold_folds, self.random_state):
                coef, intercept = self._fit_linear(papers[train], Y[train], prior, prior_y,
                                                   prior_weights)
                oof[test] = papers[test] @ coef.T + intercept
            best = best_thresholds(sigmoid(oof[:, :n]), Y, self.threshold_grid)
            shrunk = best + self.threshold_shrink * (0.5 - best)
            shift, weights = self._prior_shift(Y, taxonomy.ids)
            self.cutoffs_ = np.log(shrunk / (1 - shrunk)) + shift
            self.calibration_ = platt(margins(oof, self.cutoffs_, self.gate_cutoff_), Y, weights)
        # Scores are calibrated margins: a category is assigned when its score reaches this.
        self.thresholds_ = sigmoid(self.calibration_[:, 1])

    def _prior(self, taxonomy: Taxonomy) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The taxonomy's and the contrastive pseudo-documents, their labels and weights."""
        parts: list[tuple[list[str], np.ndarray, float]] = [
            ([], np.zeros((0, len(taxonomy.ids)), dtype=np.int8), 0.0)]
        if self.prior_weight > 0:
            parts.append((*prior_documents(taxonomy, self.prior_examples), self.prior_weight))
        extra = self.contrastive
        if extra is not None and len(extra) and self.contrastive_weight > 0:
            parts.append((compose(extra.titles, extra.abstracts, self.title_repeats),
                          extra.indicator(taxonomy.ids), self.contrastive_weight))
        return ([doc for docs, _, _ in parts for doc in docs], np.vstack([y for _, y, _ in parts]),
                np.concatenate([np.full(len(docs), float(w)) for docs, _, w in parts]))

    def _prior_shift(self, Y: np.ndarray, category_ids: Sequence[str]
                     ) -> tuple[np.ndarray, np.ndarray | None]:
        """Per category, the log-odds of its share in ``Y`` minus those of ``label_shares``
        (its cutoff's shift), and calibration weights giving ``Y`` those shares (or None)."""
        if not self.label_shares:
            return np.zeros(Y.shape[1]), None
        unknown = sorted(set(self.label_shares) - set(category_ids))
        if unknown:
            raise ValueError(f"label_shares names unknown categories: {', '.join(unknown)}")
        here = Y.mean(axis=0)
        # Categories without a share, or all or none of whose papers have them, stay as they are.
        there = np.array([self.label_shares.get(cid, np.nan) for cid in category_ids], dtype=float)
        moved = ~np.isnan(there) & (here > 0) & (here < 1)
        here, there = np.where(moved, here, 0.5), np.where(moved, there, 0.5)
        shift = np.log(here / (1 - here)) - np.log(there / (1 - there))
        weights = np.where(Y == 1, there / here, (1 - there) / (1 - here))
        return shift, weights

    def _fit_blocks(self, docs: list[str], taxonomy: Taxonomy) -> list[Block]:
        """The feature blocks' vocabularies and idf weights, fitted by scikit-learn."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        word = TfidfVectorizer(
            ngram_range=self.ngram_range, min_df=self.min_df, max_df=self.max_df,
            sublinear_tf=self.sublinear_tf, stop_words=self.stop_words, lowercase=True,
            token_pattern=self.token_pattern).fit(docs)
        blocks: list[Block] = [WordBlock(
            [str(t) for t in word.get_feature_names_out()], word.idf_,
            sorted(word.get_stop_words() or ()), self.ngram_range, self.sublinear_tf)]
        if self.char_ngram_range is not None:
            char = TfidfVectorizer(
                analyzer="char_wb", ngram_range=self.char_ngram_range, min_df=self.char_min_df,
                max_df=self.char_max_df, sublinear_tf=self.sublinear_tf, lowercase=True).fit(docs)
            blocks.append(CharBlock([str(t) for t in char.get_feature_names_out()], char.idf_,
                                    self.char_ngram_range, self.sublinear_tf, self.char_weight))
        if self.term_weight > 0:
            blocks.append(TermBlock([list(c.terms) for c in taxonomy.categories],
                                    self.token_pattern, self.term_weight))
        return blocks

    def _fit_linear(self, features: sparse.csr_matrix, Y: np.ndarray,
                    prior: sparse.csr_matrix, prior_y: np.ndarray,
                    prior_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One logistic regression per category on papers plus weighted prior documents; with a
        gate, one more of "has any category" (the last row of the weights)."""
        from sklearn.linear_model import LogisticRegression

        weights = np.concatenate([np.ones(features.shape[0]), prior_weights])
        if len(prior_weights):  # a stacked copy of the papers alone would fit a hair apart
            features = sparse.vstack([features, prior]).tocsr()
            Y = np.vstack([Y, prior_y])
        if self.relevance_gate is not None:
            Y = np.column_stack([Y, Y.max(axis=1)])
        coef = np.zeros((Y.shape[1], features.shape[1]))
        intercept = np.zeros(Y.shape[1])
        for j in range(Y.shape[1]):
            target = Y[:, j]
            if target.min() == target.max():  # a category with no (or only) positives
                intercept[j] = 20.0 if target[0] else -20.0
                continue
            fit = LogisticRegression(
                C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
                solver=self.solver, random_state=self.random_state,
            ).fit(features, target, sample_weight=weights)
            coef[j] = fit.coef_[0]
            intercept[j] = fit.intercept_[0]
        return coef, intercept

    # -- predicting ------------------------------------------------------------------------

    def export(self) -> ScoringState:
        """The fitted model as plain scoring state (numpy only), as model files hold it."""
        check_is_fitted(self)
        params = self.get_params()
        del params["taxonomy"]
        # The examples themselves are training data, not a setting: the card counts them.
        params["contrastive"] = 0 if self.contrastive is None else len(self.contrastive)
        for name in ("ngram_range", "char_ngram_range", "threshold_grid"):
            if params[name] is not None:
                params[name] = list(params[name])
        gate = (None if self.gate_coef_ is None else
                np.concatenate([self.gate_coef_, [self.gate_intercept_, self.gate_cutoff_]]))
        return ScoringState(
            params=params, category_ids=list(self.category_ids_), blocks=self.blocks_,
            coef=self.coef_, intercept=self.intercept_, cutoffs=self.cutoffs_,
            calibration=self.calibration_, gate=gate,
        )

    def decision_function(self, X: Any) -> np.ndarray:
        """The margin of each category's decision per paper: assigned when at least 0."""
        state = self.export()
        return state.decision(state.transform(*paper_texts(X)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """The calibrated probability of each category (papers x categories)."""
        return calibrated(self.decision_function(X), self.calibration_)

    def predict(self, X: Any) -> np.ndarray:
        """0/1 per paper and category: the category's model and the gate agree (the score
        reaches the category's threshold)."""
        return (self.decision_function(X) >= 0).astype(np.int8)


def platt(margin: np.ndarray, Y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Per category, slope and offset of a sigmoid fitted to decision margins (Platt scaling);
    the identity where a category has no positives or the fit is not increasing."""
    from sklearn.linear_model import LogisticRegression

    out = np.tile([1.0, 0.0], (Y.shape[1], 1))
    for j in range(Y.shape[1]):
        if Y[:, j].min() == Y[:, j].max():
            continue
        fit = LogisticRegression(C=1e6, max_iter=1000).fit(
            margin[:, [j]], Y[:, j], sample_weight=None if weights is None else weights[:, j])
        if fit.coef_[0, 0] > 0:
            out[j] = (fit.coef_[0, 0], fit.intercept_[0])
    return out


def prior_documents(taxonomy: Taxonomy, examples: bool) -> tuple[list[str], np.ndarray]:
    """Pseudo-documents from the taxonomy file: each category's definition, rules, terms and
    examples are positive for that category only; the [none] examples for no category."""
    docs, rows = [], []
    for j, category in enumerate(taxonomy.categories):
        texts = [f"{category.name}. {category.definition}", *category.include]
        if category.terms:
            texts.append(", ".join(category.terms))
        if examples:
            texts.extend(category.examples)
        docs.extend(texts)
        rows.extend([j] * len(texts))
    if examples:
        docs.extend(taxonomy.none_examples)
        rows.extend([-1] * len(taxonomy.none_examples))
    matrix = np.array(rows)[:, None] == np.arange(len(taxonomy.categories))
    return docs, matrix.astype(np.int8)


def paper_texts(X: Any) -> tuple[list[str], list[str]]:
    """Titles and abstracts of ``X`` (a DataFrame, or (title, abstract) pairs); ValueError
    unless every one is a string."""
    columns = getattr(X, "columns", None)
    if columns is not None:
        missing = [c for c in ("title", "abstract") if c not in columns]
        if missing:
            raise ValueError(f"X lacks column(s) {', '.join(missing)}; give a DataFrame with "
                             "'title' and 'abstract' columns")
        titles, abstracts = X["title"].tolist(), X["abstract"].tolist()
    else:
        rows = list(X)
        for i, row in enumerate(rows, 1):
            if not (isinstance(row, Sequence | np.ndarray) and not isinstance(row, str)
                    and len(row) == 2):
                raise ValueError(f"X row {i} is not a (title, abstract) pair; give a "
                                 "DataFrame with 'title' and 'abstract' columns or a sequence "
                                 "of (title, abstract) string pairs")
        titles, abstracts = [r[0] for r in rows], [r[1] for r in rows]
    for name, texts in (("title", titles), ("abstract", abstracts)):
        for i, text in enumerate(texts, 1):
            if not isinstance(text, str):
                na = text is None or (isinstance(text, float) and text != text) or \
                    type(text).__name__ in ("NAType", "NaTType")
                what = "missing (NaN)" if na else f"a {type(text).__name__}"
                raise ValueError(f"X row {i}: the {name} is {what}, not text; every paper "
                                 "needs a title and an abstract as strings")
    return titles, abstracts


def _indicator(y: Any, category_ids: list[str]) -> np.ndarray:
    """``y`` as a 0/1 matrix with the categories' columns in order (a DataFrame's by name)."""
    if y is None:
        raise ValueError("EfficiencyClassifier requires y to be passed, but the target y is "
                         "None")
    columns = getattr(y, "columns", None)
    if columns is not None:
        names = [str(c) for c in columns]
        unknown = [c for c in names if c not in category_ids]
        missing = [c for c in category_ids if c not in names]
        if unknown or missing or len(set(names)) != len(names):
            detail = "; ".join(part for part in (
                f"unknown: {', '.join(unknown)}" if unknown else "",
                f"missing: {', '.join(missing)}" if missing else "",
                "some appear twice" if not unknown and not missing else "") if part)
            raise ValueError(f"y's columns must be the category ids ({', '.join(category_ids)})"
                             f", each once ({detail}); or give a 0/1 array with the columns "
                             "in the taxonomy's order")
        y = y.set_axis(names, axis=1)[category_ids]
    Y = np.asarray(y)
    if Y.dtype.kind in "fc" and not np.isfinite(Y).all():
        raise ValueError("y holds NaN or inf; it must hold only 0 and 1")
    kind = type_of_target(Y)
    if Y.ndim != 2 or Y.shape[1] != len(category_ids):
        got = (f"one class label per paper (a {kind} target of shape {Y.shape})" if Y.ndim == 1
               else f"shape {Y.shape} ({kind} target)")
        raise ValueError(f"y must be a 0/1 matrix with {len(category_ids)} columns, one per "
                         f"category; got {got}")
    if not np.isin(Y, (0, 1)).all():
        raise ValueError(f"y must hold only 0 and 1 (got a {kind} target)")
    return Y.astype(np.int8)
