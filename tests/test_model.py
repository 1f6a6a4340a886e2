"""The model: fast TF-IDF equals scikit-learn's, training is reproducible, loading is checked."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from taxonomy.artifact import load_model, save_model
from taxonomy.categories import load_taxonomy
from taxonomy.errors import ModelError
from taxonomy.evaluate import _metrics, keyword_rules
from taxonomy.labels import load_labels
from taxonomy.model import ModelConfig, best_thresholds, fit

ROOT = Path(__file__).parent.parent
TAXONOMY = load_taxonomy()
LABELS = load_labels(ROOT / "labels" / "seed.csv", TAXONOMY)
SMALL = ModelConfig(threshold_folds=3)


@pytest.fixture(scope="module")
def fitted():
    y = LABELS.indicator(TAXONOMY.ids)
    return fit(LABELS.titles, LABELS.abstracts, y, TAXONOMY, SMALL)


def _docs(titles, abstracts, config):
    return [" ".join([t] * config.title_repeats + [a]) for t, a in zip(titles, abstracts,
                                                                         strict=True)]


def test_fast_tfidf_equals_scikit_learn(fitted):
    titles, abstracts = LABELS.titles[:50], LABELS.abstracts[:50]
    ours = fitted.transform(titles, abstracts)
    reference = fitted.vectorizer.transform(_docs(titles, abstracts, fitted.config))
    assert ours.shape == reference.shape
    assert abs(ours - reference).max() < 1e-6
    assert (ours != 0).sum() == (reference != 0).sum()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab memory training GPU-_.é\n")),
                        max_size=80), min_size=1, max_size=5))
def test_fast_tfidf_equals_scikit_learn_on_odd_text(fitted, texts):
    ours = fitted.transform(texts, texts)
    reference = fitted.vectorizer.transform(_docs(texts, texts, fitted.config))
    assert abs(ours - reference).max() < 1e-6 if ours.nnz or reference.nnz else True
    assert (ours != 0).sum() == (reference != 0).sum()


def test_training_is_byte_reproducible(tmp_path, fitted):
    y = LABELS.indicator(TAXONOMY.ids)
    again = fit(LABELS.titles, LABELS.abstracts, y, TAXONOMY, SMALL)
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
    metrics = _metrics(truth, guess)
    assert metrics["precision"].tolist() == [1.0, 0.5]
    assert metrics["recall"].tolist() == [0.5, 1.0]
    assert metrics["f1"].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert metrics["micro"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))


def test_keyword_rules_baseline_uses_the_taxonomy_terms():
    predict = keyword_rules(TAXONOMY)([], [], None)
    rows = predict(["Gradient checkpointing", "A new dataset"],
                   ["We cut peak memory with gradient checkpointing.", "We release images."])
    memory = TAXONOMY.ids.index("memory")
    assert rows[0, memory] == 1 and rows[1].sum() == 0


@pytest.fixture()
def model_copy(tmp_path):
    for suffix in (".joblib", ".json"):
        shutil.copy(ROOT / "models" / f"efficiency{suffix}", tmp_path / f"efficiency{suffix}")
    return tmp_path / "efficiency.joblib"


def test_committed_model_loads_and_matches_its_card(model_copy):
    model = load_model(model_copy, TAXONOMY.ids)
    assert model.version == model.card["joblib_sha256"][:12]
    assert model.classifier.thresholds.tolist() == list(model.card["thresholds"].values())


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


def test_an_incompatible_scikit_learn_version_is_refused(model_copy):
    card_file = model_copy.with_suffix(".json")
    card = json.loads(card_file.read_text())
    card["scikit_learn"] = "0.24.2"
    card_file.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="was trained with scikit-learn 0.24.2"):
        load_model(model_copy)


def test_missing_card_and_other_categories_are_refused(model_copy):
    with pytest.raises(ModelError, match="was trained for categories"):
        load_model(model_copy, ["memory"])
    model_copy.with_suffix(".json").unlink()
    with pytest.raises(ModelError, match="no model card"):
        load_model(model_copy)


def _retrain(*args):
    return subprocess.run([sys.executable, "scripts/retrain", *args], capture_output=True,
                          text=True, cwd=ROOT)


def test_retrain_reproduces_the_committed_model_and_guards_a_better_one(tmp_path):
    result = _retrain("--models-dir", str(tmp_path), "--folds", "2", "--repeats", "1")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "efficiency.joblib").read_bytes() == \
        (ROOT / "models" / "efficiency.joblib").read_bytes()
    card_file = tmp_path / "efficiency.json"
    card = json.loads(card_file.read_text())
    card["metrics"]["model"]["macro_f1"]["mean"] = 0.99
    card_file.write_text(json.dumps(card))
    before = card_file.read_bytes()
    refused = _retrain("--models-dir", str(tmp_path), "--folds", "2", "--repeats", "1")
    assert refused.returncode == 2
    assert "kept the current model: its cross-validated macro-F1 0.9900 beats" in refused.stderr
    assert card_file.read_bytes() == before
    forced = _retrain("--models-dir", str(tmp_path), "--folds", "2", "--repeats", "1",
                      "--force")
    assert forced.returncode == 0 and card_file.read_bytes() != before
