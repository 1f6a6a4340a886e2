"""The classifier as a scikit-learn estimator: TF-IDF over title and abstract, one logistic
regression per category, and a decision threshold per category.

It follows scikit-learn's contract (parameters only in ``__init__``, fitted state in
attributes with a trailing underscore, ``check_is_fitted``), so ``clone``, ``Pipeline``,
``GridSearchCV`` and ``cross_val_predict`` work with it. ``export()`` gives the plain scoring
state that tagging uses without scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from ..labels.categories import Taxonomy, load_taxonomy
from .state import ScoringState, sigmoid
from .text import compose, prior_documents
from .thresholds import GRID, best_thresholds, stratified_folds

# Threads BLAS may use while fitting. More threads sum floating point in another order, which
# moves the weights' last bits; one thread makes a fit the same on every machine.
BLAS_THREADS = 1
# The parameters a scoring state keeps (the ones scoring and explanations need to know).
_SCORING_PARAMS = ("title_repeats", "ngram_range", "token_pattern", "sublinear_tf")


class EfficiencyClassifier(ClassifierMixin, BaseEstimator):
    """Multi-label classifier of papers into the taxonomy's categories.

    ``X`` is a DataFrame with ``title`` and ``abstract`` columns (or a sequence of
    ``(title, abstract)`` pairs); ``y`` a 0/1 matrix with one column per category in the
    taxonomy file's order.

    Parameters
    ----------
    taxonomy : Taxonomy, default=None
        The categories and the prior knowledge added as pseudo-documents (None: the taxonomy
        file in use, see ``taxonomy.paths``).
    title_repeats : int, default=2
        How often the title is repeated before the abstract, so its words weigh more.
    ngram_range, token_pattern, min_df, max_df, sublinear_tf, stop_words
        The word TF-IDF, as in ``TfidfVectorizer`` (lower-cased; at most bigrams).
    C, class_weight, max_iter
        One L2-regularized logistic regression (liblinear) per category.
    prior_weight : float, default=1.0
        Sample weight of the taxonomy file's definitions, rules and terms as labeled
        pseudo-documents (0 leaves them out).
    prior_examples : bool, default=True
        Whether the taxonomy file's invented example abstracts (and [none] examples) are
        pseudo-documents too.
    threshold_folds : int, default=5
        Thresholds maximize F1 per category on out-of-fold scores from this many inner folds
        (0: every threshold is 0.5).
    threshold_grid : tuple of float
        The thresholds a category may get.
    random_state : int, default=0
        Seed of the inner folds and of liblinear.
    """

    def __init__(
        self,
        *,
        taxonomy: Taxonomy | None = None,
        title_repeats: int = 2,
        ngram_range: tuple[int, int] = (1, 2),
        token_pattern: str = r"(?u)\b\w\w+\b",
        min_df: int = 1,
        max_df: float = 0.5,
        sublinear_tf: bool = True,
        stop_words: str | None = "english",
        C: float = 10.0,
        class_weight: str | None = "balanced",
        max_iter: int = 2000,
        prior_weight: float = 1.0,
        prior_examples: bool = True,
        threshold_folds: int = 5,
        threshold_grid: tuple[float, ...] = GRID,
        random_state: int = 0,
    ):
        self.taxonomy = taxonomy
        self.title_repeats = title_repeats
        self.ngram_range = ngram_range
        self.token_pattern = token_pattern
        self.min_df = min_df
        self.max_df = max_df
        self.sublinear_tf = sublinear_tf
        self.stop_words = stop_words
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.prior_weight = prior_weight
        self.prior_examples = prior_examples
        self.threshold_folds = threshold_folds
        self.threshold_grid = threshold_grid
        self.random_state = random_state

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
        """Fit the vectorizer and the per-category models; thresholds on inner folds.

        The inner folds reuse the vocabulary fitted on all training papers (it sees their
        text, never their labels), so threshold tuning costs only the linear fits.
        """
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target "
                             "y is None")
        titles, abstracts = paper_texts(X)
        taxonomy = self.taxonomy if self.taxonomy is not None else load_taxonomy()
        Y = _indicator(y, len(titles), len(taxonomy.categories))
        if self.ngram_range[0] < 1 or self.ngram_range[1] > 2:
            raise ValueError(f"ngram_range {self.ngram_range} must lie within (1, 2)")
        with _single_threaded_blas():
            self._fit(titles, abstracts, Y, taxonomy)
        return self

    def _fit(self, titles: list[str], abstracts: list[str], Y: np.ndarray,
             taxonomy: Taxonomy) -> None:
        docs = [compose(t, a, self.title_repeats) for t, a in zip(titles, abstracts, strict=True)]
        prior_docs, prior_y = (prior_documents(taxonomy, self.prior_examples)
                               if self.prior_weight > 0 else ([], None))
        vectorizer = self._vectorizer()
        features = vectorizer.fit_transform(docs + prior_docs)
        papers, prior = features[: len(docs)], features[len(docs):]
        self.coef_, self.intercept_ = self._fit_linear(papers, Y, prior, prior_y)
        self.category_ids_ = list(taxonomy.ids)
        self.classes_ = np.asarray(self.category_ids_, dtype=object)
        self.vocabulary_ = {str(t): i for i, t in
                            enumerate(vectorizer.get_feature_names_out())}
        self.idf_ = vectorizer.idf_.astype(np.float64)
        self.stop_words_ = sorted(vectorizer.get_stop_words() or ())
        self.thresholds_ = np.full(Y.shape[1], 0.5)
        if self.threshold_folds > 0:
            oof = np.zeros(Y.shape, dtype=float)
            for train, test in stratified_folds(Y, self.threshold_folds, self.random_state):
                coef, intercept = self._fit_linear(papers[train], Y[train], prior, prior_y)
                oof[test] = sigmoid(papers[test] @ coef.T + intercept)
            self.thresholds_ = best_thresholds(oof, Y, self.threshold_grid)

    def _vectorizer(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(
            ngram_range=self.ngram_range, min_df=self.min_df, max_df=self.max_df,
            sublinear_tf=self.sublinear_tf, stop_words=self.stop_words, lowercase=True,
            token_pattern=self.token_pattern, dtype=np.float32,
        )

    def _fit_linear(self, features: sparse.csr_matrix, Y: np.ndarray,
                    prior: sparse.csr_matrix, prior_y: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """One logistic regression per category on papers plus weighted prior documents."""
        from sklearn.linear_model import LogisticRegression

        weights = np.ones(features.shape[0])
        if prior_y is not None:
            features = sparse.vstack([features, prior]).tocsr()
            Y = np.vstack([Y, prior_y])
            weights = np.concatenate([weights, np.full(prior.shape[0], self.prior_weight)])
        coef = np.zeros((Y.shape[1], features.shape[1]))
        intercept = np.zeros(Y.shape[1])
        for j in range(Y.shape[1]):
            target = Y[:, j]
            if target.min() == target.max():  # a category with no (or only) positives
                intercept[j] = 20.0 if target[0] else -20.0
                continue
            estimator = LogisticRegression(
                C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
                solver="liblinear", random_state=self.random_state,
            )
            estimator.fit(features, target, sample_weight=weights)
            coef[j] = estimator.coef_[0]
            intercept[j] = estimator.intercept_[0]
        return coef, intercept

    # -- predicting ------------------------------------------------------------------------

    def export(self) -> ScoringState:
        """The fitted model as plain scoring state (numpy only), as model files hold it."""
        check_is_fitted(self)
        vocabulary = sorted(self.vocabulary_, key=self.vocabulary_.__getitem__)
        params = self.get_params()
        del params["taxonomy"]
        params["ngram_range"] = list(params["ngram_range"])
        params["threshold_grid"] = list(params["threshold_grid"])
        return ScoringState(
            params=params, category_ids=list(self.category_ids_), vocabulary=vocabulary,
            idf=self.idf_, stop_words=list(self.stop_words_), coef=self.coef_,
            intercept=self.intercept_, thresholds=np.asarray(self.thresholds_, dtype=float),
        )

    def decision_function(self, X: Any) -> np.ndarray:
        """The linear score (logit) per paper and category."""
        state = self.export()
        return state.decision(state.transform(*paper_texts(X)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of each category (papers x categories)."""
        return sigmoid(self.decision_function(X))

    def predict(self, X: Any) -> np.ndarray:
        """0/1 per paper and category: the probability reaches the category's threshold."""
        check_is_fitted(self)
        return (self.predict_proba(X) >= self.thresholds_).astype(np.int8)


