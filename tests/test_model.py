"""The model: its features equal scikit-learn's, training is reproducible, loading is checked."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from conftest import MODEL, ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from taxonomy.errors import ModelError
from taxonomy.model.artifact import load_model, save_model
from taxonomy.model.estimator import EfficiencyClassifier
from taxonomy.model.evaluation import KeywordRules, summarize
from taxonomy.model.text import compose
from taxonomy.model.thresholds import best_thresholds


def _fit(taxonomy, labels):
    """A model fitted on ``labels`` with fewer threshold folds than the default, exported."""
    model = EfficiencyClassifier(taxonomy=taxonomy, threshold_folds=3)
    return model.fit(labels.frame(), labels.indicator(taxonomy.ids)).export()


@pytest.fixture(scope="module")
def fitted(taxonomy_, seed_labels):
    return _fit(taxonomy_, seed_labels)


def _reference(state, titles, abstracts):
    """Every block by scikit-learn's TfidfVectorizer.transform with the block's vocabulary and
    idf (the term block by plain counting), side by side."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer

    params = state.params
    docs = compose(titles, abstracts, params["title_repeats"])
    parts = []
    for block in state.blocks:
        if block.kind == "terms":
            tokens = [re.findall(block.token_pattern, d.lower()) for d in docs]
            counts = [[sum(words[i:i + len(t)] == t for t in
                           (re.findall(block.token_pattern, term.lower()) for term in terms)
                           for i in range(len(words)))
                       for terms in block.terms] for words in tokens]
            parts.append(sparse.csr_matrix(np.log1p(np.array(counts, dtype=float))
                                           * block.weight))
            continue
        options = ({"analyzer": "char_wb"} if block.kind == "char_wb" else
                   {"token_pattern": params["token_pattern"], "stop_words": block.stop_words})
        vectorizer = TfidfVectorizer(ngram_range=tuple(block.ngram_range),
                                     sublinear_tf=block.sublinear, lowercase=True,
                                     vocabulary=block.vocabulary, **options)
        vectorizer.idf_ = block.idf
        parts.append(vectorizer.transform(docs) * block.weight)
    return sparse.hstack(parts, format="csr")


def test_features_equal_scikit_learn(fitted, seed_labels):
    assert [b.kind for b in fitted.blocks] == ["word", "char_wb", "terms"]
    titles, abstracts = seed_labels.titles[:50], seed_labels.abstracts[:50]
    ours = fitted.transform(titles, abstracts)
    reference = _reference(fitted, titles, abstracts)
    assert ours.shape == reference.shape
    assert abs(ours - reference).max() < 1e-9
    assert (ours != 0).sum() == (reference != 0).sum()


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab memory training GPU-_.é\n")),
                        max_size=80), min_size=1, max_size=5))
def test_features_equal_scikit_learn_on_odd_text(fitted, texts):
    ours = fitted.transform(texts, texts)
    reference = _reference(fitted, texts, texts)
    assert abs(ours - reference).max() < 1e-9 if ours.nnz or reference.nnz else True
    assert (ours != 0).sum() == (reference != 0).sum()


def test_explanations_rank_equal_contributions_in_feature_order(fitted):
    from dataclasses import replace

    from scipy import sparse

    from taxonomy.tagging.scoring import explain

    width = len(fitted.word_block.vocabulary)
    coef = np.zeros_like(fitted.coef)
    coef[:, [3, 5, 7, 9]] = [2.0, 1.0, 2.0, 2.0]  # three equal, one smaller
    coef[1, 7] = -1.0
    state = replace(fitted, coef=coef)
    words = sparse.csr_matrix((np.ones(5), [3, 4, 5, 7, 9], [0, 5, 5]), shape=(2, width))
    features = sparse.hstack([words, sparse.csr_matrix((2, coef.shape[1] - width))],
                             format="csr")
    names, ids = state.feature_names(), state.category_ids
    assert state.contributions(features, 0, 0, 3) == [(names[3], 2.0), (names[7], 2.0),
                                                      (names[9], 2.0)]
    assert state.contributions(features, 1, 0, 3) == []
    assert explain(state, words, np.array([0, 0]), np.array([1, 0]), 3, names) == [
        f"{ids[1]}: {names[3]}, {names[9]}, {names[5]}; {ids[0]}: {names[3]}, {names[7]}, "
        f"{names[9]}", ""]


