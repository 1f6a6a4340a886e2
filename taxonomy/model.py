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
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from .categories import Taxonomy
from .folds import stratified_folds


@dataclass(frozen=True)
class ModelConfig:
    """All hyper-parameters of the shipped model, in one place."""

    # The title is repeated in the document so that its words weigh more than the abstract's.
    title_repeats: int = 2
    # Word uni- and bi-grams; English stop words removed; sublinear term frequency.
    ngram_range: tuple[int, int] = (1, 2)
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
    # Each category's count of indicative-term matches, log-scaled, joins the TF-IDF features
    # with this scale (0 turns the term features off).
    term_weight: float = 0.3
    # Thresholds: maximize F1 per category on out-of-fold scores from this many folds.
    threshold_folds: int = 5
    threshold_grid: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))
    seed: int = 0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["ngram_range"] = list(self.ngram_range)
        data["threshold_grid"] = list(self.threshold_grid)
        return data


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
    """A fitted model: vectorizer, one linear model per category, and their thresholds."""

    config: ModelConfig
    category_ids: list[str]
    vectorizer: TfidfVectorizer
    coef: np.ndarray  # (categories, features)
    intercept: np.ndarray  # (categories,)
    thresholds: np.ndarray  # (categories,)
    term_patterns: list[re.Pattern] = field(default_factory=list)

    def __getstate__(self) -> dict:
        """Only plain fitted state is pickled (vocabulary in column order, idf, weights), so
        the saved file is byte-identical for identical inputs and readable without sklearn
        internals."""
        return {
            "config": self.config, "category_ids": self.category_ids,
            "vocabulary": [str(t) for t in self.vectorizer.get_feature_names_out()],
            "idf": self.vectorizer.idf_, "coef": self.coef, "intercept": self.intercept,
            "thresholds": self.thresholds,
            "term_patterns": [p.pattern for p in self.term_patterns],
        }

    def __setstate__(self, state: dict) -> None:
        vectorizer = _vectorizer(state["config"], state["vocabulary"])
        vectorizer.idf_ = state["idf"]
        self.__init__(
            config=state["config"], category_ids=state["category_ids"], vectorizer=vectorizer,
            coef=state["coef"], intercept=state["intercept"], thresholds=state["thresholds"],
            term_patterns=[re.compile(p, re.IGNORECASE) for p in state["term_patterns"]],
        )

    def transform(self, titles: Sequence[str], abstracts: Sequence[str]) -> sparse.csr_matrix:
        docs = [compose(t, a, self.config) for t, a in zip(titles, abstracts, strict=True)]
        return _features(self.vectorizer, docs, self.term_patterns, self.config)

    def scores_from_features(self, features: sparse.csr_matrix) -> np.ndarray:
        """Probability per paper and category (logistic of the linear score)."""
        return _sigmoid(features @ self.coef.T + self.intercept)

    def scores(self, titles: Sequence[str], abstracts: Sequence[str]) -> np.ndarray:
        return self.scores_from_features(self.transform(titles, abstracts))

    def predict(self, titles: Sequence[str], abstracts: Sequence[str]) -> np.ndarray:
        return (self.scores(titles, abstracts) >= self.thresholds).astype(np.int8)

    def feature_names(self) -> np.ndarray:
        names = self.vectorizer.get_feature_names_out()
        if self.term_patterns:
            names = np.concatenate([names, [f"[{cid} terms]" for cid in self.category_ids]])
        return names

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
    y = np.asarray(y)
    docs = [compose(t, a, config) for t, a in zip(titles, abstracts, strict=True)]
    prior_docs, prior_y = (prior_documents(taxonomy, config.prior_examples)
                           if config.prior_weight > 0 else ([], None))
    vectorizer = _vectorizer(config).fit(docs + prior_docs)
    patterns = term_patterns(taxonomy) if config.term_weight > 0 else []
    features = _features(vectorizer, docs + prior_docs, patterns, config)
    papers, prior = features[: len(docs)], features[len(docs):]
    coef, intercept = _fit_linear(papers, y, prior, prior_y, config)
    model = Classifier(
        config=config, category_ids=list(taxonomy.ids), vectorizer=vectorizer,
        coef=coef, intercept=intercept, thresholds=np.full(y.shape[1], 0.5),
        term_patterns=patterns,
    )
    if tune_thresholds:
        oof = np.zeros(y.shape, dtype=float)
        for train, test in stratified_folds(y, config.threshold_folds, config.seed):
            inner = _fit_linear(papers[train], y[train], prior, prior_y, config)
            oof[test] = _sigmoid(papers[test] @ inner[0].T + inner[1])
        model.thresholds = best_thresholds(oof, y, config.threshold_grid)
    return model


def _vectorizer(config: ModelConfig, vocabulary: list[str] | None = None) -> TfidfVectorizer:
    return TfidfVectorizer(
        ngram_range=config.ngram_range, min_df=config.min_df, max_df=config.max_df,
        sublinear_tf=config.sublinear_tf, stop_words=config.stop_words, lowercase=True,
        dtype=np.float32, vocabulary=vocabulary,
    )


def term_patterns(taxonomy: Taxonomy) -> list[re.Pattern]:
    """One case-insensitive whole-word pattern per category matching any of its terms."""
    return [re.compile(r"\b(?:" + "|".join(re.escape(t) for t in c.terms) + r")\b",
                       re.IGNORECASE) if c.terms else re.compile(r"(?!x)x")
            for c in taxonomy.categories]


def _features(vectorizer, docs: list[str], patterns: list[re.Pattern],
              config: ModelConfig) -> sparse.csr_matrix:
    tfidf = vectorizer.transform(docs)
    if not patterns:
        return tfidf
    counts = np.array([[len(p.findall(doc)) for p in patterns] for doc in docs],
                      dtype=np.float32).reshape(len(docs), len(patterns))
    terms = sparse.csr_matrix(np.log1p(counts) * config.term_weight)
    return sparse.hstack([tfidf, terms], format="csr", dtype=np.float32)


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
