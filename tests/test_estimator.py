"""EfficiencyClassifier follows scikit-learn's estimator contract.

scikit-learn's own checks run with the ones that cannot apply declared as expected failures:
they feed numeric matrices and 1-D class labels, while this model reads text (titles and
abstracts) and predicts a 0/1 matrix of categories. The contract those checks protect is then
tested here on text: clone, GridSearchCV, Pipeline, pickling, output formats, idempotent and
order-invariant fits, parameters left as given.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from taxonomy.labels.labelfile import load_labels
from taxonomy.model.estimator import EfficiencyClassifier

_NUMERIC = "fits a numeric matrix (make_blobs and the like); this model reads titles and abstracts"
_MULTILABEL = "fits 1-D class labels; y here is a 0/1 matrix with one column per category"
# scikit-learn's checks that must fit numeric X or 1-D class labels, with the reason each cannot
# apply; the behaviour each protects is tested on text below where it applies. Checks of input
# a model must refuse (complex or continuous targets, one class label per paper) pass.
EXPECTED_FAILURES = {
    **dict.fromkeys([
        "check_dtype_object", "check_estimators_dtypes",
        "check_estimators_nan_inf", "check_estimators_empty_data_messages",
        "check_estimator_sparse_array", "check_estimator_sparse_matrix",
        "check_estimator_sparse_tag", "check_f_contiguous_array_estimator",
        "check_fit2d_1feature", "check_fit2d_1sample", "check_fit2d_predict1d",
        "check_n_features_in", "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit", "check_readonly_memmap_input",
        "check_classifier_data_not_an_array", "check_fit_score_takes_y",
        "check_classifiers_multilabel_output_format_decision_function",
        "check_classifiers_multilabel_output_format_predict",
        "check_classifiers_multilabel_output_format_predict_proba",
        "check_classifiers_multilabel_representation_invariance",
        "check_dict_unchanged", "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self", "check_estimators_overwrite_params",
        "check_estimators_pickle", "check_fit_check_is_fitted", "check_fit_idempotent",
        "check_methods_sample_order_invariance", "check_methods_subset_invariance",
        "check_pipeline_consistency", "check_decision_proba_consistency",
        "check_non_transformer_estimators_n_iter",
    ], _NUMERIC),
    **dict.fromkeys([
        "check_class_weight_classifiers", "check_classifier_multioutput",
        "check_classifiers_classes", "check_classifiers_train",
    ], _MULTILABEL),
}


@parametrize_with_checks([EfficiencyClassifier()],
                         expected_failed_checks=lambda estimator: EXPECTED_FAILURES,
                         xfail_strict=True)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def X(seed_labels) -> pd.DataFrame:
    """The hand-labeled papers' titles and abstracts."""
    return seed_labels.frame()


@pytest.fixture(scope="module")
def Y(seed_labels, taxonomy_) -> np.ndarray:
    """Their hand labels, one 0/1 column per category."""
    return seed_labels.indicator(taxonomy_.ids)


@pytest.fixture(scope="module")
def small(taxonomy_) -> dict:
    """Parameters of a quick model: no threshold tuning, no character n-grams."""
    return {"taxonomy": taxonomy_, "threshold_folds": 0, "char_ngram_range": None}


@pytest.fixture(scope="module")
def fitted(taxonomy_, X, Y) -> EfficiencyClassifier:
    return EfficiencyClassifier(taxonomy=taxonomy_).fit(X, Y)


@pytest.mark.slow
def test_fit_returns_self_and_keeps_the_parameters_as_given(X, Y, taxonomy_):
    model = EfficiencyClassifier(taxonomy=taxonomy_, C=3.0, threshold_folds=2)
    before = model.get_params()
    assert model.fit(X.iloc[:120], Y[:120]) is model
    assert model.get_params() == before
    assert not [a for a in vars(model) if a.endswith("_") and a in before]


def test_unfitted_model_raises_not_fitted(X):
    with pytest.raises(NotFittedError):
        EfficiencyClassifier().predict(X.iloc[:2])


def test_output_formats(fitted, X, taxonomy_):
    proba, decision, labels = (fitted.predict_proba(X.iloc[:7]),
                               fitted.decision_function(X.iloc[:7]), fitted.predict(X.iloc[:7]))
    assert proba.shape == decision.shape == labels.shape == (7, len(taxonomy_.ids))
    assert ((proba >= 0) & (proba <= 1)).all() and set(np.unique(labels)) <= {0, 1}
    assert np.array_equal(np.argsort(decision, axis=0), np.argsort(proba, axis=0))
    assert np.array_equal(labels, (proba >= fitted.thresholds_).astype(np.int8))
    assert list(fitted.classes_) == taxonomy_.ids == fitted.category_ids_