@pytest.mark.slow
def test_training_is_byte_reproducible(tmp_path, fitted, taxonomy_, seed_labels):
    again = _fit(taxonomy_, seed_labels)
    first = save_model(fitted, tmp_path / "a.joblib", {})
    second = save_model(again, tmp_path / "b.joblib", {})
    assert first["joblib_sha256"] == second["joblib_sha256"]
    assert (tmp_path / "a.joblib").read_bytes() == (tmp_path / "b.joblib").read_bytes()


def test_best_thresholds_picks_the_f1_maximum():
    scores = np.array([[0.9], [0.7], [0.4], [0.2]])
    y = np.array([[1], [1], [0], [0]])
    # Every threshold in (0.4, 0.7] separates perfectly; the middle of the tied run is taken.
    assert best_thresholds(scores, y, [0.3, 0.5, 0.6, 0.7, 0.8]).tolist() == [0.6]


def test_metrics_exact():
    truth = np.array([[1, 0], [1, 1], [0, 0]])
    guess = np.array([[1, 1], [0, 1], [0, 0]])
    scores = summarize("m", truth, [guess], ["a", "b"])
    assert scores.precision == {"a": 1.0, "b": 0.5}
    assert scores.recall == {"a": 0.5, "b": 1.0}
    assert scores.f1 == pytest.approx({"a": 2 / 3, "b": 2 / 3})
    assert scores.micro_f1[0] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))


def test_keyword_rules_baseline_uses_the_taxonomy_terms(taxonomy_):
    rules = KeywordRules(taxonomy_).fit(None)
    rows = rules.predict([("Gradient checkpointing", "We cut peak memory with gradient "
                                                     "checkpointing."),
                          ("A new dataset", "We release images.")])
    memory = taxonomy_.ids.index("memory")
    assert rows[0, memory] == 1 and rows[1].sum() == 0


@pytest.fixture()
def model_copy(tmp_path):
    for suffix in (".joblib", ".json"):
        shutil.copy(MODEL.with_suffix(suffix), tmp_path / f"efficiency{suffix}")
    return tmp_path / "efficiency.joblib"


def test_committed_model_loads_and_matches_its_card(model_copy, taxonomy_):
    model = load_model(model_copy, taxonomy_.ids)
    assert model.version == model.card["joblib_sha256"][:12]
    assert model.state.thresholds.tolist() == pytest.approx(
        list(model.card["thresholds"].values()), abs=1e-6)


