"""Worker processes: results in input order, the model file each one scores with is the
one the run started with, and a worker that dies is one clear error."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
from conftest import MODEL

from taxonomy.errors import ModelError, TaxonomyError
from taxonomy.model.artifact import load_model, save_model
from taxonomy.tagging import scoring
from taxonomy.tagging.executors import InProcess, Processes, WorkerPool


def _chunks(labels, n: int, size: int = 7) -> list:
    """``n`` chunks of ``size`` of the hand-labeled papers, as a run hands them to workers."""
    return [(labels.titles[i * size:(i + 1) * size], labels.abstracts[i * size:(i + 1) * size],
             [None] * size) for i in range(n)]


@pytest.fixture()
def model_copy(tmp_path) -> Path:
    for suffix in (".joblib", ".json"):
        shutil.copy(MODEL.with_suffix(suffix), tmp_path / f"efficiency{suffix}")
    return tmp_path / "efficiency.joblib"


def _retrain(path: Path) -> None:
    """Replace the model at ``path`` (and its card) by a different one."""
    state = load_model(path).state
    state.calibration = state.calibration * 1.01
    save_model(state, path, {})


@pytest.mark.slow
def test_workers_give_the_in_process_results_in_order(seed_labels):
    model = load_model(MODEL)
    chunks = _chunks(seed_labels, 6)
    here = list(InProcess().map(model, chunks))
    executor = Processes(jobs=2, warmup=0)
    try:
        there = list(executor.map(model, chunks))
    finally:
        executor.close()
    assert len(there) == len(here) == 6
    for (a, terms_a), (b, terms_b) in zip(here, there, strict=True):
        assert np.array_equal(a, b) and terms_a == terms_b


def test_a_wrong_model_hash_is_a_clear_error(seed_labels):
    scoring._model_in_worker.cache_clear()
    with pytest.raises(ModelError, match="changed while this run was tagging"):
        scoring.score_in_worker(str(MODEL), "0" * 64, *_chunks(seed_labels, 1)[0])


@pytest.mark.slow
def test_a_model_retrained_between_two_chunks_is_refused(model_copy, seed_labels):
    model = load_model(model_copy)
    chunks = _chunks(seed_labels, 2)

    def chunks_then_retrain():
        yield chunks[0]  # scored in this process, with the model loaded
        _retrain(model_copy)
        yield chunks[1]  # the workers start now and find another file

    executor = Processes(jobs=2, warmup=1)
    try:
        with pytest.raises(ModelError, match="changed while this run was tagging"):
            list(executor.map(model, chunks_then_retrain()))
    finally:
        executor.close()


def test_a_worker_that_keeps_its_loaded_model_scores_with_it(model_copy, seed_labels):
    scoring._model_in_worker.cache_clear()
    sha = load_model(model_copy).card["joblib_sha256"]
    chunk = _chunks(seed_labels, 1)[0]
    first = scoring.score_in_worker(str(model_copy), sha, *chunk)
    _retrain(model_copy)
    again = scoring.score_in_worker(str(model_copy), sha, *chunk)
    assert np.array_equal(first[0], again[0])  # the model the run started with
    scoring._model_in_worker.cache_clear()
    with pytest.raises(ModelError):  # a worker started now cannot get it any more
        scoring.score_in_worker(str(model_copy), sha, *chunk)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_that_dies_is_one_clear_error():
    pool = WorkerPool(2)
    try:
        with pytest.raises(TaxonomyError, match="a worker process died"):
            pool.result(pool.submit(_die))
        with pytest.raises(TaxonomyError, match="a worker process died"):
            pool.submit(_die)  # the pool is broken now
    finally:
        pool.terminate()