def test_pairs_and_dataframes_predict_alike(fitted, X):
    pairs = list(zip(X["title"][:5], X["abstract"][:5], strict=True))
    assert np.array_equal(fitted.predict_proba(pairs), fitted.predict_proba(X.iloc[:5]))


def test_predictions_do_not_depend_on_order_or_company(fitted, X):
    order = np.random.default_rng(0).permutation(len(X))
    whole = fitted.predict_proba(X)
    assert np.allclose(fitted.predict_proba(X.iloc[order]), whole[order], atol=1e-12)
    assert np.allclose(fitted.predict_proba(X.iloc[10:20]), whole[10:20], atol=1e-12)


@pytest.mark.slow
def test_fit_is_idempotent_and_pickles(fitted, X, Y):
    again = clone(fitted).fit(X, Y)
    assert np.array_equal(again.coef_, fitted.coef_)
    assert np.array_equal(again.thresholds_, fitted.thresholds_)
    restored = pickle.loads(pickle.dumps(fitted))
    assert np.array_equal(restored.predict_proba(X.iloc[:9]), fitted.predict_proba(X.iloc[:9]))


def test_clone_and_export(fitted, X):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params() and not hasattr(copy, "coef_")
    state = fitted.export()
    assert "memory" in state.word_block.vocabulary
    assert np.allclose(state.scores(X["title"][:4], X["abstract"][:4]),
                       fitted.predict_proba(X.iloc[:4]), atol=1e-12)


@pytest.mark.slow
def test_grid_search_and_pipeline_work(X, Y, taxonomy_, small):
    # Without character n-grams: the fits are quicker and the contract is the same.
    tuned = {**small, "threshold_folds": 2}
    search = GridSearchCV(EfficiencyClassifier(**tuned), {"C": [1.0, 10.0]}, scoring="f1_macro",
                          cv=KFold(2, shuffle=True, random_state=0))
    search.fit(X, Y)
    assert search.best_params_["C"] in (1.0, 10.0)
    assert search.predict(X.iloc[:3]).shape == (3, len(taxonomy_.ids))
    upper = FunctionTransformer(lambda frame: frame.assign(title=frame["title"].str.upper()))
    pipeline = make_pipeline(upper, EfficiencyClassifier(**tuned))
    assert pipeline.fit(X, Y).predict(X.iloc[:3]).shape == (3, len(taxonomy_.ids))


@pytest.mark.parametrize("x, y, message", [
    (pd.DataFrame({"title": ["a"]}), np.zeros((1, 5)), "X lacks column"),
    ([("a", "b")], np.zeros((1, 3)), "y must be a 0/1 matrix with 5 columns"),
    ([("a", "b")], np.zeros(1), "got one class label per paper"),
    ([("a", "b"), ("c", "d")], np.zeros((1, 5)), "X has 2 papers but y has 1 rows"),
    ([("a", "b")], np.full((1, 5), 2), "y must hold only 0 and 1"),
    ([("a", "b")], np.full((1, 5), np.nan), "y holds NaN or inf"),
    ([("a", "b")], None, "requires y to be passed"),
])
def test_bad_training_input_is_a_clear_value_error(x, y, message, taxonomy_):
    with pytest.raises(ValueError, match=message):
        EfficiencyClassifier(taxonomy=taxonomy_).fit(x, y)


def test_a_y_frame_is_matched_to_the_categories_by_name(X, Y, taxonomy_, small):
    frame = pd.DataFrame(Y[:80], columns=taxonomy_.ids)
    in_order = EfficiencyClassifier(**small).fit(X.iloc[:80], Y[:80])
    reversed_ = EfficiencyClassifier(**small).fit(X.iloc[:80], frame[taxonomy_.ids[::-1]])
    assert np.array_equal(reversed_.coef_, in_order.coef_)
    assert np.array_equal(reversed_.predict(X.iloc[:20]), in_order.predict(X.iloc[:20]))


def test_a_y_frame_with_other_columns_names_them(X, Y, taxonomy_, small):
    frame = pd.DataFrame(Y[:10], columns=taxonomy_.ids).rename(columns={"memory": "memroy"})
    with pytest.raises(ValueError, match="unknown: memroy; missing: memory"):
        EfficiencyClassifier(**small).fit(X.iloc[:10], frame)


@pytest.mark.parametrize("title, abstract, message", [
    (float("nan"), "b", "row 2: the title is missing"),
    ("a", None, "row 2: the abstract is missing"),
    ("a", 3, "row 2: the abstract is a int, not text"),
])
def test_missing_or_non_string_text_is_a_clear_error_in_fit_and_predict(fitted, Y, small, title,
                                                                          abstract, message):
    frame = pd.DataFrame({"title": ["x", title], "abstract": ["y", abstract]})
    with pytest.raises(ValueError, match=message):
        EfficiencyClassifier(**small).fit(frame, Y[:2])
    with pytest.raises(ValueError, match=message):
        fitted.predict(frame)
    with pytest.raises(ValueError, match=message):
        fitted.predict_proba([("x", "y"), (title, abstract)])


