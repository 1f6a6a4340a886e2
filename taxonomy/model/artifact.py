"""Saving and loading a trained model: `<name>.joblib` plus its model card `<name>.json`, which
shows the fitted state without unpickling and pins the joblib file by sha256."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import io
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ModelError
from ..io.atomic import atomic_path

if TYPE_CHECKING:  # imported where used: reading a card (the digest) needs neither
    import numpy as np

    from .state import ScoringState


@dataclass
class LoadedModel:
    """A model file's scoring state, its card and where it was read from."""

    state: ScoringState
    card: dict
    path: Path | None  # None for a model that lives only in memory

    @property
    def name(self) -> str:
        return self.card["name"]

    @property
    def version(self) -> str:
        return self.card["version"]

    @functools.cached_property
    def feature_names(self) -> np.ndarray:
        """Names of the model's features, built once per loaded model."""
        return self.state.feature_names()


def sha256_file(path: str | os.PathLike) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def card_path(model_path: str | os.PathLike) -> Path:
    return Path(model_path).with_suffix(".json")


def save_model(state: ScoringState, path: str | os.PathLike, card: dict) -> dict:
    """Write the joblib file and its card, each atomically; returns the full card."""
    import joblib
    from threadpoolctl import threadpool_info

    from .estimator import BLAS_THREADS
    from .state import STATE_FORMAT

    path = Path(path)
    buffer = io.BytesIO()
    joblib.dump(state.to_dict(), buffer, compress=3)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    # Versions (from package metadata: no scikit-learn import) and BLAS the model is fitted with.
    versions = {name.replace("-", "_"): importlib.metadata.version(name)
                for name in ("numpy", "scipy", "scikit-learn", "joblib")}
    blas = {f"{info.get('internal_api')} {info.get('version')}" for info in threadpool_info()
            if info.get("user_api") == "blas"}
    full = {
        "name": path.stem,
        "version": digest[:12],
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "environment": {"python": platform.python_version(), **versions,
                        "blas": ", ".join(sorted(blas)) or "unknown",
                        "blas_threads_while_fitting": BLAS_THREADS,
                        "platform": f"{platform.system()}-{platform.machine()}"},
        "joblib_sha256": digest,
        "format": STATE_FORMAT,
        **card,
        "thresholds": {cid: round(float(t), 6) for cid, t in
                       zip(state.category_ids, state.thresholds, strict=True)},
        "thresholds_rule": "per category, the F1-best threshold on inner out-of-fold "
                           "predictions moved threshold_shrink of the way to 0.5, and the "
                           "relevance gate's probability at least relevance_gate; a category "
                           "is assigned when its score reaches the threshold listed",
        "calibration": {
            "method": "Platt scaling on inner out-of-fold decision margins of the training "
                      "papers (margin = min(category logit - its cutoff, gate logit - gate "
                      "cutoff)): score = sigmoid(slope * margin + offset)",
            **{cid: {"slope": round(float(a), 6), "offset": round(float(b), 6)}
               for cid, (a, b) in zip(state.category_ids, state.calibration, strict=True)}},
        "features": {b.kind: b.width for b in state.blocks},
        "top_terms": state.top_terms(15),
        "params": state.params,
    }
    with atomic_path(path) as tmp_model, atomic_path(card_path(path)) as tmp_card:
        tmp_model.write_bytes(data)
        tmp_card.write_text(json.dumps(full, indent=2, ensure_ascii=False) + "\n",
                            encoding="utf-8")
    return full


def read_card(path: str | os.PathLike) -> dict | None:
    """The card beside a model file, or None when there is none."""
    card_file = card_path(path)
    if not card_file.exists():
        return None
    try:
        return json.loads(card_file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ModelError(f"model card is not valid JSON; restore it, or {_REMEDY}",
                         card_file) from None


def load_model(path: str | os.PathLike, category_ids: list[str] | None = None) -> LoadedModel:
    """Load a model after checking its sha256, its format and its categories."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"no such model file; {_REMEDY}", path)
    if path.suffix.lower() == ".json":
        raise ModelError(f"is a model card, not a model; give the .joblib file beside it "
                         f"({path.with_suffix('.joblib').name})", path)
    card = read_card(path)
    if card is None:
        raise ModelError(f"no model card {card_path(path).name} beside it; {_REMEDY}", path)
    if sha256_file(path) != card.get("joblib_sha256"):
        raise ModelError("does not match the sha256 in its model card (changed or corrupted); "
                         f"restore both files together, or {_REMEDY}", path)
    import joblib

    from .state import ScoringState

    try:
        state = ScoringState.from_dict(joblib.load(path))
    except Exception as exc:  # unpickling can fail in many ways; all mean the same to a user
        raise ModelError(f"is not a model this version of taxonomy can read "
                         f"({type(exc).__name__}); {_REMEDY}", path) from None
    if category_ids is not None and list(state.category_ids) != list(category_ids):
        raise ModelError(f"was trained for categories {state.category_ids}, but the "
                         f"taxonomy now has {list(category_ids)}; {_REMEDY}", path)
    return LoadedModel(state, card, path)


# What to do about a missing or unusable model, for an installed user and in a clone alike.
_REMEDY = ("train one with 'taxonomy train -o DIR' and pass --model DIR/efficiency.joblib, "
           "or drop --model (and unset TAXONOMY_HOME) to use the shipped model")
