"""Saving and loading a trained model: `<name>.joblib` plus its model card `<name>.json`.

The card makes the fitted state readable without unpickling (thresholds, top terms, metrics,
versions) and pins the joblib file by sha256, so a changed or corrupted file is refused
instead of silently giving wrong answers.
"""

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

import joblib

from .atomic import atomic_path
from .errors import ModelError
from .model import Classifier


@dataclass
class LoadedModel:
    classifier: Classifier
    card: dict
    path: Path

    @property
    def name(self) -> str:
        return self.card["name"]

    @property
    def version(self) -> str:
        return self.card["version"]

    @functools.cached_property
    def feature_names(self):
        """Names of the model's features (built once; the vectorizer rebuilds them per call)."""
        return self.classifier.feature_names()


def _sklearn_version() -> str:
    # Read from the package metadata: importing scikit-learn itself takes a second.
    return importlib.metadata.version("scikit-learn")


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def card_path(model_path: str | os.PathLike) -> Path:
    return Path(model_path).with_suffix(".json")


def _model_bytes(classifier: Classifier) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(classifier, buffer, compress=3)
    return buffer.getvalue()


def save_model(classifier: Classifier, path: str | os.PathLike, card: dict) -> dict:
    """Write the joblib file and its card, each atomically; returns the full card."""
    path = Path(path)
    data = _model_bytes(classifier)
    digest = hashlib.sha256(data).hexdigest()
    full = {
        "name": path.stem,
        "version": digest[:12],
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "python": platform.python_version(),
        "scikit_learn": _sklearn_version(),
        "joblib_sha256": digest,
        **card,
        "thresholds": {cid: float(t) for cid, t in
                       zip(classifier.category_ids, classifier.thresholds, strict=True)},
        "vocabulary_size": len(classifier.vocabulary),
        "top_terms": classifier.top_terms(15),
        "config": classifier.config.to_dict(),
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
        raise ModelError("model card is not valid JSON; restore it or run scripts/retrain",
                         card_file) from None


def load_model(path: str | os.PathLike, category_ids: list[str] | None = None) -> LoadedModel:
    """Load a model after checking its sha256, scikit-learn version and categories."""
    path = Path(path)
    if not path.is_file():
        raise ModelError("no such model file; run scripts/retrain or pass --model PATH", path)
    card = read_card(path)
    if card is None:
        raise ModelError(f"no model card {card_path(path).name} beside it; run scripts/retrain",
                         path)
    if sha256_file(path) != card.get("joblib_sha256"):
        raise ModelError("does not match the sha256 in its model card (changed or corrupted); "
                         "restore it from git or run scripts/retrain", path)
    trained, installed = str(card.get("scikit_learn", "")), _sklearn_version()
    if trained.split(".")[:2] != installed.split(".")[:2]:
        raise ModelError(f"was trained with scikit-learn {trained}, but {installed} "
                         f"is installed; install scikit-learn=={trained} or run scripts/retrain",
                         path)
    try:
        classifier = joblib.load(path)
    except Exception as exc:  # unpickling can fail in many ways; all mean the same to a user
        raise ModelError(f"cannot be loaded ({type(exc).__name__}); run scripts/retrain",
                         path) from None
    if not isinstance(classifier, Classifier):
        raise ModelError("is not a taxonomy model; run scripts/retrain", path)
    if category_ids is not None and list(classifier.category_ids) != list(category_ids):
        raise ModelError(f"was trained for categories {classifier.category_ids}, but the "
                         f"taxonomy now has {list(category_ids)}; run scripts/retrain", path)
    return LoadedModel(classifier, card, path)