@pytest.mark.parametrize("params, message", [
    ({"C": "10"}, "'C' parameter of EfficiencyClassifier"),
    ({"title_repeats": 2.5}, "'title_repeats' parameter of EfficiencyClassifier"),
    ({"C": 0.0}, "C must be greater than 0"),
    ({"solver": "adam"}, "solver must be one of"),
    ({"relevance_gate": 1.5, "threshold_shrink": -1}, "threshold_shrink must lie within "
                                                      r"\[0, 1\]; relevance_gate"),
    ({"threshold_folds": 1}, "threshold_folds must be 0"),
])
def test_bad_parameters_are_refused_when_fitting(params, message, X, Y, small):
    model = EfficiencyClassifier(**{**small, **params})  # accepted as given until fit
    with pytest.raises(ValueError, match=message):
        model.fit(X.iloc[:10], Y[:10])


def test_the_solver_is_a_parameter(X, Y, small):
    liblinear = EfficiencyClassifier(**small).fit(X.iloc[:80], Y[:80])
    lbfgs = EfficiencyClassifier(**small, solver="lbfgs").fit(X.iloc[:80], Y[:80])
    assert liblinear.get_params()["solver"] == "liblinear"
    assert lbfgs.export().params["solver"] == "lbfgs"
    assert not np.allclose(lbfgs.coef_, liblinear.coef_)


def test_the_gate_is_fitted_state_of_its_own(fitted, X, Y, small):
    n_features = fitted.coef_.shape[1]
    assert fitted.gate_coef_.shape == (n_features,)
    assert isinstance(fitted.gate_intercept_, float)
    assert fitted.gate_cutoff_ == pytest.approx(np.log(0.3 / 0.7))
    assert np.array_equal(fitted.export().gate, np.concatenate(
        [fitted.gate_coef_, [fitted.gate_intercept_, fitted.gate_cutoff_]]))
    ungated = EfficiencyClassifier(**small, relevance_gate=None).fit(X.iloc[:80], Y[:80])
    assert ungated.gate_coef_ is None and ungated.export().gate is None


@pytest.mark.slow
def test_label_shares_move_the_decision_by_the_difference_of_log_odds(X, Y, taxonomy_, small):
    tuned = {**small, "threshold_folds": 3}
    plain = EfficiencyClassifier(**tuned).fit(X, Y)
    j = taxonomy_.ids.index("convergence_speed")
    here = Y[:, j].mean()
    shifted = EfficiencyClassifier(**tuned, label_shares={"convergence_speed": 0.2}).fit(X, Y)
    expected = np.log(here / (1 - here)) - np.log(0.2 / 0.8)
    assert shifted.cutoffs_[j] - plain.cutoffs_[j] == pytest.approx(expected)
    others = [k for k in range(len(taxonomy_.ids)) if k != j]
    assert np.array_equal(shifted.cutoffs_[others], plain.cutoffs_[others])
    # On papers it was not fitted on, fewer get the category, and a score still reaches the
    # threshold exactly when the category is assigned.
    unseen = load_labels(ROOT / "labels" / "near-miss.csv", taxonomy_).frame()
    assert shifted.predict(unseen)[:, j].sum() < plain.predict(unseen)[:, j].sum()
    scores = shifted.predict_proba(unseen)
    assert np.array_equal(scores >= shifted.thresholds_, shifted.predict(unseen).astype(bool))
    with pytest.raises(ValueError, match="unknown categories: speed"):
        EfficiencyClassifier(**tuned, label_shares={"speed": 0.2}).fit(X, Y)


def test_contrastive_examples_are_trained_on_and_counted_not_stored(X, Y, small):
    from taxonomy.labels.labelfile import LabeledPapers

    examples = LabeledPapers(ids=["c1", "c2"], titles=["An 8-bit optimizer state",
                                                       "A warm-up that halves the steps"],
                             abstracts=["We store Adam states in 8 bits to save memory.",
                                        "Our warm-up reaches the target in half the steps."],
                             labels=[["memory"], ["convergence_speed"]])
    plain = EfficiencyClassifier(**small).fit(X.iloc[:80], Y[:80])
    taught = EfficiencyClassifier(**small, contrastive=examples).fit(X.iloc[:80], Y[:80])
    off = EfficiencyClassifier(**small, contrastive=examples,
                               contrastive_weight=0).fit(X.iloc[:80], Y[:80])
    pairs = list(zip(examples.titles, examples.abstracts, strict=True))
    assert not np.allclose(taught.decision_function(pairs), plain.decision_function(pairs))
    assert np.array_equal(off.coef_, plain.coef_)
    assert taught.export().params["contrastive"] == 2
