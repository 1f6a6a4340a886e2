"""The classifier: TF-IDF over title and abstract, one logistic regression per category.

Every hyper-parameter is a field of :class:`ModelConfig`. Decision thresholds are chosen per
category on out-of-fold scores of the training papers, never on the papers being scored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import sparse

from .folds import stratified_folds
from .labels.categories import Taxonomy

# Version of the plain-data layout a model file holds (see Classifier.to_state).
STATE_FORMAT = 2
# Two fits whose weights differ by no more than this are the same model (BLAS and platform
# differences move the last bits of the weights; labels never change at this size).
EQUIVALENT_WITHIN = 1e-9


@dataclass(frozen=True)
class ModelConfig:
    """All hyper-parameters of the shipped model, in one place."""

    # The title is repeated in the document so that its words weigh more than the abstract's.
    title_repeats: int = 2
    # Word uni- and bi-grams; English stop words removed; sublinear term frequency.
    ngram_range: tuple[int, int] = (1, 2)
    token_pattern: str = r"(?u)\b\w\w+\b"
    min_df: int = 1
    max_df: float = 0.5
    sublinear_tf: bool = True
    stop_words: str | None = "english"
    # One L2-regularized logistic regression per category, classes weighted to balance.
    C: float = 10.0
    class_weight: str | None = "balanced"
    max_iter: int = 2000
    # The taxonomy file's definitions, rules and terms become extra labeled pseudo-documents
    # (prior knowledge that generalizes beyond the seed papers); their sample weight:
    prior_weight: float = 1.0
    # Include the taxonomy file's invented example abstracts (and [none] examples) as well.
    prior_examples: bool = True
    # Thresholds: maximize F1 per category on out-of-fold scores from this many folds.
    threshold_folds: int = 5
    threshold_grid: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))
    seed: int = 0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["ngram_range"] = list(self.ngram_range)
        data["threshold_grid"] = list(self.threshold_grid)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        return cls(**{**data, "ngram_range": tuple(data["ngram_range"]),
                      "threshold_grid": tuple(data["threshold_grid"])})


def compose(title: str, abstract: str, config: ModelConfig) -> str:
    """The text the vectorizer reads for one paper."""
    return " ".join([title] * config.title_repeats + [abstract])


def prior_documents(taxonomy: Taxonomy, examples: bool = True) -> tuple[list[str], np.ndarray]:
    """Pseudo-documents from the taxonomy file: each category's definition, rules, terms and
    examples are positive for that category only; the [none] examples for no category."""
    docs, rows = [], []
    width = len(taxonomy.categories)
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
    matrix = np.zeros((len(docs), width), dtype=np.int8)
    for i, j in enumerate(rows):
        if j >= 0:
            matrix[i, j] = 1
    return docs, matrix


@dataclass
class Classifier:
    """A fitted model as plain, inspectable state: the vocabulary (in column order) with its
    idf weights, one linear model per category, and the per-category thresholds.

    Scoring needs only numpy and scipy; scikit-learn is imported only to fit, so tagging
    starts fast and worker processes stay small.
    """

    config: ModelConfig
    category_ids: list[str]
    vocabulary: list[str]
    idf: np.ndarray  # (features,)
    stop_words: list[str]
    coef: np.ndarray  # (categories, features)
    intercept: np.ndarray  # (categories,)
    thresholds: np.ndarray  # (categories,)
    _fast: _FastTfidf | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_fast"] = None  # a cache, rebuilt on first use
        return state

    def to_state(self) -> dict:
        """The fitted state as plain data: numpy arrays, lists of strings and numbers.

        This is what a model file holds, so a file never names a class of this package and
        stays loadable whatever the code's layout.
        """
        return {
            "format": STATE_FORMAT,
            "config": self.config.to_dict(),
            "category_ids": list(self.category_ids),
            "vocabulary": list(self.vocabulary),
            "idf": np.asarray(self.idf, dtype=np.float64),
            "stop_words": list(self.stop_words),
            "coef": np.asarray(self.coef, dtype=np.float64),
            "intercept": np.asarray(self.intercept, dtype=np.float64),
            "thresholds": np.asarray(self.thresholds, dtype=np.float64),
        }

    @classmethod
    def from_state(cls, state: dict) -> Classifier:
        """The inverse of :meth:`to_state`."""
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"model state format {state.get('format')!r}, expected "
                             f"{STATE_FORMAT}")
        return cls(
            config=ModelConfig.from_dict(state["config"]),
            category_ids=list(state["category_ids"]), vocabulary=list(state["vocabulary"]),
            idf=np.asarray(state["idf"]), stop_words=list(state["stop_words"]),
            coef=np.asarray(state["coef"]), intercept=np.asarray(state["intercept"]),
            thresholds=np.asarray(state["thresholds"]),
        )

    def equivalent(self, other: Classifier, tolerance: float = EQUIVALENT_WITHIN) -> bool:
        """Same features and thresholds, weights equal within ``tolerance``: every score then
        agrees to about that tolerance and every label is the same."""
        return (self.config == other.config and self.category_ids == other.category_ids
                and self.vocabulary == other.vocabulary and self.stop_words == other.stop_words
                and np.array_equal(self.thresholds, other.thresholds)
                and all(a.shape == b.shape and bool(np.all(np.abs(a - b) <= tolerance))
                        for a, b in ((self.idf, other.idf), (self.coef, other.coef),
                                     (self.intercept, other.intercept))))

    @property
    def vectorizer(self):
        """The equivalent fitted scikit-learn TfidfVectorizer (for checks and odd configs)."""
        vectorizer = _vectorizer(self.config, self.vocabulary)
        vectorizer.idf_ = self.idf
        return vectorizer

    def transform(self, titles: Sequence[str], abstracts: Sequence[str]) -> sparse.csr_matrix:
        docs = [compose(t, a, self.config) for t, a in zip(titles, abstracts, strict=True)]
        if self.config.ngram_range[1] > 2:
            return self.vectorizer.transform(docs)
        if self._fast is None:
            self._fast = _FastTfidf(self)
        return self._fast.transform(docs)

    def scores_from_features(self, features: sparse.csr_matrix) -> np.ndarray:
        """Probability per paper and category (logistic of the linear score)."""
        return _sigmoid(features @ self.coef.T + self.intercept)

    def scores(self, titles: Sequence[str], abstracts: Sequence[str]) -> np.ndarray:
        return self.scores_from_features(self.transform(titles, abstracts))

    def predict(self, titles: Sequence[str], abstracts: Sequence[str]) -> np.ndarray:
        return (self.scores(titles, abstracts) >= self.thresholds).astype(np.int8)

    def feature_names(self) -> np.ndarray:
        return np.asarray(self.vocabulary, dtype=object)

    def top_terms(self, k: int = 15) -> dict[str, list[str]]:
        """The k terms with the largest positive weight per category."""
        names = self.feature_names()
        return {cid: [str(names[i]) for i in np.argsort(-self.coef[j], kind="stable")[:k]
                      if self.coef[j, i] > 0]
                for j, cid in enumerate(self.category_ids)}

    def contributions(self, features: sparse.csr_matrix, row: int, category: int,
                      k: int = 5, names: np.ndarray | None = None) -> list[tuple[str, float]]:
        """The k terms of one paper that pushed one category's score up most."""
        start, end = features.indptr[row], features.indptr[row + 1]
        columns = features.indices[start:end]
        values = features.data[start:end] * self.coef[category, columns]
        order = np.argsort(-values, kind="stable")[:k]
        names = self.feature_names() if names is None else names
        return [(str(names[columns[i]]), float(values[i])) for i in order if values[i] > 0]