def paper_texts(X: Any) -> tuple[list[str], list[str]]:
    """Titles and abstracts of ``X``: a DataFrame with 'title' and 'abstract' columns, or a
    sequence of (title, abstract) pairs."""
    columns = getattr(X, "columns", None)
    if columns is not None:
        missing = [c for c in ("title", "abstract") if c not in columns]
        if missing:
            raise ValueError(f"X lacks column(s) {', '.join(missing)}; give a DataFrame with "
                             "'title' and 'abstract' columns")
        return ([_text(v) for v in X["title"]], [_text(v) for v in X["abstract"]])
    rows = list(X)
    if not all(isinstance(r, Sequence | np.ndarray) and len(r) == 2
               and all(isinstance(v, str) for v in r) for r in rows):
        raise ValueError("X must be a DataFrame with 'title' and 'abstract' columns or a "
                         "sequence of (title, abstract) string pairs")
    return [r[0] for r in rows], [r[1] for r in rows]


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def _indicator(y: Any, n_samples: int, n_categories: int) -> np.ndarray:
    Y = np.asarray(y)
    if Y.ndim != 2 or Y.shape != (n_samples, n_categories):
        raise ValueError(f"y must be a 0/1 matrix of shape ({n_samples}, {n_categories}), "
                         f"one column per category; got shape {Y.shape}")
    if not np.isin(Y, (0, 1)).all():
        raise ValueError("y must hold only 0 and 1")
    return Y.astype(np.int8)


def _single_threaded_blas() -> Any:
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=BLAS_THREADS, user_api="blas")