def test_a_model_changed_by_one_byte_is_refused(model_copy):
    data = bytearray(model_copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    model_copy.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match the sha256 in its model card"):
        load_model(model_copy)
    result = subprocess.run([sys.executable, "-m", "taxonomy", "tag", "data/dumps",
                             "-o", str(model_copy.parent / "t.csv"), "--model", str(model_copy)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"taxonomy: error: {model_copy}: does not match")


def test_a_model_file_of_another_format_is_refused(model_copy):
    import hashlib

    joblib.dump({"format": 99}, model_copy)
    card_file = model_copy.with_suffix(".json")
    card = json.loads(card_file.read_text())
    card["joblib_sha256"] = hashlib.sha256(model_copy.read_bytes()).hexdigest()
    card_file.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="is not a model this version of taxonomy can read"):
        load_model(model_copy)


def test_a_model_file_of_the_previous_format_still_loads_and_scores_alike(model_copy,
                                                                         seed_labels):
    # Format 4 held each vocabulary as a list of strings; format 5 as one string of lines.
    import hashlib

    state = joblib.load(model_copy)
    assert state["format"] == 5 and isinstance(state["blocks"][0]["vocabulary"], str)
    for block in state["blocks"]:
        if "vocabulary" in block:
            block["vocabulary"] = block["vocabulary"].split("\n")
    state["format"] = 4
    old = model_copy.with_name("old.joblib")
    joblib.dump(state, old, compress=3)
    card = json.loads(model_copy.with_suffix(".json").read_text())
    card["joblib_sha256"] = hashlib.sha256(old.read_bytes()).hexdigest()
    old.with_suffix(".json").write_text(json.dumps(card))
    titles, abstracts = list(seed_labels.titles[:40]), list(seed_labels.abstracts[:40])
    now, before = load_model(model_copy).state, load_model(old).state
    assert now.equivalent(before, 0.0)
    assert np.array_equal(now.scores(titles, abstracts), before.scores(titles, abstracts))


def test_the_model_file_holds_plain_data_only(model_copy, monkeypatch):
    """No class of this package is pickled, so a model survives any move of the code."""
    from joblib.numpy_pickle import NumpyUnpickler

    modules = []
    find_class = NumpyUnpickler.find_class

    def recording(self, module, name):
        modules.append(module)
        return find_class(self, module, name)

    monkeypatch.setattr(NumpyUnpickler, "find_class", recording)
    state = joblib.load(model_copy)
    assert set(state) >= {"format", "params", "blocks", "coef", "cutoffs", "calibration"}
    assert modules and not [m for m in modules if m.split(".")[0] not in ("numpy", "joblib")]


def test_missing_card_and_other_categories_are_refused(model_copy):
    with pytest.raises(ModelError, match="was trained for categories"):
        load_model(model_copy, ["memory"])
    model_copy.with_suffix(".json").unlink()
    with pytest.raises(ModelError, match="no model card"):
        load_model(model_copy)


def _retrain(*args):
    return subprocess.run([sys.executable, "scripts/retrain", *args], capture_output=True,
                          text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def retrained(tmp_path_factory) -> Path:
    """scripts/retrain on the committed labels, written into an empty directory."""
    out = tmp_path_factory.mktemp("retrained")
    result = _retrain("-o", str(out), "--folds", "2", "--repeats", "1")
    assert result.returncode == 0, result.stderr
    return out / "efficiency.joblib"


@pytest.mark.slow
def test_retrain_reproduces_the_committed_models_predictions(retrained, synthetic_papers):
    """Under any supported versions: every label the same, every score within 1e-9."""
    from taxonomy.io.papers import parse_papers

    dumps, _ = parse_papers(sorted((ROOT / "data" / "dumps").glob("*")))
    titles = [p.title for p in dumps] + [t for t, _ in synthetic_papers]
    abstracts = [p.abstract for p in dumps] + [a for _, a in synthetic_papers]
    committed = load_model(MODEL).state
    again = load_model(retrained).state
    assert len(titles) > 3000
    expected, found = committed.scores(titles, abstracts), again.scores(titles, abstracts)
    assert np.abs(expected - found).max() <= 1e-9
    assert np.array_equal(expected >= committed.thresholds, found >= again.thresholds)


@pytest.mark.slow
def test_retrain_on_unchanged_labels_leaves_the_model_untouched(model_copy):
    files = [model_copy, model_copy.with_suffix(".json")]
    before = [(f.read_bytes(), f.stat().st_mtime_ns) for f in files]
    result = _retrain("-o", str(model_copy.parent))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{model_copy} is unchanged (version ")
    assert "its files were left as they were" in result.stdout
    assert [(f.read_bytes(), f.stat().st_mtime_ns) for f in files] == before


@pytest.fixture()
def better_current_model(model_copy, tmp_path, small_project):
    """Labels changed since the committed model (the small project's, one paper fewer), and
    the model's card claiming a cross-validated macro-F1 of 0.99; the retrain arguments.

    What is checked is the guard, not the model: few labels keep the retrain quick."""
    import pandas as pd

    labels = tmp_path / "labels.csv"
    rows = pd.read_csv(small_project / "labels" / "seed.csv", dtype=str,
                       keep_default_na=False)
    rows.iloc[:-1].to_csv(labels, index=False)  # one paper fewer
    card_file = model_copy.with_suffix(".json")
    card = json.loads(card_file.read_text())
    card["metrics"]["model"]["macro_f1"]["mean"] = 0.99
    card_file.write_text(json.dumps(card))
    return ("-o", str(model_copy.parent), "--labels", str(labels), "--folds", "2",
            "--repeats", "1"), len(rows) - 1


# The refusal and the forced replacement are two tests, so that two workers can run them.
@pytest.mark.slow
def test_retrain_guards_a_better_model(model_copy, better_current_model):
    """Changed labels are cross-validated; a better-scoring current model is kept."""
    args, _ = better_current_model
    files = [model_copy, model_copy.with_suffix(".json")]
    before = [f.read_bytes() for f in files]
    refused = _retrain(*args)
    assert refused.returncode == 2, refused.stderr
    assert "kept the current model: its cross-validated macro-F1 0.9900 beats" in refused.stderr
    assert [f.read_bytes() for f in files] == before


@pytest.mark.slow
def test_retrain_force_replaces_a_better_model(model_copy, better_current_model):
    args, papers = better_current_model
    card_file = model_copy.with_suffix(".json")
    before = card_file.read_bytes()
    forced = _retrain(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    assert card_file.read_bytes() != before
    assert json.loads(card_file.read_text())["training_papers"] == papers