def fit(
    titles: Sequence[str],
    abstracts: Sequence[str],
    y: np.ndarray,
    taxonomy: Taxonomy,
    config: ModelConfig | None = None,
    tune_thresholds: bool = True,
) -> Classifier:
    """Fit the vectorizer and per-category models; thresholds from inner out-of-fold scores.

    The inner folds reuse the vocabulary fitted on all training papers (it sees their text,
    never their labels), so threshold tuning costs only the linear fits.
    """
    config = config or ModelConfig()
    with single_threaded_blas():
        return _fit(titles, abstracts, np.asarray(y), taxonomy, config, tune_thresholds)


# Threads BLAS may use while fitting. More threads sum floating point in another order, which
# moves the weights' last bits; one thread makes a fit the same on every machine.
BLAS_THREADS = 1


def single_threaded_blas():
    """A context in which BLAS (used by liblinear's dot products) runs on one thread."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=BLAS_THREADS, user_api="blas")


def _fit(titles, abstracts, y: np.ndarray, taxonomy: Taxonomy, config: ModelConfig,
         tune_thresholds: bool) -> Classifier:
    docs = [compose(t, a, config) for t, a in zip(titles, abstracts, strict=True)]
    prior_docs, prior_y = (prior_documents(taxonomy, config.prior_examples)
                           if config.prior_weight > 0 else ([], None))
    vectorizer = _vectorizer(config)
    features = vectorizer.fit_transform(docs + prior_docs)
    papers, prior = features[: len(docs)], features[len(docs):]
    coef, intercept = _fit_linear(papers, y, prior, prior_y, config)
    model = Classifier(
        config=config, category_ids=list(taxonomy.ids),
        vocabulary=[str(t) for t in vectorizer.get_feature_names_out()],
        idf=vectorizer.idf_.astype(np.float64),
        stop_words=sorted(vectorizer.get_stop_words() or ()),
        coef=coef, intercept=intercept, thresholds=np.full(y.shape[1], 0.5),
    )
    if tune_thresholds:
        oof = np.zeros(y.shape, dtype=float)
        for train, test in stratified_folds(y, config.threshold_folds, config.seed):
            inner = _fit_linear(papers[train], y[train], prior, prior_y, config)
            oof[test] = _sigmoid(papers[test] @ inner[0].T + inner[1])
        model.thresholds = best_thresholds(oof, y, config.threshold_grid)
    return model


def _vectorizer(config: ModelConfig, vocabulary: list[str] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        ngram_range=config.ngram_range, min_df=config.min_df, max_df=config.max_df,
        sublinear_tf=config.sublinear_tf, stop_words=config.stop_words, lowercase=True,
        token_pattern=config.token_pattern, dtype=np.float32, vocabulary=vocabulary,
    )


class _FastTfidf:
    """TfidfVectorizer.transform for a fixed vocabulary of uni- and bi-grams, several times
    faster on large inputs.

    scikit-learn joins every n-gram of every document into a string and looks it up in
    Python. Here each token is looked up once, and bigrams are matched as integer pairs with
    numpy over a whole chunk at a time. Same tokens, stop words, n-grams, tf scaling, idf and
    L2 norm: the result equals ``vectorizer.transform`` (a test checks it).
    """

    def __init__(self, model: Classifier):
        config = model.config
        self.lo, self.hi = config.ngram_range
        self.token = re.compile(config.token_pattern)
        self.stop = frozenset(model.stop_words)
        self.idf = np.asarray(model.idf, dtype=np.float64)
        self.sublinear = config.sublinear_tf
        self.width = len(model.vocabulary)
        self.dtype = np.float32
        tokens: dict[str, int] = {}
        unigrams, bigrams = {}, {}
        for j, term in enumerate(model.vocabulary):
            parts = term.split(" ")
            ids = [tokens.setdefault(t, len(tokens)) for t in parts]
            (unigrams if len(ids) == 1 else bigrams)[tuple(ids)] = j
        self.tokens = tokens
        self.unigram = np.full(len(tokens) + 1, -1, dtype=np.int64)  # last slot: unknown
        for (t,), j in unigrams.items():
            self.unigram[t] = j
        size = len(tokens) + 1
        codes = np.array([a * size + b for a, b in bigrams], dtype=np.int64)
        order = np.argsort(codes)
        self.bigram_codes = codes[order]
        self.bigram_features = np.array(list(bigrams.values()), dtype=np.int64)[order]
        self.size = size

    def transform(self, docs: Sequence[str]) -> sparse.csr_matrix:
        lookup, stop, unknown, find = self.tokens.get, self.stop, self.size - 1, self.token.findall
        ids: list[int] = []
        lengths = []
        for doc in docs:
            found = [lookup(t, unknown) for t in find(doc.lower()) if t not in stop]
            ids.extend(found)
            lengths.append(len(found))
        tok = np.asarray(ids, dtype=np.int64)
        owner = np.repeat(np.arange(len(lengths)), lengths)
        rows, cols = [], []
        if self.lo <= 1:
            feature = self.unigram[tok]
            keep = feature >= 0
            rows.append(owner[keep])
            cols.append(feature[keep])
        if self.hi >= 2 and len(tok) > 1 and len(self.bigram_codes):
            first, second = tok[:-1], tok[1:]
            valid = (owner[:-1] == owner[1:]) & (first != unknown) & (second != unknown)
            code = first[valid] * self.size + second[valid]
            at = np.minimum(np.searchsorted(self.bigram_codes, code), len(self.bigram_codes) - 1)
            hit = self.bigram_codes[at] == code
            rows.append(owner[:-1][valid][hit])
            cols.append(self.bigram_features[at[hit]])
        r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
        # Count each (document, feature) pair: unique keys come out sorted, i.e. in CSR order.
        keys, counts = np.unique(r * self.width + c, return_counts=True)
        row_of, indices = np.divmod(keys, self.width)
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(np.bincount(row_of, minlength=len(lengths)), out=indptr[1:])
        data = counts.astype(np.float64)
        if self.sublinear:
            data = np.log(data) + 1.0
        data *= self.idf[indices]
        norms = np.sqrt(np.bincount(row_of, weights=data ** 2, minlength=len(lengths)))
        norms[norms == 0] = 1.0
        data /= norms[row_of]
        matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(lengths), self.width))
        return matrix.astype(self.dtype)


def _fit_linear(features, y, prior, prior_y, config: ModelConfig):
    """One logistic regression per category on papers plus weighted prior documents."""
    weights = np.ones(features.shape[0])
    if prior_y is not None:
        features = sparse.vstack([features, prior]).tocsr()
        y = np.vstack([y, prior_y])
        weights = np.concatenate([weights, np.full(prior.shape[0], config.prior_weight)])
    coef = np.zeros((y.shape[1], features.shape[1]))
    intercept = np.zeros(y.shape[1])
    for j in range(y.shape[1]):
        target = y[:, j]
        if target.min() == target.max():  # a category with no (or only) positives
            intercept[j] = 20.0 if target[0] else -20.0
            continue
        from sklearn.linear_model import LogisticRegression

        estimator = LogisticRegression(
            C=config.C, class_weight=config.class_weight, max_iter=config.max_iter,
            solver="liblinear", random_state=config.seed,
        )
        estimator.fit(features, target, sample_weight=weights)
        coef[j] = estimator.coef_[0]
        intercept[j] = estimator.intercept_[0]
    return coef, intercept


def _sigmoid(logits) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(logits)))


def out_of_fold_scores(titles, abstracts, y, taxonomy: Taxonomy, config: ModelConfig,
                       n_folds: int = 5, seed: int = 0) -> np.ndarray:
    """Scores of each paper from a model (vocabulary included) that never saw it."""
    titles, abstracts, y = list(titles), list(abstracts), np.asarray(y)
    scores = np.zeros(y.shape, dtype=float)
    for train, test in stratified_folds(y, n_folds, seed):
        model = fit([titles[i] for i in train], [abstracts[i] for i in train], y[train],
                    taxonomy, config, tune_thresholds=False)
        scores[test] = model.scores([titles[i] for i in test], [abstracts[i] for i in test])
    return scores


def best_thresholds(scores: np.ndarray, y: np.ndarray, grid: Sequence[float]) -> np.ndarray:
    """Per category, the grid threshold with the best F1 (the median of tied ones)."""
    thresholds = np.full(y.shape[1], 0.5)
    for j in range(y.shape[1]):
        f1s = np.array([_f1(y[:, j], scores[:, j] >= t) for t in grid])
        best = np.flatnonzero(np.isclose(f1s, f1s.max()))
        thresholds[j] = grid[best[len(best) // 2]]
    return thresholds


def _f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    tp = float(np.sum((truth == 1) & predicted))
    denominator = float(np.sum(truth == 1) + np.sum(predicted))
    return 2 * tp / denominator if denominator else 1.0
